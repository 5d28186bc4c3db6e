// Readers for what a user hands `mlsc attest`: hyperparameters (k=v and a JSON file), the metrics
// file, and the NAME=BUNDLE[:WEIGHT] / MODEL=SIGNATURE pairs. All of it is untrusted text: sizes
// and nesting are bounded and every error says what was wrong.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "mlsc/core/expected.hpp"

namespace mlsc::provenance {

// A hyperparameter or metrics file larger than this is refused unread.
inline constexpr std::size_t kMaxInputJsonBytes = std::size_t{16} << 20;
inline constexpr std::size_t kMaxInputJsonDepth = 32;
inline constexpr std::size_t kMaxMetrics = 10'000;
inline constexpr std::size_t kMaxMetricNameBytes = 256;

// "lr=0.001" -> {"lr", 0.001}. The value is a JSON number, true, false or null when it reads as
// one entirely, else the text as a string. The key must be non-empty printable text.
Expected<std::pair<std::string, nlohmann::ordered_json>> parse_param_assignment(
    std::string_view kv);

// A hyperparameter file: one JSON object (any values, nesting at most kMaxInputJsonDepth).
Expected<nlohmann::ordered_json> parse_params_text(std::string_view text);

// A metrics file: a JSON object whose leaves are numbers, strings or booleans; nested objects
// are flattened to dotted names ({"eval": {"loss": 0.3}} -> {"eval.loss": 0.3}). Arrays and
// nulls are refused: a metric is one value.
Expected<nlohmann::ordered_json> parse_metrics_text(std::string_view text);

// Reads a whole file of at most kMaxInputJsonBytes.
Expected<std::string> read_small_file(const std::filesystem::path& file,
                                      std::size_t max_bytes = kMaxInputJsonBytes);

// --dataset NAME=MANIFEST_BUNDLE[:WEIGHT]. The weight is the text after the last ':' when that
// text is a finite non-negative number (so a path may itself contain ':').
struct DatasetSpec {
  std::string name;
  std::filesystem::path manifest_bundle;
  std::optional<double> weight;
};
Expected<DatasetSpec> parse_dataset_spec(std::string_view text);

// --base-model DIR_OR_FILE=SIGNATURE_BUNDLE (split at the last '=').
struct BaseModelSpec {
  std::filesystem::path model;
  std::filesystem::path signature;
};
Expected<BaseModelSpec> parse_base_model_spec(std::string_view text);

}  // namespace mlsc::provenance
