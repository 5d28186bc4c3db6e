// Signing and verifying arbitrary in-toto statements (dataset manifests, provenance, checkpoint
// records) in the model-signing bundle format, in key and certificate mode.
#include "mlsc/sign/statement_bundle.hpp"

#include <gtest/gtest.h>

#include "pki_fixture.hpp"

namespace mlsc::sign {
namespace {

using namespace testing;

nlohmann::ordered_json example_statement() {
  nlohmann::ordered_json s;
  s["_type"] = kInTotoStatementV1;
  s["subject"] = nlohmann::ordered_json::array(
      {{{"name", "model.safetensors"}, {"digest", {{"sha256", std::string(64, 'a')}}}}});
  s["predicateType"] = "https://slsa.dev/provenance/v1";
  s["predicate"] = {{"buildDefinition", {{"buildType", "https://example.test/step/v1"}}}};
  return s;
}

std::string codes(const StatementCheck& c) {
  std::string s;
  for (const auto& f : c.failures) s += f.code + ": " + f.message + "\n";
  return s;
}

TEST(StatementBundle, KeyModeRoundTripsTheExactStatement) {
  ScratchDir dir;
  const auto key = make_key(dir.path(), "P-256", "signer");
  const auto pub = public_key_of(key);
  auto bundle = sign_statement(example_statement(), key);
  ASSERT_TRUE(bundle) << bundle.error().describe();
  ASSERT_TRUE(write_bundle(*bundle, dir.path() / "step.sig"));

  auto check = verify_statement_file(dir.path() / "step.sig", {TrustMode::public_key, pub, "", ""},
                                     "https://slsa.dev/provenance/v1");
  ASSERT_TRUE(check.ok()) << codes(check);
  EXPECT_EQ(check.verified.statement, nlohmann::json(example_statement()));
  EXPECT_EQ(check.verified.predicate_type, "https://slsa.dev/provenance/v1");
  EXPECT_EQ(check.verified.signer.rfind("key ", 0), 0U) << check.verified.signer;
}

TEST(StatementBundle, WrongKeyTamperedPayloadAndWrongTypeFail) {
  ScratchDir dir;
  const auto key = make_key(dir.path(), "P-384", "signer");
  const auto other = public_key_of(make_key(dir.path(), "P-384", "other"));
  auto bundle = sign_statement(example_statement(), key);
  ASSERT_TRUE(bundle);

  auto wrong_key = verify_statement_bundle(*bundle, {TrustMode::public_key, other, "", ""});
  EXPECT_FALSE(wrong_key.ok());

  const auto pub = public_key_of(key);
  auto wrong_type = verify_statement_bundle(*bundle, {TrustMode::public_key, pub, "", ""},
                                            "https://mlsc.dev/dataset-manifest/v1");
  ASSERT_EQ(wrong_type.failures.size(), 1U) << codes(wrong_type);
  EXPECT_EQ(wrong_type.failures[0].code, "statement.predicate_type");

  Bundle tampered = *bundle;
  const std::string needle = "model.safetensors";
  auto& p = tampered.envelope.payload;
  const std::string text(p.begin(), p.end());
  const auto at = text.find(needle);
  ASSERT_NE(at, std::string::npos);
  p[at] = static_cast<std::uint8_t>('M');
  EXPECT_FALSE(verify_statement_bundle(tampered, {TrustMode::public_key, pub, "", ""}).ok());
}

TEST(StatementBundle, CertificateModeChecksTheChain) {
  ScratchDir dir;
  TestPki pki(dir.path());
  auto leaf =
      pki.leaf("builder", "intermediate", "code_signing", "20200101000000Z", "20390101000000Z");
  auto bundle =
      sign_statement(example_statement(), leaf.key, {leaf.cert, pki.cert("intermediate")});
  ASSERT_TRUE(bundle) << bundle.error().describe();
  auto good = verify_statement_bundle(*bundle, {TrustMode::certificate, pki.root, "", ""});
  EXPECT_TRUE(good.ok()) << codes(good);
  auto other = verify_statement_bundle(*bundle, {TrustMode::certificate, pki.other_root, "", ""});
  EXPECT_FALSE(other.ok());
}

TEST(StatementBundle, RefusesToSignAStatementWithoutSubjectOrType) {
  ScratchDir dir;
  const auto key = make_key(dir.path(), "P-256", "signer");
  auto s = example_statement();
  s["subject"] = nlohmann::ordered_json::array();
  EXPECT_FALSE(sign_statement(s, key));
  s = example_statement();
  s.erase("predicateType");
  EXPECT_FALSE(sign_statement(s, key));
  s = example_statement();
  s["_type"] = "https://in-toto.io/Statement/v0.1";
  EXPECT_FALSE(sign_statement(s, key));
}

}  // namespace
}  // namespace mlsc::sign
