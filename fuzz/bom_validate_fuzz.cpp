// libFuzzer target: `mlsc bom validate` on arbitrary documents, against the compiled-in
// CycloneDX 1.6 and SPDX 3.0.1 schemas (the JSON Schema evaluator on hostile instances).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mlsc/bom/validate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto schemas = mlsc::bom::load_bom_schemas({});
  if (!schemas) return 0;  // a build without the schemas has nothing to fuzz here
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto v = mlsc::bom::validate_bom(text, *schemas)) (void)v->violations.size();
  return 0;
}
