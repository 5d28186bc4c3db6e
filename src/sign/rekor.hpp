// Verification of one Rekor transparency-log entry as a Sigstore bundle carries it
// (TransparencyLogEntry in protobuf JSON), against the Rekor keys of a trusted root:
// - the signed entry timestamp (SET): the log's signature over the canonical JSON
//   {"body":<base64 body>,"integratedTime":<n>,"logID":"<hex key id>","logIndex":<n>};
// - the inclusion proof: leaf SHA-256(0x00 || body) at proof.logIndex leads to proof.rootHash
//   in a tree of proof.treeSize leaves, and that tree head is the one the log signed in the
//   checkpoint (same size, same root, signature by the same log key).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlsc/core/expected.hpp"
#include "mlsc/sign/sigstore.hpp"

namespace mlsc::sign {

struct VerifiedRekorEntry {
  std::vector<std::uint8_t> body;  // canonicalizedBody, decoded
  nlohmann::json body_json;
  std::string kind, version;  // from kindVersion, checked against the body
  std::int64_t log_index = 0;
  std::int64_t integrated_time = 0;
  bool inclusion_proof_verified = false;
  const TransparencyLogKey* log = nullptr;  // the trusted log that signed it
};

struct RekorRequirements {
  bool inclusion_proof = true;    // bundle v0.2 and later must carry one
  bool inclusion_promise = true;  // the SET: the only signature over integratedTime
};

inline constexpr std::size_t kMaxRekorBodyBytes = std::size_t{1} << 20;

// `entry` is one element of verificationMaterial.tlogEntries; `path` names it in errors.
Expected<VerifiedRekorEntry> verify_rekor_entry(const nlohmann::json& entry,
                                                const TrustedRoot& root,
                                                const RekorRequirements& required,
                                                const std::string& path);

// The exact bytes Rekor signs for a SET (exposed for tests that build their own log).
std::string signed_entry_timestamp_payload(const std::vector<std::uint8_t>& body,
                                           std::int64_t integrated_time,
                                           const std::vector<std::uint8_t>& log_id,
                                           std::int64_t log_index);

}  // namespace mlsc::sign
