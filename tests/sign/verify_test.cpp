#include "mlsc/sign/verify.hpp"

#include <gtest/gtest.h>

#include "mlsc/sign/statement.hpp"
#include "sign_test_util.hpp"

namespace mlsc::sign {
namespace {

using namespace testing;
using nlohmann::json;

std::string base64_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) continue;  // padding
    acc = (acc << 6U) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xFFU));
    }
  }
  return out;
}

// The signed statement inside a golden bundle (signature checks are not this layer's job).
Manifest golden_manifest(const fs::path& bundle) {
  const json b = json::parse(read_file(bundle));
  const auto m = parse_statement(base64_decode(b["dsseEnvelope"]["payload"].get<std::string>()));
  EXPECT_TRUE(m) << bundle << ": " << (m ? "" : m.error().describe());
  return m ? *m : Manifest{};
}

struct GoldenCase {
  std::string folder;
  bool single_file;  // verified against the file signme-1, not the folder
  bool ignore_me;    // the reference's tests pass --ignore-paths ignore-me
};

// vectors/model-signing/README.md: how the reference verifies each golden bundle.
const std::vector<GoldenCase>& golden_cases() {
  static const std::vector<GoldenCase> cases = {
      {"v0.2.0-certificate", false, false}, {"v0.3.1-certificate", false, false},
      {"v1.0.0-certificate", false, false}, {"v1.0.1-certificate", false, true},
      {"v1.1.0-certificate", false, true},  {"v0.3.1-elliptic-key", true, false},
      {"v1.0.0-elliptic-key", true, false}, {"v1.0.1-elliptic-key", false, true},
      {"v1.1.0-elliptic-key", false, true}, {"v0.3.1-sigstore", false, false},
      {"v1.0.0-sigstore", false, false},    {"v1.0.1-sigstore", false, true},
      {"v1.1.0-sigstore", false, true},
  };
  return cases;
}

TEST(Verify, EveryGoldenBundleManifestMatchesItsModel) {
  for (const auto& c : golden_cases()) {
    const fs::path dir = vectors_dir() / "golden-bundles" / c.folder;
    const Manifest expected = golden_manifest(dir / "model.sig");
    VerifyOptions v;
    v.signature = dir / "model.sig";
    if (c.ignore_me) v.ignore_paths = {"ignore-me"};
    const auto diff = verify_model(c.single_file ? dir / "signme-1" : dir, expected, v);
    ASSERT_TRUE(diff) << c.folder << ": " << diff.error().describe();
    EXPECT_TRUE(diff->ok()) << c.folder << ": " << to_json(*diff).dump();
  }
}

TEST(Verify, RecordedIgnorePathsAreAppliedOnVerify) {
  // v1.1.0 records ignore-me in the statement, so the verifier needs no --ignore-paths.
  const fs::path dir = vectors_dir() / "golden-bundles" / "v1.1.0-sigstore";
  const Manifest expected = golden_manifest(dir / "model.sig");
  VerifyOptions v;
  v.signature = dir / "model.sig";
  const auto diff = verify_model(dir, expected, v);
  ASSERT_TRUE(diff);
  EXPECT_TRUE(diff->ok()) << to_json(*diff).dump();

  // v1.0.1 does not record it: without the flag the unsigned file is reported, by name.
  const fs::path old = vectors_dir() / "golden-bundles" / "v1.0.1-sigstore";
  v.signature = old / "model.sig";
  const auto strict = verify_model(old, golden_manifest(old / "model.sig"), v);
  ASSERT_TRUE(strict);
  EXPECT_EQ(strict->extra, std::vector<std::string>{"ignore-me"});
  v.allow_extra = true;
  EXPECT_TRUE(verify_model(old, golden_manifest(old / "model.sig"), v)->ok());
}

// A copy of a golden model, then the tampering the issue lists: a flipped byte, a renamed
// file, an added file.
TEST(Verify, ReportsChangedMissingAndExtraFilesByName) {
  const fs::path golden = vectors_dir() / "golden-bundles" / "v1.0.0-certificate";
  const Manifest expected = golden_manifest(golden / "model.sig");
  ScratchDir dir;
  const fs::path model = dir.path() / "model";
  fs::create_directories(model);
  for (const char* f : {"signme-1", "signme-2"}) fs::copy_file(golden / f, model / f);
  fs::permissions(model / "signme-1", fs::perms::owner_write, fs::perm_options::add);
  VerifyOptions v;
  ASSERT_TRUE(verify_model(model, expected, v)->ok());

  std::string bytes = read_file(model / "signme-1");
  bytes[3] = static_cast<char>(bytes[3] ^ 1);
  write_file(model / "signme-1", bytes);
  fs::rename(model / "signme-2", model / "renamed");
  write_file(model / "added", "x");
  const auto diff = verify_model(model, expected, v);
  ASSERT_TRUE(diff);
  EXPECT_FALSE(diff->ok());
  ASSERT_EQ(diff->changed.size(), 1U);
  EXPECT_EQ(diff->changed[0].name, "signme-1");
  EXPECT_EQ(diff->changed[0].expected, expected.resources[0].digest.hex());
  EXPECT_EQ(diff->missing, std::vector<std::string>{"signme-2"});
  EXPECT_EQ(diff->extra, (std::vector<std::string>{"added", "renamed"}));
  const json j = to_json(*diff);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["changed"][0]["name"], "signme-1");
}

TEST(Verify, ShardManifestsCompareShardByShard) {
  ScratchDir dir;
  const fs::path model = dir.path() / "m";
  write_file(model / "w", pattern_bytes(100));
  HashOptions o;
  o.method = Method::shards;
  o.shard_size = 40;
  const auto signed_manifest = hash_model(model, o);
  ASSERT_TRUE(signed_manifest);
  const auto back = parse_statement(*statement_json(*signed_manifest));  // what a verifier reads
  ASSERT_TRUE(back);
  write_file(model / "w", pattern_bytes(100).substr(0, 60) + "tampered" + pattern_bytes(132).substr(68));
  const auto diff = verify_model(model, *back, VerifyOptions{});
  ASSERT_TRUE(diff);
  EXPECT_EQ(diff->changed.size(), 1U);
  EXPECT_EQ(diff->changed[0].name, "w:40:80");
  EXPECT_EQ(diff->missing, std::vector<std::string>{"w:80:100"});
  EXPECT_EQ(diff->extra, (std::vector<std::string>{"w:80:120", "w:120:132"}));  // it grew to 132 bytes
}

TEST(Verify, HashingErrorsAreErrorsNotMismatches) {
  ScratchDir dir;
  const auto diff = verify_model(dir.path() / "absent", Manifest{}, VerifyOptions{});
  EXPECT_FALSE(diff);
}

}  // namespace
}  // namespace mlsc::sign
