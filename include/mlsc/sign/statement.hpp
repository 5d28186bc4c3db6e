// The in-toto Statement v1 that OpenSSF Model Signing signs (the DSSE payload), built from and
// parsed back into a Manifest.
//
//   {"_type": "https://in-toto.io/Statement/v1",
//    "subject": [{"name": MODEL, "digest": {"sha256": ROOT}}],
//    "predicateType": "https://model_signing/signature/v1.0",
//    "predicate": {"serialization": {"method", "hash_type", "allow_symlinks",
//                                    "shard_size" (shards), "ignore_paths" (when any)},
//                  "resources": [{"algorithm", "digest", "name"}, ...]}}
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mlsc/core/expected.hpp"
#include "mlsc/sign/manifest.hpp"

namespace mlsc::sign {

inline constexpr std::string_view kStatementType = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view kPredicateType = "https://model_signing/signature/v1.0";
// v0.2.0 of the reference: per-file digests as subjects, no predicate body. Read, never written.
inline constexpr std::string_view kPredicateTypeV01 = "https://model_signing/Digests/v0.1";
inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";

// The statement, keys in the reference's order. shard_size is written as an integer, as the
// spec's schema requires (the reference's protobuf path writes 1000000000.0; both parse).
Expected<nlohmann::ordered_json> to_statement(const Manifest& m);
// Serialised statement bytes, the DSSE payload. indent < 0: compact.
Expected<std::string> statement_json(const Manifest& m, int indent = -1);

// Parses and validates a statement (the DSSE payload bytes after base64 decoding): types,
// serialization fields, resource names and digests, no duplicates, and that the subject digest
// matches the resources. Accepts the v0.1 predicate of reference v0.2.0 (files, sha256, no
// root digest to check). Never throws on hostile input.
Expected<Manifest> parse_statement(std::string_view json);
// The same for an already parsed document (a distinct name: a std::string converts to both).
Expected<Manifest> parse_statement_document(const nlohmann::json& doc);

}  // namespace mlsc::sign
