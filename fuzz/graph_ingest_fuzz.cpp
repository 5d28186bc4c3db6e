// libFuzzer target: the lineage graph's document parser (JSON, DSSE, Sigstore bundle, SLSA,
// model signing, CycloneDX, scan reports) on arbitrary bytes, with small limits. Every node it
// returns must carry a valid key.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "mlsc/graph/ingest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mlsc::graph::ParseLimits limits;
  limits.max_bytes = 1U << 20;
  limits.max_depth = 32;
  limits.max_facts = 10'000;
  auto doc = mlsc::graph::parse_document(mlsc::ByteView(data, size), "fuzz", limits);
  if (!doc) return 0;
  for (const auto& node : doc->nodes()) {
    if (!mlsc::graph::kind_of_key(node.key)) std::abort();
  }
  return 0;
}
