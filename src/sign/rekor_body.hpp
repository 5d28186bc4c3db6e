// Whether a Rekor entry body records this bundle's content: for DSSE bundles the payload hash
// and the signatures with their verifying certificate (kinds dsse 0.0.1 and intoto 0.0.2), for
// message-signature bundles the artifact digest, the signature and the certificate (kind
// hashedrekord 0.0.1). The hash of the whole envelope that dsse/intoto bodies also record is
// not compared: it covers the client's own JSON serialisation of the envelope, which differs
// between clients, while the payload hash and signatures already pin what was signed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "rekor.hpp"

namespace mlsc::sign {

struct BundleContent {
  enum class Kind : std::uint8_t { dsse, message_signature };
  Kind kind = Kind::dsse;
  // dsse
  std::vector<std::uint8_t> payload;
  std::string payload_type;
  std::vector<std::vector<std::uint8_t>>
      signatures;  // DSSE signatures, or the one message signature
  // message_signature
  std::string digest_algorithm;  // as the bundle names it, e.g. SHA2_256
  std::vector<std::uint8_t> digest;
};

Expected<void> check_body_matches(const VerifiedRekorEntry& entry, const BundleContent& content,
                                  const std::vector<std::uint8_t>& leaf_der);

}  // namespace mlsc::sign
