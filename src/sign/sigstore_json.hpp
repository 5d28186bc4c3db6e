// Strict, bounded access to the protobuf-JSON fields of Sigstore documents (bundles, trusted
// roots, Rekor entry bodies). Every accessor names the field path in its error, refuses wrong
// types, and caps string and decoded sizes, so a hostile document costs bounded memory and time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlsc/core/expected.hpp"

namespace mlsc::sign::sigstore_json {

using Json = nlohmann::json;

// The member `key` of object `obj`, or nullptr when it is absent or JSON null (protobuf JSON
// writes unset message fields either way). `obj` that is not an object yields nullptr.
const Json* optional_member(const Json& obj, std::string_view key);

// Like optional_member, but absence is an error naming `path`.`key`.
Expected<const Json*> required_member(const Json& obj, std::string_view key,
                                      const std::string& path);
Expected<const Json*> required_object(const Json& obj, std::string_view key,
                                      const std::string& path);
Expected<const Json*> required_array(const Json& obj, std::string_view key, const std::string& path,
                                     std::size_t max_items);

Expected<std::string_view> required_string(const Json& obj, std::string_view key,
                                           const std::string& path, std::size_t max_chars);

// A `bytes` field: standard or URL-safe base64, decoded, at most `max_bytes` after decoding.
Expected<std::vector<std::uint8_t>> required_bytes(const Json& obj, std::string_view key,
                                                   const std::string& path, std::size_t max_bytes);
Expected<std::vector<std::uint8_t>> decode_bytes(std::string_view text, const std::string& path,
                                                 std::size_t max_bytes);

// A non-negative int64 field, written as a JSON integer or (as protobuf JSON does) a decimal
// string.
Expected<std::int64_t> required_int64(const Json& obj, std::string_view key,
                                      const std::string& path);
Expected<std::int64_t> parse_decimal(std::string_view text, const std::string& path);

// RFC 3339 timestamp ("2021-01-12T11:53:27.000Z", offsets allowed) to Unix seconds, fractions
// dropped.
Expected<std::int64_t> parse_rfc3339(std::string_view text, const std::string& path);

// Lowercase hex of bytes.
std::string to_hex(const std::uint8_t* data, std::size_t size);
template <class Bytes>
std::string to_hex(const Bytes& b) {
  return to_hex(reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
}

// Parses untrusted JSON text of at most `max_bytes`, nested at most `max_depth` deep; never throws.
Expected<Json> parse_bounded(std::string_view text, const std::string& what, std::size_t max_bytes,
                             int max_depth = 32);

}  // namespace mlsc::sign::sigstore_json
