#include "mlsc/sign/certificate.hpp"

#include <gtest/gtest.h>

#include "mlsc/sign/bundle.hpp"
#include "pki_fixture.hpp"

namespace mlsc::sign {
namespace {

using namespace testing;

fs::path golden_keys() {
  return vectors_dir() / "golden-bundles" / "keys" / "certificate";
}

std::vector<Certificate> load(const fs::path& f) {
  auto c = Certificate::load_pem_file(f);
  EXPECT_TRUE(c) << f << ": " << (c ? "" : c.error().describe());
  return c ? *c : std::vector<Certificate>{};
}

// Leaf first, then intermediates, as a bundle carries them.
std::vector<Certificate> chain_of(std::initializer_list<fs::path> files) {
  std::vector<Certificate> out;
  for (const auto& f : files) {
    for (auto& c : load(f)) out.push_back(std::move(c));
  }
  return out;
}

struct Outcome {
  bool ok = false;
  std::string code;
  std::string message;
};

Outcome verify(const std::vector<Certificate>& chain, const std::vector<Certificate>& anchors) {
  std::string code;
  const auto key = verify_certificate_chain(chain, anchors, {}, &code);
  return {bool(key), code, key ? std::string() : key.error().message};
}

TEST(Certificate, TheReferencesGoldenChainVerifiesToItsRoot) {
  const auto bundle =
      read_bundle(vectors_dir() / "golden-bundles" / "v1.1.0-certificate" / "model.sig");
  ASSERT_TRUE(bundle);
  std::vector<Certificate> chain;
  for (const auto& der : bundle->certificates) chain.push_back(*Certificate::from_der(der));
  const auto key = verify_certificate_chain(chain, load(golden_keys() / "ca-cert.pem"));
  ASSERT_TRUE(key) << key.error().describe();
  EXPECT_TRUE(*key == *PublicKey::load(golden_keys() / "signing-key-pub.pem"));
  // The intermediate alone is also an acceptable anchor (partial chains are allowed).
  EXPECT_TRUE(verify_certificate_chain(chain, load(golden_keys() / "int-ca-cert.pem")));
  // Without the intermediate, the root cannot be reached.
  const Outcome no_intermediate = verify({chain.front()}, load(golden_keys() / "ca-cert.pem"));
  EXPECT_EQ(no_intermediate.code, "certificate.untrusted") << no_intermediate.message;
  EXPECT_EQ(chain.front().not_before(), 1746228988);  // 2025-05-02T23:36:28Z
  EXPECT_EQ(format_utc(chain.front().not_before()), "2025-05-02T23:36:28Z");
}

class CertificatePki : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_tool("openssl")) GTEST_SKIP() << "openssl command line tool not installed";
    pki_ = std::make_unique<TestPki>(dir_.path());
  }
  ScratchDir dir_;
  std::unique_ptr<TestPki> pki_;
};

TEST_F(CertificatePki, GoodLeafVerifies) {
  const auto leaf =
      pki_->leaf("good", "intermediate", "code_signing", "20210101000000Z", "20390101000000Z");
  const Outcome o = verify(chain_of({leaf.cert, pki_->intermediate}), load(pki_->root));
  EXPECT_TRUE(o.ok) << o.message;
}

TEST_F(CertificatePki, WrongAnchorIsUntrusted) {
  const auto leaf =
      pki_->leaf("good", "intermediate", "code_signing", "20210101000000Z", "20390101000000Z");
  const Outcome o = verify(chain_of({leaf.cert, pki_->intermediate}), load(pki_->other_root));
  EXPECT_EQ(o.code, "certificate.untrusted") << o.message;
  EXPECT_NE(o.message.find("trust anchor"), std::string::npos);
}

TEST_F(CertificatePki, ExpiredLeafIsRejected) {
  const auto leaf =
      pki_->leaf("expired", "intermediate", "code_signing", "20200101000000Z", "20210101000000Z");
  const Outcome o = verify(chain_of({leaf.cert, pki_->intermediate}), load(pki_->root));
  EXPECT_EQ(o.code, "certificate.expired") << o.message;
  EXPECT_NE(o.message.find("expired on 2021-01-01T00:00:00Z"), std::string::npos) << o.message;
  // The reference's rule alone (chain checked at the leaf's notBefore) would accept it.
  ChainPolicy at_issuance;
  at_issuance.require_leaf_valid_now = false;
  EXPECT_TRUE(verify_certificate_chain(chain_of({leaf.cert, pki_->intermediate}), load(pki_->root),
                                       at_issuance));
}

TEST_F(CertificatePki, LeafIssuedAfterItsIntermediateExpiredIsRejected) {
  const auto leaf =
      pki_->leaf("late", "old-intermediate", "code_signing", "20210101000000Z", "20390101000000Z");
  const Outcome o = verify(chain_of({leaf.cert, pki_->old_intermediate}), load(pki_->root));
  EXPECT_EQ(o.code, "certificate.expired") << o.message;
  EXPECT_NE(o.message.find("CN=old-intermediate"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("had expired on 2020-01-01T00:00:00Z"), std::string::npos) << o.message;
}

TEST_F(CertificatePki, NonCodeSigningLeafIsRejected) {
  const auto leaf =
      pki_->leaf("tls", "intermediate", "tls_server", "20210101000000Z", "20390101000000Z");
  const Outcome o = verify(chain_of({leaf.cert, pki_->intermediate}), load(pki_->root));
  EXPECT_EQ(o.code, "certificate.usage") << o.message;
  EXPECT_NE(o.message.find("digitalSignature"), std::string::npos);
  EXPECT_NE(o.message.find("codeSigning"), std::string::npos);
}

TEST(Certificate, MalformedInputs) {
  EXPECT_FALSE(Certificate::from_der({}));
  const std::uint8_t junk[] = {0x30, 0x82, 0x01};
  EXPECT_FALSE(Certificate::from_der(junk));
  EXPECT_FALSE(Certificate::parse_pem("no certificate here"));
  EXPECT_FALSE(
      Certificate::parse_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
  auto der = load(golden_keys() / "ca-cert.pem").front().der();
  der.push_back(0);
  EXPECT_FALSE(Certificate::from_der(der));  // trailing byte
  EXPECT_FALSE(verify_certificate_chain({}, load(golden_keys() / "ca-cert.pem")));
}

}  // namespace
}  // namespace mlsc::sign
