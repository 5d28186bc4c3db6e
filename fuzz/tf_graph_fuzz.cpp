// libFuzzer target: the SavedModel / keras_metadata.pb protobuf walkers, the op-policy judge
// and the recognisers, on arbitrary bytes.
#include <cstddef>
#include <cstdint>

#include "scan/tf_graph.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const mlsc::ByteView data(bytes, size);
  (void)mlsc::scan::tf::looks_like_saved_model(data);
  (void)mlsc::scan::tf::looks_like_keras_metadata(data);
  mlsc::scan::tf::Limits limits;
  limits.max_nodes = 1U << 16;
  if (auto model = mlsc::scan::tf::parse_saved_model(data, limits)) {
    const auto analysis = mlsc::scan::tf::analyse(*model);
    for (const auto& issue : analysis.issues) {
      if (issue.rule.empty()) __builtin_trap();
    }
  } else if (model.error().message.empty()) {
    __builtin_trap();
  }
  (void)mlsc::scan::tf::parse_keras_metadata(data);
  return 0;
}
