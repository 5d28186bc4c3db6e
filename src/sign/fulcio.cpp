#include "fulcio.hpp"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "certificate_transparency.hpp"
#include "sigstore_crypto.hpp"
#include "sigstore_json.hpp"

namespace mlsc::sign {
namespace {

namespace sc = sigstore_crypto;
using sc::OsslFree;

using StorePtr = std::unique_ptr<X509_STORE, OsslFree<X509_STORE, X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OsslFree<X509_STORE_CTX, X509_STORE_CTX_free>>;
using ObjectPtr = std::unique_ptr<ASN1_OBJECT, OsslFree<ASN1_OBJECT, ASN1_OBJECT_free>>;
using Utf8Ptr = std::unique_ptr<ASN1_UTF8STRING, OsslFree<ASN1_UTF8STRING, ASN1_UTF8STRING_free>>;

void free_x509_stack(STACK_OF(X509) * s) {
  sk_X509_pop_free(s, X509_free);
}
using X509StackPtr = std::unique_ptr<STACK_OF(X509), OsslFree<STACK_OF(X509), free_x509_stack>>;
void free_gens(GENERAL_NAMES* g) {
  GENERAL_NAMES_free(g);
}
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OsslFree<GENERAL_NAMES, free_gens>>;

constexpr const char* kOidIssuerV2 = "1.3.6.1.4.1.57264.1.8";  // DER UTF8String
constexpr const char* kOidIssuerV1 = "1.3.6.1.4.1.57264.1.1";  // raw string bytes
constexpr std::size_t kMaxIdentityChars = 4096;

// The value bytes of the extension with dotted `oid`, or nullopt when absent.
std::optional<ByteView> extension_value(X509* cert, const char* oid) {
  ObjectPtr obj(OBJ_txt2obj(oid, /*no_name=*/1));
  if (!obj) return std::nullopt;
  const int idx = X509_get_ext_by_OBJ(cert, obj.get(), -1);
  if (idx < 0) return std::nullopt;
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(cert, idx));
  if (data == nullptr) return std::nullopt;
  return ByteView(ASN1_STRING_get0_data(data), static_cast<std::size_t>(ASN1_STRING_length(data)));
}

bool printable_text(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return !s.empty() && s.size() <= kMaxIdentityChars;
}

Expected<std::string> read_issuer(X509* cert) {
  if (auto v2 = extension_value(cert, kOidIssuerV2)) {
    const unsigned char* p = v2->data();
    Utf8Ptr s(d2i_ASN1_UTF8STRING(nullptr, &p, static_cast<long>(v2->size())));
    if (!s || p != v2->data() + v2->size()) {
      ERR_clear_error();
      return Error{
          "certificate: OIDC issuer extension (1.3.6.1.4.1.57264.1.8) is not a DER UTF8String"};
    }
    std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s.get())),
                     static_cast<std::size_t>(ASN1_STRING_length(s.get())));
    if (!printable_text(text)) return Error{"certificate: OIDC issuer is empty or not printable"};
    return text;
  }
  if (auto v1 = extension_value(cert, kOidIssuerV1)) {
    std::string text(as_chars(*v1));
    if (!printable_text(text)) return Error{"certificate: OIDC issuer is empty or not printable"};
    return text;
  }
  return Error{"certificate: has no OIDC issuer extension (not issued by Fulcio)"};
}

Expected<void> read_sans(X509* cert, FulcioIdentity& out) {
  int crit = 0;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, nullptr)));
  if (!names) {
    ERR_clear_error();
    return Error{"certificate: has no subject alternative name"};
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type != GEN_EMAIL && gn->type != GEN_URI) continue;
    const ASN1_IA5STRING* s =
        gn->type == GEN_EMAIL ? gn->d.rfc822Name : gn->d.uniformResourceIdentifier;
    std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
    if (!printable_text(text))
      return Error{"certificate: subject alternative name is empty or not printable"};
    (gn->type == GEN_EMAIL ? out.emails : out.uris).push_back(std::move(text));
  }
  if (out.emails.empty() && out.uris.empty()) {
    return Error{"certificate: subject alternative name holds no email address or URI"};
  }
  return {};
}

Expected<void> check_usage(X509* leaf) {
  // X509_get_extension_flags caches the parsed extensions and reports invalid ones.
  const std::uint32_t flags = X509_get_extension_flags(leaf);
  if ((flags & EXFLAG_INVALID) != 0) return Error{"certificate: has invalid extensions"};
  if ((flags & EXFLAG_XKUSAGE) == 0 || (X509_get_extended_key_usage(leaf) & XKU_CODE_SIGN) == 0) {
    return Error{"certificate: lacks the codeSigning extended key usage"};
  }
  if ((flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE) == 0) {
    return Error{"certificate: key usage does not allow digitalSignature"};
  }
  return {};
}

