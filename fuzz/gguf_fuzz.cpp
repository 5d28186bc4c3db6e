// libFuzzer target: the GGUF reader and scanner (metadata, tensor infos, layout, chat templates)
// on arbitrary bytes behind a "GGUF" magic and each of the three versions.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "mlsc/scan/scanners.hpp"
#include "scan/gguf_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mlsc::scan;
  static const Registry registry = [] {
    Registry r;
    r.add(make_gguf_scanner());
    return r;
  }();
  static const ScanOptions options;  // building the import policy per input would dominate
  std::vector<std::uint8_t> file(8 + size);
  file[0] = 'G';
  file[1] = 'G';
  file[2] = 'U';
  file[3] = 'F';
  file[4] = static_cast<std::uint8_t>(size > 0 ? 1 + data[0] % 3 : 3);
  for (std::size_t i = 0; i < size; ++i) file[8 + i] = data[i];
  scan_bytes("fuzz", file, options, registry);
  gguf::ReadLimits limits;
  limits.max_kv = 64;
  limits.max_tensors = 64;
  const auto f = gguf::read(file, limits);
  for (const auto& t : f.tensors) {
    const auto bytes = gguf::data_size(t);
    (void)bytes;
  }
  return 0;
}
