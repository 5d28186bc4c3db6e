// Fulcio certificate checks on certificates made here with OpenSSL: where the OIDC issuer is
// read from (the v2 DER extension, else the legacy raw one), which SANs count as identities,
// and what a leaf from a trusted CA still needs (code-signing EKU, digitalSignature, an SCT).
#include "sign/fulcio.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <vector>

namespace mlsc::sign {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

Key new_key() {
  return Key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
}

constexpr std::int64_t kNotBefore = 1700000000;
constexpr std::int64_t kLifetime = 600;

void add_nid(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr) << value;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

void add_raw(X509* cert, const char* oid, const std::string& value) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid, 1);
  ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(data, reinterpret_cast<const unsigned char*>(value.data()),
                        static_cast<int>(value.size()));
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 0, data);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(data);
  ASN1_OBJECT_free(obj);
}

// DER UTF8String of short text, as Fulcio writes the v2 issuer extension.
std::string der_utf8(const std::string& text) {
  return std::string{0x0c, static_cast<char>(text.size())} + text;
}

struct Spec {
  std::string san = "critical,email:signer@example.com";  // critical: the subject is empty
  std::string eku = "codeSigning";
  std::string key_usage = "critical,digitalSignature";
  std::string issuer_v2 = der_utf8("https://issuer.example");
  std::string issuer_v1;
};

Cert make_cert(EVP_PKEY* key, EVP_PKEY* signer, X509* issuer, const std::string& cn, bool ca,
               const Spec& spec = {}) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ca ? 1 : 2);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), ca ? kNotBefore - 86400 : kNotBefore);
  ASN1_TIME_set(X509_getm_notAfter(cert.get()),
                ca ? kNotBefore + 86400 * 365 : kNotBefore + kLifetime);
  X509_set_pubkey(cert.get(), key);
  X509* issuer_cert = issuer != nullptr ? issuer : cert.get();
  add_nid(cert.get(), issuer_cert, NID_subject_key_identifier, "hash");
  add_nid(cert.get(), issuer_cert, NID_authority_key_identifier, "keyid:always");
  if (ca) {
    add_nid(cert.get(), issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    add_nid(cert.get(), issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    if (!spec.key_usage.empty())
      add_nid(cert.get(), issuer_cert, NID_key_usage, spec.key_usage.c_str());
    if (!spec.eku.empty()) add_nid(cert.get(), issuer_cert, NID_ext_key_usage, spec.eku.c_str());
    if (!spec.san.empty()) add_nid(cert.get(), issuer_cert, NID_subject_alt_name, spec.san.c_str());
    if (!spec.issuer_v1.empty()) add_raw(cert.get(), "1.3.6.1.4.1.57264.1.1", spec.issuer_v1);
    if (!spec.issuer_v2.empty()) add_raw(cert.get(), "1.3.6.1.4.1.57264.1.8", spec.issuer_v2);
  }
  EXPECT_GT(X509_sign(cert.get(), signer, EVP_sha256()), 0);
  return cert;
}

std::vector<std::uint8_t> der(X509* cert) {
  unsigned char* out = nullptr;
  const int len = i2d_X509(cert, &out);
  std::vector<std::uint8_t> v(out, out + len);
  OPENSSL_free(out);
  return v;
}

class Fulcio : public ::testing::Test {
 protected:
  Key ca_key = new_key();
  Key leaf_key = new_key();
  Cert ca = make_cert(ca_key.get(), ca_key.get(), nullptr, "test fulcio", true);

  std::vector<std::uint8_t> leaf(const Spec& spec = {}) {
    return der(make_cert(leaf_key.get(), ca_key.get(), ca.get(), "", false, spec).get());
  }
  TrustedRoot root() const {
    TrustedRoot r;
    CertificateAuthority a;
    a.chain_der.push_back(der(ca.get()));
    r.certificate_authorities.push_back(a);
    TransparencyLogKey ct;  // a CT log that never signed anything here
    ct.log_id.assign(32, 7);
    r.ctlogs.push_back(ct);
    return r;
  }
  void expect_refused(const Spec& spec, std::int64_t at, const std::string& reason) {
    auto r = verify_fulcio_certificate(leaf(spec), root(), at);
    ASSERT_FALSE(r) << reason;
    EXPECT_NE(r.error().message.find(reason), std::string::npos) << r.error().message;
  }
};

TEST_F(Fulcio, ReadsTheV2IssuerAndTheSans) {
  Spec spec;
  spec.san =
      "email:a@example.com,URI:https://github.com/o/r/.github/workflows/w.yml@refs/heads/main";
  auto id = read_fulcio_identity(leaf(spec));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->emails, std::vector<std::string>{"a@example.com"});
  EXPECT_EQ(id->uris, std::vector<std::string>{
                          "https://github.com/o/r/.github/workflows/w.yml@refs/heads/main"});
  EXPECT_EQ(id->issuer, "https://issuer.example");
}

