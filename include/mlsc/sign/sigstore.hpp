// Offline Sigstore verification: a trusted root (Fulcio CAs, Rekor keys, CT logs, TSAs) and
// the checks that tie a bundle's certificate and transparency-log entry to it. The DSSE
// signature itself is checked by the caller with the key of the returned leaf certificate.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlsc/core/expected.hpp"

namespace mlsc::sign {

// A closed-open time range in Unix seconds; an absent end means "still valid".
struct ValidityPeriod {
  std::int64_t start = std::numeric_limits<std::int64_t>::min();
  std::int64_t end = std::numeric_limits<std::int64_t>::max();
  bool contains(std::int64_t t) const { return t >= start && t <= end; }
};

// A Fulcio CA or a timestamp authority: its certificate chain, leaf-most first, root last.
struct CertificateAuthority {
  std::string uri;
  std::string subject;  // "O=..., CN=..." as the root names it
  std::vector<std::vector<std::uint8_t>> chain_der;
  ValidityPeriod valid_for;
};

// A Rekor log or a CT log: the key that signs it and the id it is known by.
struct TransparencyLogKey {
  std::string base_url;
  std::vector<std::uint8_t> log_id;          // keyId: SHA-256 of the DER SPKI
  std::vector<std::uint8_t> public_key_der;  // DER SubjectPublicKeyInfo
  std::string key_details;                   // e.g. PKIX_ECDSA_P256_SHA_256
  ValidityPeriod valid_for;
};

struct TrustedRoot {
  std::vector<CertificateAuthority> certificate_authorities;  // Fulcio
  std::vector<TransparencyLogKey> tlogs;                      // Rekor
  std::vector<TransparencyLogKey> ctlogs;                     // certificate transparency
  std::vector<CertificateAuthority> timestamp_authorities;    // RFC 3161 TSAs
};

// Reads a trusted root (application/vnd.dev.sigstore.trustedroot+json;version=0.1) or a client
// trust config (application/vnd.dev.sigstore.clienttrustconfig.v0.1+json) wrapping one.
Expected<TrustedRoot> load_trusted_root(const std::filesystem::path& json_file);
Expected<TrustedRoot> parse_trusted_root(std::string_view json);

// Who must have signed: the certificate's SAN (email or URI, exact match) and OIDC issuer.
struct SigstorePolicy {
  std::string identity;
  std::string issuer;
};

struct SigstoreVerified {
  std::vector<std::uint8_t> leaf_der;  // verified Fulcio leaf; its key checks the DSSE signature
  std::string identity, issuer;
  std::int64_t integrated_time = 0;  // from the verified Rekor entry
  std::int64_t log_index = 0;
  // False only for a v0.1 bundle without an inclusion proof, where the SET alone vouches for
  // the entry (as the v0.1 format allows); v0.2 and later bundles must carry a proof.
  bool inclusion_proof_verified = false;
};

// Verifies everything in a Sigstore bundle (v0.1-v0.3 JSON) except the DSSE signature itself:
// the Fulcio chain to a trusted CA valid at the integrated time, identity and issuer, the Rekor
// entry (inclusion proof against its signed checkpoint, and the signed entry timestamp), and
// that the entry body matches this bundle's envelope, signature and certificate. The error
// message names the check that failed.
Expected<SigstoreVerified> verify_sigstore(const nlohmann::json& bundle, const TrustedRoot& root,
                                           const SigstorePolicy& policy);

}  // namespace mlsc::sign
