// Reading a step statement back (the verifier's side): every field checked for type before it
// is used, so a signed but malformed statement is an error, never a crash.
#include <string>

#include "mlsc/provenance/step_provenance.hpp"
#include "mlsc/sign/statement_bundle.hpp"

namespace mlsc::provenance {

using nlohmann::json;

namespace {

const json* object_at(const json& parent, std::string_view key) {
  const auto it = parent.find(key);
  return it != parent.end() && it->is_object() ? &*it : nullptr;
}

std::string string_at(const json& object, std::string_view key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool is_lower_hex(std::string_view s, std::size_t size) {
  if (s.size() != size) return false;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Expected<std::vector<StepSubject>> read_subjects(const json& statement) {
  const auto it = statement.find("subject");
  if (it == statement.end() || !it->is_array() || it->empty())
    return Error("statement: no subject");
  std::vector<StepSubject> out;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& s = (*it)[i];
    const json* digest = s.is_object() ? object_at(s, "digest") : nullptr;
    StepSubject subject{s.is_object() ? string_at(s, "name") : "",
                        digest ? string_at(*digest, "sha256") : ""};
    if (subject.name.empty() || !is_lower_hex(subject.sha256, 64))
      return Error("statement: subject[" + std::to_string(i) +
                   "] needs a name and a sha256 digest");
    out.push_back(std::move(subject));
  }
  return out;
}

Expected<StepDependency> read_dependency(const json& d, std::size_t i) {
  const std::string where = "resolvedDependencies[" + std::to_string(i) + "]";
  if (!d.is_object()) return Error(where + ": not an object");
  StepDependency dep;
  dep.name = string_at(d, "name");
  dep.uri = string_at(d, "uri");
  const json* annotations = object_at(d, "annotations");
  dep.kind = annotations ? string_at(*annotations, "kind") : "";
  if (dep.kind.empty()) return Error(where + ": annotations.kind is missing");
  const json* digest = object_at(d, "digest");
  if (digest == nullptr || digest->empty()) return Error(where + ": no digest");
  for (const auto& [algorithm, value] : digest->items()) {
    if (!value.is_string() || value.get_ref<const std::string&>().empty())
      return Error(where + ": digest " + algorithm + " is not a string");
  }
  const std::string sha = string_at(*digest, "sha256");
  const std::string commit = string_at(*digest, "gitCommit");
  if (!sha.empty()) {
    if (!is_lower_hex(sha, 64)) return Error(where + ": sha256 is not 64 lowercase hex digits");
    dep.digest = "sha256:" + sha;
  } else if (!commit.empty()) {
    if (!is_lower_hex(commit, 40))
      return Error(where + ": gitCommit is not 40 lowercase hex digits");
    dep.digest = "gitCommit:" + commit;
  } else {
    dep.digest = digest->begin().key() + ":" + digest->begin()->get<std::string>();
  }
  if (dep.kind == "code" && commit.empty()) return Error(where + ": code without a gitCommit");
  return dep;
}

Expected<std::vector<std::string>> read_command(const json& external) {
  const auto it = external.find("command");
  if (it == external.end() || !it->is_array() || it->empty())
    return Error("externalParameters.command is not a non-empty array");
  std::vector<std::string> argv;
  for (const auto& a : *it) {
    if (!a.is_string()) return Error("externalParameters.command holds a non-string");
    argv.push_back(a.get<std::string>());
  }
  return argv;
}

}  // namespace

Expected<StepProvenance> parse_step_provenance(const json& statement) {
  if (!statement.is_object()) return Error("statement: not an object");
  if (string_at(statement, "_type") != sign::kInTotoStatementV1)
    return Error("statement: _type is not in-toto Statement v1");
  if (string_at(statement, "predicateType") != kSlsaProvenanceV1)
    return Error("statement: predicateType is not " + std::string(kSlsaProvenanceV1));
  StepProvenance p;
  auto subjects = read_subjects(statement);
  if (!subjects) return subjects.error();
  p.subjects = std::move(*subjects);
  const json* predicate = object_at(statement, "predicate");
  const json* build = predicate ? object_at(*predicate, "buildDefinition") : nullptr;
  if (build == nullptr) return Error("predicate.buildDefinition is missing");
  if (string_at(*build, "buildType") != kMlStepBuildType)
    return Error("buildType is \"" + string_at(*build, "buildType") + "\", not " +
                 std::string(kMlStepBuildType));
  const json* external = object_at(*build, "externalParameters");
  if (external == nullptr) return Error("buildDefinition.externalParameters is missing");
  const auto step = parse_step_kind(string_at(*external, "step"));
  if (!step)
    return Error("externalParameters.step is not train, fine-tune, evaluate or data-processing");
  p.step = *step;
  auto command = read_command(*external);
  if (!command) return command.error();
  p.command = std::move(*command);
  if (object_at(*external, "hyperparameters") == nullptr)
    return Error("externalParameters.hyperparameters is not an object");
  const auto deps = build->find("resolvedDependencies");
  if (deps != build->end()) {
    if (!deps->is_array()) return Error("resolvedDependencies is not an array");
    for (std::size_t i = 0; i < deps->size(); ++i) {
      auto dep = read_dependency((*deps)[i], i);
      if (!dep) return dep.error();
      p.dependencies.push_back(std::move(*dep));
    }
  }
  const json* run = object_at(*predicate, "runDetails");
  const json* builder = run ? object_at(*run, "builder") : nullptr;
  p.builder_id = builder ? string_at(*builder, "id") : "";
  if (p.builder_id.empty()) return Error("runDetails.builder.id is missing");
  return p;
}

}  // namespace mlsc::provenance
