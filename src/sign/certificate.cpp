#include "mlsc/sign/certificate.hpp"

#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <climits>
#include <cstring>

#include "sign/ossl_handles.hpp"

namespace mlsc::sign {

namespace {

// A trust file may hold a whole CA bundle; more certificates than this is not one.
constexpr std::size_t kMaxCertificatesPerFile = 1024;
constexpr std::size_t kMaxCertificateDer = 1 << 20;

std::time_t to_time(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

std::string name_of(const X509_NAME* name) {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || name == nullptr) return "?";
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  std::string s = ossl::bio_contents(bio.get());
  return s.empty() ? "(empty subject)" : s;
}

struct ChainError {
  std::string code;
  std::string message;
};

ChainError chain_error(X509_STORE_CTX* ctx, const Certificate& leaf) {
  const int err = X509_STORE_CTX_get_error(ctx);
  const std::string depth = std::to_string(X509_STORE_CTX_get_error_depth(ctx));
  X509* at = X509_STORE_CTX_get_current_cert(ctx);
  const std::string who = at != nullptr ? name_of(X509_get_subject_name(at)) : leaf.subject();
  const std::string when = format_utc(leaf.not_before());
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return {"certificate.expired",
              "certificate \"" + who + "\" (chain depth " + depth + ") had expired on " +
                  format_utc(to_time(X509_get0_notAfter(at))) +
                  ", before the signing certificate was issued (" + when + ")"};
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return {"certificate.expired",
              "certificate \"" + who + "\" (chain depth " + depth +
                  ") was not yet valid when the signing certificate was issued (" + when + ")"};
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return {"certificate.untrusted",
              "the certificate chain does not lead to the given trust anchor: " +
                  std::string(X509_verify_cert_error_string(err)) + " (at \"" + who + "\")"};
    default:
      return {"certificate.invalid", "the certificate chain does not verify: " +
                                         std::string(X509_verify_cert_error_string(err)) +
                                         " (chain depth " + depth + ", \"" + who + "\")"};
  }
}

}  // namespace

Expected<Certificate> Certificate::from_der(ByteView der) {
  if (der.empty()) return Error{"empty certificate"};
  if (der.size() > kMaxCertificateDer) return Error{"certificate larger than 1 MiB"};
  const unsigned char* p = der.data();
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  ossl::clear_errors();
  if (cert == nullptr) return Error{"not a DER X.509 certificate"};
  std::shared_ptr<x509_st> owned(cert, X509_free);
  if (p != der.data() + der.size()) return Error{"trailing bytes after the DER certificate"};
  return Certificate(std::move(owned));
}

Expected<std::vector<Certificate>> Certificate::parse_pem(std::string_view pem) {
  if (pem.size() > kMaxCertificateFileBytes) return Error{"certificate file larger than 4 MiB"};
  ossl::Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<Certificate> out;
  while (out.size() <= kMaxCertificatesPerFile) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) break;
    out.push_back(Certificate(std::shared_ptr<x509_st>(cert, X509_free)));
  }
  // The loop ends at the first block that is not a readable certificate: at the end of the
  // file that is "no start line"; anything else is a broken certificate.
  const unsigned long err = ERR_peek_last_error();
  ossl::clear_errors();
  if (out.size() > kMaxCertificatesPerFile) return Error{"more than 1024 certificates"};
  if (err != 0 && ERR_GET_REASON(err) != PEM_R_NO_START_LINE)
    return Error{"a PEM certificate block is corrupt"};
  if (out.empty()) return Error{"no PEM \"CERTIFICATE\" block found"};
  return out;
}

Expected<std::vector<Certificate>> Certificate::load_pem_file(const std::filesystem::path& file) {
  auto text = read_small_file(file, kMaxCertificateFileBytes);
  if (!text) return text.error();
  auto certs = parse_pem(*text);
  if (!certs) return Error{file.string() + ": " + certs.error().message};
  return certs;
}

std::vector<std::uint8_t> Certificate::der() const {
  unsigned char* out = nullptr;
  const int len = i2d_X509(cert_.get(), &out);
  if (len <= 0) return {};
  std::vector<std::uint8_t> der(out, out + len);
  OPENSSL_free(out);
  return der;
}

