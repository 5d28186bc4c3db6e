// Fulcio leaf certificates: the chain to a CA of the trusted root at a given time, the identity
// the certificate binds (SAN email or URI) and the OIDC issuer Fulcio recorded, the code-signing
// EKU, and the embedded SCTs checked against the trusted root's CT logs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"
#include "mlsc/sign/sigstore.hpp"

namespace mlsc::sign {

struct FulcioIdentity {
  std::vector<std::string> emails;  // rfc822Name SANs
  std::vector<std::string> uris;    // URI SANs
  std::string issuer;               // OIDC issuer: 1.3.6.1.4.1.57264.1.8, else the legacy .1.1
};

inline constexpr std::size_t kMaxLeafCertificateBytes = 32 * 1024;

// Verifies `leaf_der` chains to a certificate authority of `root` whose validFor covers `at`,
// with every certificate of the path valid at `at` (Unix seconds); requires the codeSigning
// extended key usage and digitalSignature key usage, and at least one valid SCT from a CT log
// of `root`. Returns what the certificate says about its subject.
Expected<FulcioIdentity> verify_fulcio_certificate(ByteView leaf_der, const TrustedRoot& root,
                                                   std::int64_t at);

// Reads the identity and issuer without verifying anything (for messages and tests).
Expected<FulcioIdentity> read_fulcio_identity(ByteView leaf_der);

}  // namespace mlsc::sign
