// libFuzzer target: the zip reader on arbitrary bytes, then every entry read with small limits.
// Finds crashes, out-of-bounds reads and UB in the parser and the decoders behind it.
#include <cstddef>
#include <cstdint>

#include "mlsc/scan/zip_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mlsc::scan;
  const mlsc::ByteView input(data, size);
  zip::ParseOptions parse_options;
  parse_options.max_entries = 4096;
  auto archive = zip::parse(input, parse_options);
  if (!archive) return 0;
  std::uint64_t budget = 8U << 20;  // all members together
  zip::ReadOptions options;
  options.max_bytes = 1U << 20;
  options.reserve = [&budget](std::uint64_t n) {
    if (n > budget) return false;
    budget -= n;
    return true;
  };
  for (const auto& entry : archive->entries) {
    const auto result = zip::read(input, entry, options);
    (void)result.content.bytes();
  }
  return 0;
}
