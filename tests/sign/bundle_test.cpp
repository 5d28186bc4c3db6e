#include "mlsc/sign/bundle.hpp"

#include <gtest/gtest.h>

#include "sign_test_util.hpp"

namespace mlsc::sign {
namespace {

using namespace testing;
using nlohmann::json;

fs::path golden(const std::string& folder) {
  return vectors_dir() / "golden-bundles" / folder / "model.sig";
}
fs::path spec_vector(const std::string& name) {
  return vectors_dir() / "spec-test-vectors" / name;
}

std::string error_of(std::string_view text) {
  const auto b = parse_bundle(text);
  EXPECT_FALSE(b) << "accepted: " << text.substr(0, 200);
  return b ? std::string() : b.error().message;
}

TEST(Bundle, ReadsEveryGoldenBundleLayout) {
  const std::pair<const char*, MaterialKind> cases[] = {
      {"v0.2.0-certificate", MaterialKind::certificate_chain},
      {"v0.3.1-certificate", MaterialKind::certificate_chain},
      {"v1.0.0-certificate", MaterialKind::certificate_chain},
      {"v1.0.1-certificate", MaterialKind::certificate_chain},
      {"v1.1.0-certificate", MaterialKind::certificate_chain},
      {"v0.3.1-elliptic-key", MaterialKind::public_key},
      {"v1.0.0-elliptic-key", MaterialKind::public_key},
      {"v1.0.1-elliptic-key", MaterialKind::public_key},
      {"v1.1.0-elliptic-key", MaterialKind::public_key},
      {"v0.3.1-sigstore", MaterialKind::certificate},
      {"v1.0.0-sigstore", MaterialKind::certificate},
      {"v1.0.1-sigstore", MaterialKind::certificate},
      {"v1.1.0-sigstore", MaterialKind::certificate},
  };
  for (const auto& [folder, kind] : cases) {
    const auto b = read_bundle(golden(folder));
    ASSERT_TRUE(b) << folder << ": " << b.error().describe();
    EXPECT_EQ(b->kind, kind) << folder;
    EXPECT_EQ(b->media_type, kBundleMediaTypeV03);
    EXPECT_EQ(b->envelope.payload_type, "application/vnd.in-toto+json");
    EXPECT_EQ(b->envelope.signatures.size(), 1U);
    EXPECT_EQ(b->envelope.payload.front(), '{');
    if (kind == MaterialKind::certificate_chain) {
      EXPECT_EQ(b->certificates.size(), 2U) << folder;
    }
    if (kind == MaterialKind::certificate) {
      EXPECT_EQ(b->certificates.size(), 1U);
      EXPECT_EQ(b->tlog_entries.size(), 1U) << folder;
    }
  }
  // Before 1.1.0 the reference put the PEM text of the key in rawBytes; from 1.1.0 a hint.
  const auto old_key = read_bundle(golden("v1.0.0-elliptic-key"));
  ASSERT_TRUE(old_key);
  EXPECT_EQ(old_key->public_key.key_details, "PKIX_ECDSA_P384_SHA_384");
  EXPECT_TRUE(
      std::string(old_key->public_key.raw_bytes.begin(), old_key->public_key.raw_bytes.end())
          .starts_with("-----BEGIN PUBLIC KEY-----"));
  const auto new_key = read_bundle(golden("v1.1.0-elliptic-key"));
  ASSERT_TRUE(new_key);
  EXPECT_EQ(new_key->public_key.hint,
            "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e");
}

TEST(Bundle, SpecInvalidVectorsAreRejectedWithTheReason) {
  EXPECT_NE(read_bundle(spec_vector("invalid/empty.bundle.json")).error().message.find("empty"),
            std::string::npos);
  EXPECT_NE(read_bundle(spec_vector("invalid/missing-envelope.bundle.json"))
                .error()
                .message.find("no dsseEnvelope"),
            std::string::npos);
  EXPECT_NE(read_bundle(spec_vector("invalid/missing-verification-material.bundle.json"))
                .error()
                .message.find("no verificationMaterial"),
            std::string::npos);
  // Structurally a bundle: rejected by the Sigstore checks (no log entry); see sign_verify_test.
  const auto no_tlog = read_bundle(spec_vector("invalid/missing-tlog-entries.bundle.json"));
  ASSERT_TRUE(no_tlog);
  EXPECT_TRUE(no_tlog->tlog_entries.empty());
  EXPECT_FALSE(no_tlog->has_tlog_entries_field);
}

TEST(Bundle, TruncatedBundleIsAnErrorWithAnOffset) {
  const std::string text = read_file(golden("v1.1.0-elliptic-key"));
  for (std::size_t keep : {text.size() - 1, text.size() / 2, std::size_t{1}}) {
    const auto b = parse_bundle(std::string_view(text).substr(0, keep));
    ASSERT_FALSE(b);
    EXPECT_NE(b.error().message.find("not valid JSON"), std::string::npos) << b.error().message;
    EXPECT_TRUE(b.error().offset.has_value());
  }
}

TEST(Bundle, RejectsHostileShapes) {
  EXPECT_NE(error_of("[]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of(std::string(100, '[') + std::string(100, ']')).find("nested"),
            std::string::npos);
  json b = json::parse(read_file(golden("v1.1.0-elliptic-key")));
  auto with = [&](const std::function<void(json&)>& change) {
    json copy = b;
    change(copy);
    return error_of(copy.dump());
  };
  EXPECT_NE(with([](json& j) { j["extra"] = 1; }).find("unknown top-level field"),
            std::string::npos);
  EXPECT_NE(
      with([](json& j) { j["mediaType"] = "application/json"; }).find("unsupported mediaType"),
      std::string::npos);
  EXPECT_NE(with([](json& j) { j.erase("mediaType"); }).find("mediaType"), std::string::npos);
  EXPECT_NE(with([](json& j) {
              j["verificationMaterial"]["publicKey"] = json::object();
            }).find("neither a hint"),
            std::string::npos);
  EXPECT_NE(with([](json& j) {
              j["verificationMaterial"]["certificate"] = {{"rawBytes", "AQID"}};
            }).find("more than one"),
            std::string::npos);
  EXPECT_NE(with([](json& j) {
              j["verificationMaterial"] = {{"tlogEntries", json::array()}};
            }).find("no publicKey, x509CertificateChain or certificate"),
            std::string::npos);
  EXPECT_NE(
      with([](json& j) { j["verificationMaterial"]["tlogEntries"] = {1}; }).find("tlogEntries"),
      std::string::npos);
  EXPECT_NE(
      with([](json& j) { j["dsseEnvelope"]["payload"] = "!!!!"; }).find("dsseEnvelope.payload"),
      std::string::npos);
  EXPECT_NE(with([](json& j) {
              j.erase("dsseEnvelope");
              j["messageSignature"] = json::object();
            }).find("messageSignature"),
            std::string::npos);
  json chain = json::parse(read_file(golden("v1.1.0-certificate")));
  chain["verificationMaterial"]["x509CertificateChain"]["certificates"] = json::array();
  EXPECT_NE(error_of(chain.dump()).find("empty chain"), std::string::npos);
}

TEST(Bundle, FileLimits) {
  ScratchDir dir;
  EXPECT_FALSE(read_bundle(dir.path() / "absent.sig"));
  write_file(dir.path() / "big.sig", std::string(kMaxBundleBytes + 1, ' '));
  const auto big = read_bundle(dir.path() / "big.sig");
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message.find("limit"), std::string::npos);
}

TEST(Bundle, WritesWhatTheReferenceWritesAndReadsItBack) {
  const auto b = read_bundle(golden("v1.1.0-elliptic-key"));
  ASSERT_TRUE(b);
  // Our serialisation of a 1.1.0 key bundle is byte-identical to the reference's file.
  EXPECT_EQ(serialize_bundle(*b), read_file(golden("v1.1.0-elliptic-key")));
  const auto cert = read_bundle(golden("v1.1.0-certificate"));
  ASSERT_TRUE(cert);
  EXPECT_EQ(serialize_bundle(*cert), read_file(golden("v1.1.0-certificate")));

  ScratchDir dir;
  ASSERT_TRUE(write_bundle(*cert, dir.path() / "model.sig"));
  const auto back = read_bundle(dir.path() / "model.sig");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->certificates, cert->certificates);
  EXPECT_EQ(back->envelope.payload, cert->envelope.payload);
}

TEST(Bundle, NestingScanIgnoresBracketsInStrings) {
  EXPECT_FALSE(json_nesting_exceeds(R"({"a": "[[[[[[[[[[", "b": "\"{{{{{{{{"})", 2));
  EXPECT_TRUE(json_nesting_exceeds("[[[", 2));
  EXPECT_FALSE(json_nesting_exceeds("[[]]", 2));
}

}  // namespace
}  // namespace mlsc::sign
