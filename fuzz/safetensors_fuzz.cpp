// libFuzzer target: the safetensors scanner on arbitrary bytes, with and without a valid length
// prefix in front (so the JSON header reader and the layout checks get most of the input).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "mlsc/scan/scanners.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mlsc::scan;
  static const Registry registry = [] {
    Registry r;
    r.add(make_safetensors_scanner());
    return r;
  }();
  static const ScanOptions options;  // building the import policy per input would dominate
  const mlsc::ByteView raw(data, size);
  scan_bytes("fuzz", raw, options, registry);
  // The same bytes as a header: length prefix, then '{' and the input.
  std::vector<std::uint8_t> framed(9 + size);
  const std::uint64_t n = 1 + size / 2;
  for (int i = 0; i < 8; ++i)
    framed[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
  framed[8] = '{';
  for (std::size_t i = 0; i < size; ++i) framed[9 + i] = data[i];
  scan_bytes("fuzz", framed, options, registry);
  return 0;
}
