// Turns supply-chain documents into graph facts (GraphDocument). Accepted inputs, detected by
// content, never by file name:
//   - in-toto Statement v1, bare, in a DSSE envelope, or in a Sigstore bundle's dsseEnvelope,
//     with an SLSA Provenance v1 predicate or an OpenSSF model-signing predicate (v1.0, v0.1);
//   - CycloneDX JSON BOMs (1.4 to 1.6; ML-BOM modelCard datasets and pedigree ancestors);
//   - `mlsc scan --format json` reports.
// Ingest records claims: it does not verify signatures (mlsc verify / admit do). Inputs are
// hostile: size, nesting depth and element counts are bounded, errors name the byte offset.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"
#include "mlsc/graph/model.hpp"

namespace mlsc::graph {

struct ParseLimits {
  std::uint64_t max_bytes = 64U << 20;  // a document, and a decoded DSSE payload
  int max_depth = 64;                   // JSON nesting
  std::uint64_t max_facts = 1'000'000;  // nodes + edges one document may contribute
  std::uint64_t max_key_bytes = 4096;   // one node key
};

// Parses one document. `source` is recorded as where it came from (informational).
Expected<GraphDocument> parse_document(ByteView bytes, std::string source,
                                       const ParseLimits& limits = {});
// Reads a file (at most limits.max_bytes) and parses it.
Expected<GraphDocument> read_document(const std::filesystem::path& path,
                                      const ParseLimits& limits = {});

}  // namespace mlsc::graph
