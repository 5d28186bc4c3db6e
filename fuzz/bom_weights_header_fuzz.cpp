// libFuzzer target: the bounded safetensors and GGUF header readers used for parameter counts.
// The claimed file size is varied too, so "header beyond end of file" paths are reached.
#include <cstddef>
#include <cstdint>

#include "mlsc/bom/sources.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mlsc::ByteView bytes(data, size);
  for (const std::uint64_t file_size :
       {static_cast<std::uint64_t>(size), static_cast<std::uint64_t>(size) + 4096}) {
    if (auto s = mlsc::bom::read_safetensors_header(bytes, file_size)) (void)s->parameters;
    if (auto g = mlsc::bom::read_gguf_header(bytes, file_size)) (void)g->parameters;
  }
  return 0;
}
