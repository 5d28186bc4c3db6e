// libFuzzer target: the readers of signed provenance documents once their signature verified
// (a step statement and a checkpoint record), on JSON parsed with the bounds the verifier uses.
// A record that parses must round-trip through to_statement unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mlsc/provenance/checkpoint.hpp"
#include "mlsc/provenance/step_provenance.hpp"
#include "mlsc/sign/bundle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mlsc::provenance;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (size > (1U << 20) || mlsc::sign::json_nesting_exceeds(text, mlsc::sign::kMaxBundleDepth))
    return 0;
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) return 0;
  if (auto step = parse_step_provenance(doc)) {
    if (step->subjects.empty() || step->command.empty() || step->builder_id.empty())
      __builtin_trap();
  }
  if (auto record = parse_checkpoint_record(doc)) {
    auto again = parse_checkpoint_record(nlohmann::json(to_statement(*record)));
    if (!again || again->sha256 != record->sha256 || again->step != record->step ||
        again->previous != record->previous || again->previous_record != record->previous_record ||
        again->provenance != record->provenance || again->run_id != record->run_id)
      __builtin_trap();
  }
  return 0;
}