TEST_F(Fulcio, PrefersTheV2IssuerOverTheLegacyOne) {
  Spec spec;
  spec.issuer_v1 = "https://legacy.example";
  auto id = read_fulcio_identity(leaf(spec));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->issuer, "https://issuer.example");
}

TEST_F(Fulcio, FallsBackToTheLegacyIssuer) {
  Spec spec;
  spec.issuer_v2.clear();
  spec.issuer_v1 = "https://legacy.example";
  auto id = read_fulcio_identity(leaf(spec));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->issuer, "https://legacy.example");
}

TEST_F(Fulcio, RefusesMissingOrMalformedIdentity) {
  Spec spec;
  spec.issuer_v2.clear();
  EXPECT_FALSE(read_fulcio_identity(leaf(spec)));  // no issuer at all
  spec = {};
  spec.issuer_v2 = "https://not-der.example";
  auto r = read_fulcio_identity(leaf(spec));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not a DER UTF8String"), std::string::npos) << r.error().message;
  spec = {};
  spec.issuer_v2 = der_utf8("bad\nissuer");
  EXPECT_FALSE(read_fulcio_identity(leaf(spec)));
  spec = {};
  spec.san = "DNS:example.com";
  r = read_fulcio_identity(leaf(spec));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no email address or URI"), std::string::npos)
      << r.error().message;
  spec = {};
  spec.san.clear();
  EXPECT_FALSE(read_fulcio_identity(leaf(spec)));
  EXPECT_FALSE(read_fulcio_identity(std::vector<std::uint8_t>{0x30, 0x03, 0x02, 0x01, 0x01}));
}

TEST_F(Fulcio, LeafNeedsCodeSigningEku) {
  Spec spec;
  spec.eku = "serverAuth";
  expect_refused(spec, kNotBefore + 60, "codeSigning");
  spec.eku.clear();
  expect_refused(spec, kNotBefore + 60, "codeSigning");
}

TEST_F(Fulcio, LeafNeedsDigitalSignature) {
  Spec spec;
  spec.key_usage = "critical,keyEncipherment";
  expect_refused(spec, kNotBefore + 60, "digitalSignature");
}

TEST_F(Fulcio, LeafNeedsAnSct) {
  // Everything else in order: the chain, the EKU; only the SCT is missing.
  expect_refused({}, kNotBefore + 60, "carries no signed certificate timestamp");
}

TEST_F(Fulcio, ChainIsCheckedAtTheGivenTime) {
  expect_refused({}, kNotBefore + kLifetime + 1, "certificate has expired");
  expect_refused({}, kNotBefore - 1, "certificate is not yet valid");
}

TEST_F(Fulcio, CaValidityRangeIsHonoured) {
  TrustedRoot r = root();
  r.certificate_authorities[0].valid_for.end = kNotBefore;
  auto res = verify_fulcio_certificate(leaf(), r, kNotBefore + 60);
  ASSERT_FALSE(res);
  EXPECT_NE(res.error().message.find("no Fulcio CA of the trusted root is valid"),
            std::string::npos);
}

TEST_F(Fulcio, LeafFromAnotherCa) {
  Key other_key = new_key();
  Cert other = make_cert(other_key.get(), other_key.get(), nullptr, "test fulcio", true);
  const auto foreign =
      der(make_cert(leaf_key.get(), other_key.get(), other.get(), "", false).get());
  auto r = verify_fulcio_certificate(foreign, root(), kNotBefore + 60);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not verified by any Fulcio CA"), std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace mlsc::sign
