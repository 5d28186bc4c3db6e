// libFuzzer target: the Keras config walker (the JSON that .h5 model_config/training_config
// attributes, .keras config.json, Keras model JSON and keras_metadata.pb carry) and the
// top-level-key recogniser the Keras JSON scanner matches with.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "scan/keras_config.hpp"

namespace {

const mlsc::scan::ImportPolicy& policy() {
  static const mlsc::scan::ImportPolicy p = mlsc::scan::ImportPolicy::builtin();
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const mlsc::ByteView data(bytes, size);
  const auto kind = mlsc::scan::keras::classify_json(data);
  mlsc::scan::keras::Limits limits;
  limits.max_objects = 1U << 14;
  const auto report = mlsc::scan::keras::analyse_config(mlsc::as_chars(data), policy(),
                                                        kind == mlsc::scan::keras::JsonKind::none
                                                            ? std::string_view("training_config")
                                                            : std::string_view(),
                                                        limits);
  // Every issue must name where it is: the walker never emits an empty rule or message.
  for (const auto& issue : report.issues) {
    if (issue.rule.empty() || issue.message.empty()) __builtin_trap();
  }
  return 0;
}
