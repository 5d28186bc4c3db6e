// libFuzzer target: pip requirements files and PEP 508 specifiers from arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mlsc/bom/sources.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto file = mlsc::bom::parse_requirements(text, "fuzz.txt")) {
    for (const auto& p : file->packages) (void)p.name.size();
  }
  if (auto r = mlsc::bom::parse_pep508(text)) (void)mlsc::bom::pinned_version(r->specifier);
  return 0;
}
