// Step provenance: an in-toto Statement v1 with a SLSA Provenance v1 predicate whose buildType
// `https://mlsc.dev/ml-step/v1` describes one ML step (training, fine-tuning, evaluation or data
// processing): what it produced (subjects), what it consumed (datasets with their manifest
// digests and mixture weights, base models with their signatures, the code commit, the
// framework environment BOM), how it was invoked, and the metrics it reported.
// docs/provenance.md specifies every field.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlsc/core/expected.hpp"
#include "mlsc/provenance/git_state.hpp"
#include "mlsc/provenance/step_inputs.hpp"

namespace mlsc::provenance {

inline constexpr std::string_view kSlsaProvenanceV1 = "https://slsa.dev/provenance/v1";
inline constexpr std::string_view kMlStepBuildType = "https://mlsc.dev/ml-step/v1";
inline constexpr std::string_view kDatasetManifestPredicate =
    "https://mlsc.dev/dataset-manifest/v1";
inline constexpr std::string_view kDefaultBuilderId = "https://mlsc.dev/builder/local";
inline constexpr std::string_view kCycloneDxMediaType = "application/vnd.cyclonedx+json";

enum class StepKind : std::uint8_t { train, fine_tune, evaluate, data_processing };
std::string_view to_string(StepKind k);  // "train", "fine-tune", "evaluate", "data-processing"
std::optional<StepKind> parse_step_kind(std::string_view text);

// The subject of one output: a file's SHA-256 named by its path, or a directory's OpenSSF model
// digest (the subject digest `mlsc sign` would give it) named "<dir>/".
Expected<nlohmann::ordered_json> output_subject(const std::filesystem::path& output);

// The resolvedDependencies entries. `weight` is the dataset's mixture weight.
Expected<nlohmann::ordered_json> dataset_dependency(const std::string& name,
                                                    const std::filesystem::path& manifest_bundle,
                                                    double weight);
// Reads the model's signature bundle and re-hashes the model as it was signed: a base model
// that no longer matches its signature is refused, not recorded.
Expected<nlohmann::ordered_json> base_model_dependency(const BaseModelSpec& spec);
nlohmann::ordered_json code_dependency(const GitState& state);
Expected<nlohmann::ordered_json> environment_dependency(const std::filesystem::path& bom);
// The metrics byproduct: the file's digest and every metric as an annotation.
Expected<nlohmann::ordered_json> metrics_byproduct(const std::filesystem::path& metrics);

struct StepDescription {
  StepKind step = StepKind::train;
  std::vector<nlohmann::ordered_json> subjects;
  std::vector<nlohmann::ordered_json> dependencies;
  std::vector<std::string> command;
  nlohmann::ordered_json hyperparameters = nlohmann::ordered_json::object();
  std::vector<nlohmann::ordered_json> byproducts;
  std::string builder_id = std::string(kDefaultBuilderId);
  std::string invocation_id;  // empty: a random UUID
  std::string started_on;     // RFC 3339; empty: left out
  std::string finished_on;    // RFC 3339; empty: left out
};

// The statement. Refuses no subjects, an empty command, or a builder id that is not a URI.
Expected<nlohmann::ordered_json> build_step_statement(const StepDescription& d);

// What a verifier reads back from a step statement, after checking its shape: the buildType,
// the step, subjects with SHA-256 digests, dependencies with known kinds.
struct StepSubject {
  std::string name;
  std::string sha256;
};
struct StepDependency {
  std::string kind;  // dataset, base_model, code, environment, or another annotation value
  std::string name;
  std::string uri;
  std::string digest;  // "sha256:<hex>" or "gitCommit:<hex>"
};
struct StepProvenance {
  StepKind step = StepKind::train;
  std::string builder_id;
  std::vector<StepSubject> subjects;
  std::vector<StepDependency> dependencies;
  std::vector<std::string> command;
};
Expected<StepProvenance> parse_step_provenance(const nlohmann::json& statement);

// "2026-11-23T15:17:28Z" for a time point.
std::string rfc3339_utc(std::chrono::system_clock::time_point t);
bool is_rfc3339(std::string_view s);
std::string random_uuid();

}  // namespace mlsc::provenance
