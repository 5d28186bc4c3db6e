// The provenance rule: a SLSA v1 statement names the artifact as a subject, was built by a
// trusted builder (runDetails.builder.id) and signed by one of that builder's keys; with
// inputs_admitted, every resolvedDependency is itself admitted by the policy.
#include <algorithm>

#include "engine.hpp"

namespace mlsc::policy::detail {
namespace {

constexpr std::size_t kMaxDependencies = 4096;

struct BuilderMatch {
  const Evidence* evidence = nullptr;
  const Builder* builder = nullptr;
  std::string problem;  // why the first candidate was not trusted
};

BuilderMatch trusted_provenance(const std::vector<const Evidence*>& candidates,
                                const std::vector<const Builder*>& builders,
                                const std::vector<std::string>& build_types) {
  BuilderMatch m;
  for (const auto* e : candidates) {
    const std::string id =
        json_text(json_path(e->statement, {"predicate", "runDetails", "builder", "id"}));
    const std::string build_type =
        json_text(json_path(e->statement, {"predicate", "buildDefinition", "buildType"}));
    const auto b = std::find_if(builders.begin(), builders.end(),
                                [&](const Builder* x) { return x->id == id; });
    std::string problem;
    if (b == builders.end()) {
      problem = e->file.string() + ": builder '" + id + "' is not a trusted builder";
    } else if (!build_types.empty() &&
               std::find(build_types.begin(), build_types.end(), build_type) == build_types.end()) {
      problem = e->file.string() + ": buildType '" + build_type + "' is not one of " +
                join(build_types, ", ");
    } else if (!verified_by_any(*e, (*b)->signed_by)) {
      problem = e->file.string() + ": not signed by a key of builder " + (*b)->name + " (" +
                join((*b)->signed_by, ", ") + ")";
    } else {
      m.evidence = e;
      m.builder = *b;
      return m;
    }
    if (m.problem.empty()) m.problem = problem;
  }
  return m;
}

std::optional<ArtifactKind> kind_of_input(const std::string& kind) {
  if (kind == "dataset") return ArtifactKind::dataset;
  if (kind == "base_model" || kind == "model") return ArtifactKind::model;
  if (kind == "environment") return ArtifactKind::environment;
  return std::nullopt;
}

std::string failed_rules(const Decision& d) {
  std::vector<std::string> parts;
  for (const auto& r : d.results) {
    if (!r.passed) parts.push_back(r.id + ": " + r.reason);
  }
  return join(parts, "; ", 3);
}

}  // namespace

// Empty when the input was admitted, else why not.
std::string Engine::admit_input(const ProvenanceRule& r, const nlohmann::json& dep,
                                const Subject& parent, int depth, std::set<std::string>& path,
                                Decision& d) {
  const std::string kind = json_text(json_path(dep, {"annotations", "kind"}));
  if (std::find(r.input_kinds.begin(), r.input_kinds.end(), kind) == r.input_kinds.end()) {
    return {};
  }
  std::string label = json_text(json_path(dep, {"name"}));
  if (label.empty()) label = json_text(json_path(dep, {"uri"}));
  if (label.empty()) label = "(unnamed)";
  const auto artifact_kind = kind_of_input(kind);
  if (!artifact_kind) return "input " + label + ": kind '" + kind + "' has no policy rules";
  const std::string hex = json_text(json_path(dep, {"digest", "sha256"}));
  if (hex.empty()) return "input " + label + " has no sha256 digest";
  const std::string digest = "sha256:" + hex;
  if (path.count(digest) != 0) return "input " + label + " (" + digest + ") forms a cycle";
  if (depth + 1 > r.max_depth) {
    return "input " + label + ": deeper than max_depth " + std::to_string(r.max_depth);
  }
  Subject input = input_subject(dep, *artifact_kind, digest);
  // An input inherits its artifact's labels: what a third-party model was made from is
  // third-party too, so `when: {third_party: true}` rules follow the provenance down.
  input.labels = parent.labels;
  Decision child = evaluate(input, depth + 1, path);
  std::string why;
  if (!child.admitted()) {
    why = "input " + label + " (" + kind + ", " + digest + ") not admitted: " + failed_rules(child);
  }
  d.inputs.push_back(std::move(child));
  return why;
}

RuleResult Engine::provenance(const ProvenanceRule& r, const Subject& s, int depth,
                              std::set<std::string>& path, Decision& d) {
  const auto candidates = pool_.about(kSlsaProvenanceV1, s.digests);
  if (candidates.empty()) {
    if (!r.required) return pass("no provenance supplied; not required");
    return fail("no provenance names " + s.display +
                (s.digests.empty()
                     ? std::string(" (no digest known; sign it or give a file)")
                     : " (" + join({s.digests.begin(), s.digests.end()}, ", ") + ")"));
  }
  std::vector<const Builder*> builders;
  if (r.builders.empty()) {
    for (const auto& b : policy_.builders) builders.push_back(&b);
  } else {
    for (const auto& name : r.builders) builders.push_back(policy_.builder(name));
  }
  const BuilderMatch m = trusted_provenance(candidates, builders, r.build_types);
  if (m.evidence == nullptr) return fail(m.problem);
  const std::string by = m.evidence->file.string() + " built by " + m.builder->name +
                         ", signed by " + m.evidence->signer;
  if (!r.inputs_admitted) return pass(by);

  const auto* deps =
      json_path(m.evidence->statement, {"predicate", "buildDefinition", "resolvedDependencies"});
  if (deps != nullptr && !deps->is_array())
    return fail(by + ": resolvedDependencies is not a list");
  if (deps != nullptr && deps->size() > kMaxDependencies) return fail(by + ": too many inputs");
  std::vector<std::string> problems;
  const std::size_t before = d.inputs.size();
  for (const auto& dep : deps != nullptr ? *deps : nlohmann::json::array()) {
    if (!dep.is_object()) {
      problems.push_back("a resolvedDependencies entry is not an object");
      continue;
    }
    std::string why = admit_input(r, dep, s, depth, path, d);
    if (!why.empty()) problems.push_back(std::move(why));
  }
  if (!problems.empty()) return fail(by + "; " + join(problems, "; ", 4));
  return pass(by + "; " + std::to_string(d.inputs.size() - before) + " input(s) admitted");
}

}  // namespace mlsc::policy::detail
