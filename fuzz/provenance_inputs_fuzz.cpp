// libFuzzer target: what users hand `mlsc attest` (hyperparameter and metrics files, KEY=VALUE,
// NAME=BUNDLE[:WEIGHT], MODEL=SIGNATURE), all on the same bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mlsc/provenance/step_inputs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mlsc::provenance;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto params = parse_params_text(text)) {
    // A valid object must serialise again (no invalid UTF-8 survives the parser).
    const auto dumped = params->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (dumped.empty()) __builtin_trap();
  }
  if (auto metrics = parse_metrics_text(text)) {
    if (metrics->size() > kMaxMetrics) __builtin_trap();
    for (const auto& [name, value] : metrics->items()) {
      if (name.empty() || value.is_object() || value.is_array() || value.is_null())
        __builtin_trap();
    }
  }
  if (auto kv = parse_param_assignment(text)) {
    if (kv->first.empty()) __builtin_trap();
  }
  if (auto ds = parse_dataset_spec(text)) {
    if (ds->name.empty() || ds->manifest_bundle.empty()) __builtin_trap();
    if (ds->weight && !(*ds->weight >= 0)) __builtin_trap();
  }
  if (auto bm = parse_base_model_spec(text)) {
    if (bm->model.empty() || bm->signature.empty()) __builtin_trap();
  }
  return 0;
}
