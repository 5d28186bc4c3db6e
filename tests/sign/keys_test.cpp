#include "mlsc/sign/keys.hpp"

#include <gtest/gtest.h>

#include "pki_fixture.hpp"

namespace mlsc::sign {
namespace {

using namespace testing;

fs::path golden_keys() {
  return vectors_dir() / "golden-bundles" / "keys" / "certificate";
}

TEST(Keys, ReadsTheReferencePublicKeyWithTextBeforeThePemBlock) {
  const auto key = PublicKey::load(golden_keys() / "signing-key-pub.pem");
  ASSERT_TRUE(key) << key.error().describe();
  EXPECT_EQ(key->algorithm(), KeyAlgorithm::ecdsa_p384);
  // The hint the reference 1.1.0 wrote into v1.1.0-elliptic-key/model.sig for this key.
  EXPECT_EQ(key->hint(), "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e");
  EXPECT_TRUE(key->spki_pem().starts_with("-----BEGIN PUBLIC KEY-----\n"));
  EXPECT_TRUE(key->spki_pem().ends_with("-----END PUBLIC KEY-----\n"));
  const auto private_key = PrivateKey::load(golden_keys() / "signing-key.pem");
  ASSERT_TRUE(private_key) << private_key.error().describe();
  EXPECT_TRUE(private_key->public_key() == *key);
  EXPECT_TRUE(PublicKey::parse(key->spki_der()));  // DER works too
}

TEST(Keys, SignAndVerifyOnEveryCurveAndEd25519) {
  if (!have_tool("openssl")) GTEST_SKIP() << "openssl command line tool not installed";
  ScratchDir dir;
  const std::pair<const char*, KeyAlgorithm> cases[] = {{"P-256", KeyAlgorithm::ecdsa_p256},
                                                        {"P-384", KeyAlgorithm::ecdsa_p384},
                                                        {"P-521", KeyAlgorithm::ecdsa_p521},
                                                        {"ED25519", KeyAlgorithm::ed25519}};
  for (const auto& [curve, algorithm] : cases) {
    const auto key = PrivateKey::load(make_key(dir.path(), curve, curve));
    ASSERT_TRUE(key) << curve << ": " << key.error().describe();
    EXPECT_EQ(key->algorithm(), algorithm);
    const auto pub = PublicKey::load(public_key_of(dir.path() / (std::string(curve) + ".key")));
    ASSERT_TRUE(pub);
    const std::string message = "DSSEv1 3 abc 5 hello";
    const auto sig = key->sign(as_bytes(message));
    ASSERT_TRUE(sig);
    if (algorithm == KeyAlgorithm::ed25519) {
      EXPECT_EQ(sig->size(), 64U);
    } else {
      EXPECT_EQ((*sig)[0], 0x30);  // DER SEQUENCE, as the reference writes ECDSA signatures
    }
    EXPECT_TRUE(pub->verify(as_bytes(message), *sig)) << curve;
    EXPECT_FALSE(pub->verify(as_bytes(message + "!"), *sig)) << curve;
    std::vector<std::uint8_t> flipped = *sig;
    flipped[flipped.size() / 2] ^= 1;
    EXPECT_FALSE(pub->verify(as_bytes(message), flipped)) << curve;
  }
}

TEST(Keys, EcdsaUsesTheCurvesHash) {
  if (!have_tool("openssl")) GTEST_SKIP() << "openssl command line tool not installed";
  ScratchDir dir;
  const fs::path key = make_key(dir.path(), "P-384", "k");
  const fs::path msg = dir.path() / "msg";
  write_file(msg, "payload");
  const fs::path sig = dir.path() / "sig";
  // openssl dgst -sha384 makes the signature the reference would make for a P-384 key.
  ASSERT_TRUE(run_quiet("openssl dgst -sha384 -sign '" + key.string() + "' -out '" + sig.string() +
                        "' '" + msg.string() + "'"));
  const auto pub = PublicKey::load(public_key_of(key));
  ASSERT_TRUE(pub);
  const std::string s = read_file(sig);
  EXPECT_TRUE(pub->verify(as_bytes(std::string("payload")), as_bytes(s)));
  EXPECT_FALSE(pub->verify_with_digest(as_bytes(std::string("payload")), as_bytes(s), "SHA256"));
}

TEST(Keys, RefusesUnsupportedAndEncryptedKeys) {
  if (!have_tool("openssl")) GTEST_SKIP() << "openssl command line tool not installed";
  ScratchDir dir;
  const fs::path rsa = dir.path() / "rsa.key";
  ASSERT_TRUE(run_quiet("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out '" +
                        rsa.string() + "'"));
  const auto r = PrivateKey::load(rsa);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("unsupported key type"), std::string::npos) << r.error().message;

  const fs::path p224 = make_key(dir.path(), "P-224", "p224");
  const auto c = PrivateKey::load(p224);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("unsupported elliptic curve"), std::string::npos)
      << c.error().message;

  const fs::path enc = dir.path() / "enc.key";
  ASSERT_TRUE(run_quiet("openssl pkey -in '" + make_key(dir.path(), "P-256", "plain").string() +
                        "' -aes256 -passout pass:x -out '" + enc.string() + "'"));
  const auto e = PrivateKey::load(enc);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("encrypted"), std::string::npos) << e.error().message;
}

TEST(Keys, GarbageIsAnErrorNotACrash) {
  EXPECT_FALSE(PublicKey::parse(
      as_bytes(std::string_view("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))));
  EXPECT_FALSE(PublicKey::parse(as_bytes(std::string_view("\x30\x03\x02\x01\x01"))));
  EXPECT_FALSE(PublicKey::parse({}));
  EXPECT_FALSE(PrivateKey::parse_pem("not a key"));
  ScratchDir dir;
  EXPECT_FALSE(PublicKey::load(dir.path() / "absent.pem"));
  EXPECT_FALSE(PublicKey::load(dir.path()));  // a directory
  write_file(dir.path() / "huge.pem", std::string(kMaxKeyFileBytes + 1, 'A'));
  const auto huge = PublicKey::load(dir.path() / "huge.pem");
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().message.find("limit"), std::string::npos);
}

}  // namespace
}  // namespace mlsc::sign
