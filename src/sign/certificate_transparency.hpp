// RFC 6962 signed certificate timestamps embedded in a certificate (Fulcio leaves carry them):
// each SCT signs the precertificate, i.e. the leaf's TBSCertificate without the SCT list
// extension, bound to the issuer's key hash. OpenSSL parses the SCTs; it offers no way to load
// CT log keys from memory, so the signature input is rebuilt and checked here.
#pragma once

#include <openssl/x509.h>

#include "mlsc/core/expected.hpp"
#include "mlsc/sign/sigstore.hpp"

namespace mlsc::sign {

// Succeeds when at least one SCT in `leaf` is a valid signature by a CT log of `root` whose key
// was valid at the SCT's time, and that time is within the leaf's validity.
Expected<void> verify_embedded_scts(X509* leaf, X509* issuer, const TrustedRoot& root);

}  // namespace mlsc::sign
