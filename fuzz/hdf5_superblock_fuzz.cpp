// libFuzzer target: mlsc's own in-process HDF5 pre-check (signature search and superblock
// validation), the only HDF5 code that runs outside the sandboxed libhdf5 child. The libhdf5
// side is not fuzzed here: it runs in a forked child by design (see hdf5_probe.hpp).
#include <cstddef>
#include <cstdint>

#include "scan/hdf5_probe.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const mlsc::ByteView data(bytes, size);
  (void)mlsc::scan::hdf5::find_signature(data);
  if (auto sb = mlsc::scan::hdf5::check_superblock(data)) {
    if (sb->end > data.size() || sb->offset >= data.size()) __builtin_trap();
  }
  return 0;
}
