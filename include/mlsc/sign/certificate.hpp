// X.509 certificates for the certificate signing mode: a long-lived signing certificate and
// its CA chain travel in the bundle (leaf first); the verifier supplies the trust anchor.
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"
#include "mlsc/sign/keys.hpp"

struct x509_st;  // OpenSSL's X509

namespace mlsc::sign {

// Certificate chain and anchor files are small; refuse anything larger unread.
inline constexpr std::size_t kMaxCertificateFileBytes = 4 << 20;
// A bundle or a trust file with more certificates than this is not a real chain.
inline constexpr std::size_t kMaxChainLength = 16;

class Certificate {
 public:
  static Expected<Certificate> from_der(ByteView der);
  // Every "CERTIFICATE" PEM block in the file, in order (text between blocks is skipped).
  static Expected<std::vector<Certificate>> load_pem_file(const std::filesystem::path& file);
  static Expected<std::vector<Certificate>> parse_pem(std::string_view pem);

  std::vector<std::uint8_t> der() const;
  Expected<PublicKey> public_key() const;
  std::string subject() const;  // one line, RFC 2253 style
  std::string issuer() const;
  std::time_t not_before() const;
  std::time_t not_after() const;

  // Key usage digitalSignature, or extended key usage codeSigning: what the reference accepts
  // for a signing certificate. An empty string when allowed, else why not.
  std::string signing_usage_problem() const;

  x509_st* get() const { return cert_.get(); }

 private:
  explicit Certificate(std::shared_ptr<x509_st> c) : cert_(std::move(c)) {}
  std::shared_ptr<x509_st> cert_;
};

struct ChainPolicy {
  // The reference verifies the chain at the leaf's notBefore: key and certificate bundles carry
  // no trusted timestamp, so the issuance time is the only signing time there is.
  // On top of that we require the leaf to be valid now (see docs/signing.md); tests set `now`.
  bool require_leaf_valid_now = true;
  std::time_t now = 0;  // 0: the current time
};

// Verifies `chain` (leaf first, then intermediates in any order, as found in the bundle) to one
// of `anchors` at the leaf's notBefore, then checks the leaf may sign code. Returns the leaf's
// public key. Errors name the certificate and the failed check; `failure_code`, when given, is
// set to "certificate.expired", "certificate.untrusted", "certificate.usage" or
// "certificate.invalid".
Expected<PublicKey> verify_certificate_chain(const std::vector<Certificate>& chain,
                                             const std::vector<Certificate>& anchors,
                                             const ChainPolicy& policy = {},
                                             std::string* failure_code = nullptr);

// "2025-05-02T23:36:28Z"
std::string format_utc(std::time_t t);

}  // namespace mlsc::sign
