#include "mlsc/provenance/step_inputs.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>

#include "mlsc/sign/bundle.hpp"

namespace mlsc::provenance {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

bool printable(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// A JSON object from untrusted text: bounded in size and depth before the parser sees it.
Expected<ordered_json> parse_object(std::string_view text, std::string_view what) {
  if (text.size() > kMaxInputJsonBytes)
    return Error(std::string(what) + ": larger than " + std::to_string(kMaxInputJsonBytes) +
                 " bytes");
  if (sign::json_nesting_exceeds(text, kMaxInputJsonDepth))
    return Error(std::string(what) + ": nested more than " + std::to_string(kMaxInputJsonDepth) +
                 " levels deep");
  auto doc = ordered_json::parse(text, nullptr, false);
  if (doc.is_discarded()) return Error(std::string(what) + ": not valid JSON");
  if (!doc.is_object()) return Error(std::string(what) + ": not a JSON object");
  return doc;
}

Expected<void> flatten_metrics(const ordered_json& node, const std::string& prefix,
                               ordered_json& out) {
  for (const auto& [key, value] : node.items()) {
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    if (key.empty() || name.size() > kMaxMetricNameBytes || !printable(name))
      return Error("metrics: a metric name is empty, longer than 256 bytes or not printable");
    if (value.is_object()) {
      if (auto ok = flatten_metrics(value, name, out); !ok) return ok;
      continue;
    }
    if (!(value.is_number() || value.is_string() || value.is_boolean()))
      return Error("metrics: \"" + name + "\" is not a number, string or boolean");
    if (value.is_number_float() && !std::isfinite(value.get<double>()))
      return Error("metrics: \"" + name + "\" is not finite");
    if (out.contains(name)) return Error("metrics: \"" + name + "\" appears twice");
    if (out.size() >= kMaxMetrics)
      return Error("metrics: more than " + std::to_string(kMaxMetrics) + " metrics");
    out[name] = value;
  }
  return {};
}

std::optional<double> parse_weight(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v < 0)
    return std::nullopt;
  return v;
}

}  // namespace

Expected<std::pair<std::string, ordered_json>> parse_param_assignment(std::string_view kv) {
  const auto eq = kv.find('=');
  if (eq == std::string_view::npos)
    return Error("--param: expected KEY=VALUE, got \"" + std::string(kv) + "\"");
  const std::string key(kv.substr(0, eq));
  const std::string_view value = kv.substr(eq + 1);
  if (key.empty() || !printable(key) || key.size() > kMaxMetricNameBytes)
    return Error("--param: the key is empty, longer than 256 bytes or not printable");
  // Only scalars are read as JSON: "[1,2]" stays a string, and text that cannot start a number
  // or literal is never handed to the parser (no nested parse of hostile text).
  const bool may_be_scalar =
      !value.empty() && (std::isdigit(static_cast<unsigned char>(value[0])) != 0 ||
                         value[0] == '-' || value[0] == 't' || value[0] == 'f' || value[0] == 'n');
  if (!may_be_scalar) return std::make_pair(key, ordered_json(std::string(value)));
  auto parsed = ordered_json::parse(value, nullptr, false);
  const bool scalar =
      !parsed.is_discarded() && (parsed.is_number() || parsed.is_boolean() || parsed.is_null());
  if (scalar && !(parsed.is_number_float() && !std::isfinite(parsed.get<double>())))
    return std::make_pair(key, std::move(parsed));
  return std::make_pair(key, ordered_json(std::string(value)));
}

Expected<ordered_json> parse_params_text(std::string_view text) {
  return parse_object(text, "hyperparameters");
}

Expected<ordered_json> parse_metrics_text(std::string_view text) {
  auto doc = parse_object(text, "metrics");
  if (!doc) return doc.error();
  ordered_json flat = ordered_json::object();
  if (auto ok = flatten_metrics(*doc, "", flat); !ok) return ok.error();
  return flat;
}

Expected<std::string> read_small_file(const fs::path& file, std::size_t max_bytes) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return Error(file.string() + ": not a regular file");
  const auto size = fs::file_size(file, ec);
  if (ec) return Error(file.string() + ": " + ec.message());
  if (size > max_bytes)
    return Error(file.string() + ": larger than " + std::to_string(max_bytes) + " bytes");
  std::ifstream in(file, std::ios::binary);
  std::string text(static_cast<std::size_t>(size), '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(text.size())))
    return Error(file.string() + ": cannot read");
  return text;
}

Expected<DatasetSpec> parse_dataset_spec(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size())
    return Error("--dataset: expected NAME=MANIFEST_BUNDLE[:WEIGHT], got \"" + std::string(text) +
                 "\"");
  DatasetSpec spec;
  spec.name = std::string(text.substr(0, eq));
  if (!printable(spec.name)) return Error("--dataset: the name is not printable text");
  std::string_view rest = text.substr(eq + 1);
  if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    if (auto w = parse_weight(rest.substr(colon + 1))) {
      spec.weight = w;
      rest = rest.substr(0, colon);
    }
  }
  if (rest.empty()) return Error("--dataset " + spec.name + ": no manifest bundle path");
  spec.manifest_bundle = fs::path(std::string(rest));
  return spec;
}

Expected<BaseModelSpec> parse_base_model_spec(std::string_view text) {
  const auto eq = text.rfind('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size())
    return Error("--base-model: expected DIR_OR_FILE=SIGNATURE_BUNDLE, got \"" + std::string(text) +
                 "\"");
  return BaseModelSpec{fs::path(std::string(text.substr(0, eq))),
                       fs::path(std::string(text.substr(eq + 1)))};
}

}  // namespace mlsc::provenance