struct ChainResult {
  X509StackPtr chain;  // leaf first, on success
  std::string error;   // OpenSSL's reason, on failure
  int error_code = X509_V_OK;
};

ChainResult verify_chain_to(X509* leaf, const CertificateAuthority& ca, std::int64_t at) {
  ChainResult result;
  StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) return {nullptr, "out of memory", X509_V_ERR_OUT_OF_MEM};
  for (std::size_t i = 0; i < ca.chain_der.size(); ++i) {
    auto cert = sc::parse_certificate_der(ca.chain_der[i], "trusted root CA");
    if (!cert) return {nullptr, cert.error().message, X509_V_ERR_UNSPECIFIED};
    // The last certificate is the anchor; those before it are intermediates it vouches for.
    const bool anchor = i + 1 == ca.chain_der.size();
    if (anchor ? X509_STORE_add_cert(store.get(), cert->get()) != 1
               : sk_X509_push(untrusted.get(), cert->get()) <= 0) {
      return {nullptr, sc::take_openssl_error(), X509_V_ERR_UNSPECIFIED};
    }
    if (!anchor) cert->release();  // now owned by the stack
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1) {
    return {nullptr, sc::take_openssl_error(), X509_V_ERR_UNSPECIFIED};
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at));
  // The anchor is what the trusted root lists, self-signed or not.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT);
  if (X509_verify_cert(ctx.get()) == 1) {
    result.chain.reset(X509_STORE_CTX_get1_chain(ctx.get()));
    return result;
  }
  result.error_code = X509_STORE_CTX_get_error(ctx.get());
  result.error = X509_verify_cert_error_string(result.error_code);
  ERR_clear_error();
  return result;
}

std::string describe_time(std::int64_t t) {
  char buf[32] = "?";
  const time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  if (gmtime_r(&tt, &tm) != nullptr) std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::to_string(t) + " (" + buf + ")";
}

}  // namespace

Expected<FulcioIdentity> read_fulcio_identity(ByteView leaf_der) {
  if (leaf_der.size() > kMaxLeafCertificateBytes)
    return Error{"certificate: larger than any Fulcio certificate"};
  auto leaf = sc::parse_certificate_der(leaf_der, "certificate");
  if (!leaf) return leaf.error();
  FulcioIdentity id;
  auto sans = read_sans(leaf->get(), id);
  if (!sans) return sans.error();
  auto issuer = read_issuer(leaf->get());
  if (!issuer) return issuer.error();
  id.issuer = std::move(*issuer);
  return id;
}

Expected<FulcioIdentity> verify_fulcio_certificate(ByteView leaf_der, const TrustedRoot& root,
                                                   std::int64_t at) {
  if (leaf_der.size() > kMaxLeafCertificateBytes)
    return Error{"certificate: larger than any Fulcio certificate"};
  auto leaf = sc::parse_certificate_der(leaf_der, "certificate");
  if (!leaf) return leaf.error();

  ChainResult chain;
  bool any_ca_valid = false;
  for (const auto& ca : root.certificate_authorities) {
    if (!ca.valid_for.contains(at)) continue;
    any_ca_valid = true;
    ChainResult attempt = verify_chain_to(leaf->get(), ca, at);
    // Prefer a reason about time or trust from a CA that issued the leaf over "unknown issuer".
    const bool more_specific =
        chain.error.empty() || attempt.error_code != X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
    if (attempt.chain || more_specific) chain = std::move(attempt);
    if (chain.chain) break;
  }
  if (!any_ca_valid) {
    return Error{
        "certificate chain: no Fulcio CA of the trusted root is valid at the integrated time " +
        describe_time(at)};
  }
  if (!chain.chain) {
    return Error{
        "certificate chain: not verified by any Fulcio CA of the trusted root at the integrated "
        "time " +
        describe_time(at) + ": " + chain.error};
  }
  auto usage = check_usage(leaf->get());
  if (!usage) return usage.error();
  if (sk_X509_num(chain.chain.get()) < 2)
    return Error{"certificate chain: the leaf is itself a trust anchor"};
  auto sct = verify_embedded_scts(leaf->get(), sk_X509_value(chain.chain.get(), 1), root);
  if (!sct) return sct.error();

  FulcioIdentity id;
  auto sans = read_sans(leaf->get(), id);
  if (!sans) return sans.error();
  auto issuer = read_issuer(leaf->get());
  if (!issuer) return issuer.error();
  id.issuer = std::move(*issuer);
  return id;
}

}  // namespace mlsc::sign