Expected<PublicKey> Certificate::public_key() const {
  EVP_PKEY* key = X509_get_pubkey(cert_.get());  // a new reference, owned by the PublicKey
  ossl::clear_errors();
  if (key == nullptr) return Error{"certificate \"" + subject() + "\": unreadable public key"};
  auto pk = PublicKey::adopt(key);
  if (!pk) return Error{"certificate \"" + subject() + "\": " + pk.error().message};
  return pk;
}

std::string Certificate::subject() const {
  return name_of(X509_get_subject_name(cert_.get()));
}
std::string Certificate::issuer() const {
  return name_of(X509_get_issuer_name(cert_.get()));
}
std::time_t Certificate::not_before() const {
  return to_time(X509_get0_notBefore(cert_.get()));
}
std::time_t Certificate::not_after() const {
  return to_time(X509_get0_notAfter(cert_.get()));
}

std::string Certificate::signing_usage_problem() const {
  const std::uint32_t ku = X509_get_key_usage(cert_.get());
  const std::uint32_t eku = X509_get_extended_key_usage(cert_.get());
  ossl::clear_errors();
  if (X509_get_extension_flags(cert_.get()) & EXFLAG_INVALID) {
    return "certificate \"" + subject() + "\" has malformed extensions";
  }
  const bool digital_signature = ku != UINT32_MAX && (ku & KU_DIGITAL_SIGNATURE) != 0;
  const bool code_signing = eku != UINT32_MAX && (eku & XKU_CODE_SIGN) != 0;
  if (digital_signature || code_signing) return {};
  return "certificate \"" + subject() +
         "\" may not sign: its key usage lacks digitalSignature and its extended key usage lacks "
         "codeSigning";
}

Expected<PublicKey> verify_certificate_chain(const std::vector<Certificate>& chain,
                                             const std::vector<Certificate>& anchors,
                                             const ChainPolicy& policy, std::string* failure_code) {
  auto failed = [&](std::string code, std::string message) -> Error {
    if (failure_code != nullptr) *failure_code = std::move(code);
    return Error{std::move(message)};
  };
  if (chain.empty()) return failed("certificate.invalid", "the bundle carries no certificate");
  if (anchors.empty()) return failed("certificate.untrusted", "no trust anchor given");
  const Certificate& leaf = chain.front();
  ossl::Store store(X509_STORE_new());
  ossl::X509Stack untrusted(sk_X509_new_null());
  ossl::StoreCtx ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) return failed("certificate.invalid", "OpenSSL out of memory");
  for (const auto& a : anchors) X509_STORE_add_cert(store.get(), a.get());
  for (std::size_t i = 1; i < chain.size(); ++i) sk_X509_push(untrusted.get(), chain[i].get());
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) {
    ossl::clear_errors();
    return failed("certificate.invalid", "OpenSSL cannot set up chain verification");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, leaf.not_before());
  // A trust anchor is whatever certificate the user trusts, not necessarily a self-signed root.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  const int ok = X509_verify_cert(ctx.get());
  ossl::clear_errors();
  if (ok != 1) {
    auto e = chain_error(ctx.get(), leaf);
    return failed(std::move(e.code), std::move(e.message));
  }
  if (auto problem = leaf.signing_usage_problem(); !problem.empty())
    return failed("certificate.usage", problem);
  if (policy.require_leaf_valid_now) {
    const std::time_t now = policy.now != 0 ? policy.now : std::time(nullptr);
    if (now > leaf.not_after()) {
      return failed("certificate.expired", "signing certificate \"" + leaf.subject() +
                                               "\" expired on " + format_utc(leaf.not_after()));
    }
    if (now < leaf.not_before()) {
      return failed("certificate.expired", "signing certificate \"" + leaf.subject() +
                                               "\" is not valid before " +
                                               format_utc(leaf.not_before()));
    }
  }
  auto key = leaf.public_key();
  if (!key) return failed("certificate.invalid", key.error().message);
  return key;
}

std::string format_utc(std::time_t t) {
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

}  // namespace mlsc::sign
