// Base64 (RFC 4648) for the protobuf-JSON fields of Sigstore bundles and trust roots. Decoding is
// strict about what it accepts, because every input comes from a file an attacker may write.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"

namespace mlsc {

struct Base64Options {
  // Protobuf JSON accepts the URL-safe alphabet and missing padding on input; most of our
  // formats do too. Whitespace and characters outside the alphabet are always refused.
  bool allow_url_safe = true;
  bool allow_unpadded = true;
  // Refuse input longer than this (decoded bytes are at most 3/4 of it).
  std::size_t max_input = std::size_t{64} << 20;
};

// Decodes `text`, or says at which character offset it is not base64. Non-zero bits left over in
// the last character are refused, so every byte string has exactly one accepted encoding per
// alphabet and padding choice.
Expected<std::vector<std::uint8_t>> base64_decode(std::string_view text, Base64Options opts = {});

// Standard alphabet, with padding.
std::string base64_encode(ByteView bytes);

}  // namespace mlsc
