#include "mlsc/provenance/step_provenance.hpp"

#include <openssl/rand.h>

#include <array>
#include <cctype>
#include <ctime>

#include "mlsc/core/bytes.hpp"
#include "mlsc/dataset/manifest.hpp"
#include "mlsc/sign/bundle.hpp"
#include "mlsc/sign/hashing.hpp"
#include "mlsc/sign/statement.hpp"
#include "mlsc/sign/statement_bundle.hpp"
#include "mlsc/sign/verify.hpp"

namespace mlsc::provenance {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

constexpr std::size_t kMaxBomBytes = std::size_t{64} << 20;
constexpr std::size_t kMaxDirtyPathsRecorded = 1000;

// The name a path is recorded under: relative to the working directory when it lies inside it,
// POSIX separators, no "./" noise.
std::string recorded_name(const fs::path& p) {
  fs::path normal = p.lexically_normal();
  if (normal.is_absolute()) {
    std::error_code ec;
    const fs::path rel = normal.lexically_relative(fs::current_path(ec));
    if (!ec && !rel.empty() && *rel.begin() != "..") normal = rel;
  }
  std::string s = normal.generic_string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

Expected<std::string> sha256_of_file(const fs::path& file) {
  auto d = sign::hash_file(file, sign::HashType::sha256);
  if (!d) return Error(file.string() + ": " + d.error().describe());
  return d->hex();
}

// The signed statement of a bundle, parsed with the same bounds the verifier uses.
Expected<json> bundle_statement(const sign::Bundle& b, const fs::path& file) {
  if (b.envelope.payload_type != sign::kInTotoPayloadType)
    return Error(file.string() + ": the bundle's payload is not an in-toto statement");
  const std::string_view payload = as_chars(b.envelope.payload);
  if (sign::json_nesting_exceeds(payload, sign::kMaxBundleDepth))
    return Error(file.string() + ": statement nested too deeply");
  auto doc = json::parse(payload, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return Error(file.string() + ": the signed statement is not a JSON object");
  return doc;
}

std::string string_at(const json& object, std::string_view key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool is_uri(std::string_view s) {
  const auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 ||
      std::isalpha(static_cast<unsigned char>(s[0])) == 0)
    return false;
  for (const char c : s) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::string_view to_string(StepKind k) {
  switch (k) {
    case StepKind::train:
      return "train";
    case StepKind::fine_tune:
      return "fine-tune";
    case StepKind::evaluate:
      return "evaluate";
    case StepKind::data_processing:
      return "data-processing";
  }
  return "?";
}

std::optional<StepKind> parse_step_kind(std::string_view text) {
  for (const auto k :
       {StepKind::train, StepKind::fine_tune, StepKind::evaluate, StepKind::data_processing}) {
    if (to_string(k) == text) return k;
  }
  return std::nullopt;
}

Expected<ordered_json> output_subject(const fs::path& output) {
  std::error_code ec;
  const auto status = fs::status(output, ec);
  if (fs::is_directory(status)) {
    sign::HashOptions options;
    auto manifest = sign::hash_model(output, options);
    if (!manifest) return Error(output.string() + ": " + manifest.error().describe());
    auto root = manifest->root_digest();
    if (!root) return root.error();
    return ordered_json{{"name", recorded_name(output) + "/"},
                        {"digest", {{"sha256", root->hex()}}}};
  }
  if (!fs::is_regular_file(status)) return Error(output.string() + ": no such file or directory");
  auto hex = sha256_of_file(output);
  if (!hex) return hex.error();
  return ordered_json{{"name", recorded_name(output)}, {"digest", {{"sha256", *hex}}}};
}

Expected<ordered_json> dataset_dependency(const std::string& name, const fs::path& manifest_bundle,
                                          double weight) {
  auto bundle = sign::read_bundle(manifest_bundle);
  if (!bundle) return Error(manifest_bundle.string() + ": " + bundle.error().describe());
  auto statement = bundle_statement(*bundle, manifest_bundle);
  if (!statement) return statement.error();
  // The dataset module owns the manifest format: it checks the predicate type, the one subject
  // and that its digest is the Merkle root of the listed files and records.
  auto manifest = dataset::manifest_from_statement(*statement);
  if (!manifest)
    return Error(manifest_bundle.string() +
                 ": not a dataset manifest: " + manifest.error().describe());
  if (manifest->name != name)
    return Error("--dataset " + name + ": the manifest " + manifest_bundle.string() +
                 " is for dataset \"" + manifest->name + "\"");
  auto bundle_digest = sha256_of_file(manifest_bundle);
  if (!bundle_digest) return bundle_digest.error();
  return ordered_json{{"name", name},
                      {"digest", {{"sha256", manifest->merkle_root}}},
                      {"annotations",
                       {{"kind", "dataset"},
                        {"mixtureWeight", weight},
                        {"manifest", {{"sha256", *bundle_digest}}}}}};
}

Expected<ordered_json> base_model_dependency(const BaseModelSpec& spec) {
  auto bundle = sign::read_bundle(spec.signature);
  if (!bundle) return Error(spec.signature.string() + ": " + bundle.error().describe());
  if (bundle->envelope.payload_type != sign::kInTotoPayloadType)
    return Error(spec.signature.string() + ": the bundle's payload is not an in-toto statement");
  auto manifest = sign::parse_statement(as_chars(bundle->envelope.payload));
  if (!manifest) return Error(spec.signature.string() + ": " + manifest.error().describe());
  auto root = manifest->root_digest();
  if (!root) return root.error();
  sign::VerifyOptions options;
  options.signature = fs::absolute(spec.signature);
  auto diff = sign::verify_model(spec.model, *manifest, options);
  if (!diff) return Error(spec.model.string() + ": " + diff.error().describe());
  if (!diff->ok())
    return Error(spec.model.string() + ": the base model does not match " +
                 spec.signature.string() + " (" + std::to_string(diff->changed.size()) +
                 " changed, " + std::to_string(diff->missing.size()) + " missing, " +
                 std::to_string(diff->extra.size()) + " extra files)");
  auto bundle_digest = sha256_of_file(spec.signature);
  if (!bundle_digest) return bundle_digest.error();
  return ordered_json{{"name", recorded_name(spec.model)},
                      {"digest", {{"sha256", root->hex()}}},
                      {"annotations",
                       {{"kind", "base_model"},
                        {"signature", bundle->document},
                        {"signatureDigest", {{"sha256", *bundle_digest}}}}}};
}

ordered_json code_dependency(const GitState& state) {
  ordered_json annotations = {{"kind", "code"}, {"dirty", state.dirty()}};
  if (state.dirty()) {
    ordered_json paths = ordered_json::array();
    for (std::size_t i = 0; i < state.dirty_paths.size() && i < kMaxDirtyPathsRecorded; ++i)
      paths.push_back(state.dirty_paths[i]);
    annotations["dirtyPaths"] = std::move(paths);
    if (state.dirty_paths.size() > kMaxDirtyPathsRecorded)
      annotations["dirtyPathCount"] = state.dirty_paths.size();
  }
  return ordered_json{{"name", state.workdir.filename().string()},
                      {"uri", code_uri(state)},
                      {"digest", {{"gitCommit", state.commit}}},
                      {"annotations", std::move(annotations)}};
}

Expected<ordered_json> environment_dependency(const fs::path& bom) {
  auto text = read_small_file(bom, kMaxBomBytes);
  if (!text) return text.error();
  if (sign::json_nesting_exceeds(*text, sign::kMaxBundleDepth))
    return Error(bom.string() + ": nested too deeply");
  const auto doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || string_at(doc, "bomFormat") != "CycloneDX")
    return Error(bom.string() + ": not a CycloneDX JSON BOM (write one with mlsc bom)");
  auto digest = sign::hash_bytes(sign::HashType::sha256, as_bytes(*text));
  if (!digest) return digest.error();
  return ordered_json{{"name", "bom.cdx.json"},
                      {"digest", {{"sha256", digest->hex()}}},
                      {"mediaType", kCycloneDxMediaType},
                      {"annotations", {{"kind", "environment"}}}};
}

Expected<ordered_json> metrics_byproduct(const fs::path& metrics) {
  auto text = read_small_file(metrics);
  if (!text) return text.error();
  auto flat = parse_metrics_text(*text);
  if (!flat) return Error(metrics.string() + ": " + flat.error().describe());
  auto digest = sign::hash_bytes(sign::HashType::sha256, as_bytes(*text));
  if (!digest) return digest.error();
  return ordered_json{{"name", "metrics.json"},
                      {"digest", {{"sha256", digest->hex()}}},
                      {"annotations", std::move(*flat)}};
}

Expected<ordered_json> build_step_statement(const StepDescription& d) {
  if (d.subjects.empty()) return Error("a step statement needs at least one output artifact");
  if (d.command.empty()) return Error("a step statement needs the command (after --)");
  if (!is_uri(d.builder_id)) return Error("builder id \"" + d.builder_id + "\" is not a URI");
  for (std::size_t i = 0; i < d.subjects.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (d.subjects[i]["name"] == d.subjects[j]["name"])
        return Error("output artifact " + d.subjects[i]["name"].get<std::string>() +
                     " given twice");
    }
  }
  ordered_json metadata = {
      {"invocationId", d.invocation_id.empty() ? random_uuid() : d.invocation_id}};
  if (!d.started_on.empty()) metadata["startedOn"] = d.started_on;
  if (!d.finished_on.empty()) metadata["finishedOn"] = d.finished_on;
  ordered_json build = {{"buildType", kMlStepBuildType},
                        {"externalParameters",
                         {{"step", to_string(d.step)},
                          {"command", d.command},
                          {"hyperparameters", d.hyperparameters}}},
                        {"internalParameters", {{"mlscVersion", MLSC_VERSION}}},
                        {"resolvedDependencies", d.dependencies}};
  ordered_json run = {{"builder", {{"id", d.builder_id}}}, {"metadata", std::move(metadata)}};
  if (!d.byproducts.empty()) run["byproducts"] = d.byproducts;
  return ordered_json{
      {"_type", sign::kInTotoStatementV1},
      {"subject", d.subjects},
      {"predicateType", kSlsaProvenanceV1},
      {"predicate", {{"buildDefinition", std::move(build)}, {"runDetails", std::move(run)}}}};
}

std::string rfc3339_utc(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 32> buf{};
  const auto n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf.data(), n);
}

bool is_rfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS, optional fraction, then Z or +HH:MM / -HH:MM.
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (s.size() < kShape.size() + 1) return false;
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(s[i])) != 0;
    if (kShape[i] == 'd' ? !digit : s[i] != kShape[i]) return false;
  }
  std::size_t i = kShape.size();
  if (s[i] == '.') {
    const std::size_t start = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) ++i;
    if (i == start) return false;
  }
  const std::string_view zone = s.substr(i);
  if (zone == "Z") return true;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':' &&
         std::isdigit(static_cast<unsigned char>(zone[1])) != 0 &&
         std::isdigit(static_cast<unsigned char>(zone[2])) != 0 &&
         std::isdigit(static_cast<unsigned char>(zone[4])) != 0 &&
         std::isdigit(static_cast<unsigned char>(zone[5])) != 0;
}

std::string random_uuid() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    // Unreachable with a working OpenSSL; the id then still differs per call by the clock.
    const auto now = std::chrono::system_clock::now().time_since_epoch().count();
    for (std::size_t i = 0; i < b.size(); ++i)
      b[i] = static_cast<unsigned char>(now >> (8 * (i % 8)));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += kHex[b[i] >> 4];
    s += kHex[b[i] & 0x0f];
  }
  return s;
}

}  // namespace mlsc::provenance
