// Dataset manifests: the Merkle root against values computed by hand (Python hashlib, see the
// comments), statements both ways, diffs, and verifying a directory.
#include "mlsc/dataset/manifest.hpp"

#include <gtest/gtest.h>

#include "../sign/pki_fixture.hpp"
#include "mlsc/sign/statement_bundle.hpp"

namespace mlsc::dataset {
namespace {

using sign::testing::ScratchDir;
using sign::testing::write_file;

// sha256("hello"), sha256("world"), sha256("")
const std::string kHello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const std::string kWorld = "486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7";
const std::string kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(DatasetMerkle, RootsMatchHandComputedRfc6962Values) {
  // Computed independently: leaf = SHA256(0x00 || key || 0x00 || hex), node = SHA256(0x01 || l ||
  // r).
  EXPECT_EQ(merkle_root({}, {}), kEmpty);  // MTH({}) = SHA256("")
  EXPECT_EQ(merkle_root({{"a", 5, kHello}}, {}),
            "b13b03de84ea697aa3c87625aaf751b88ff7d6dd7701053ea698b287a234b0d9");
  // Order of the input does not matter: leaves are sorted bytewise.
  EXPECT_EQ(merkle_root({{"b/c", 5, kWorld}, {"a", 5, kHello}}, {}),
            "a0bca3faffa4892625592066b107d5c92d132f8abe898b2058bd3f5518a567a6");
  // Three leaves: RFC 6962 splits at the largest power of two below n, node(node(l0,l1), l2).
  EXPECT_EQ(merkle_root({{"b/c", 5, kWorld}, {"a", 5, kHello}},
                        {{"https://x.example/1.jpg", kEmpty, {}, ""}}),
            "99225f128ddfdbd68e51b2e969bc0c943483f705b9564986fcef2099e275d344");
}

TEST(DatasetMerkle, LeafEntryHasOneNulSeparator) {
  const auto e = leaf_entry("a/b", kHello);
  ASSERT_EQ(e.size(), 3 + 1 + 64);
  EXPECT_EQ(e[3], '\0');
}

ManifestOptions fixed_options() {
  ManifestOptions o;
  o.name = "toy";
  o.created_on = "2024-01-01T00:00:00Z";
  o.threads = 2;
  return o;
}

TEST(DatasetManifest, HashesADirectoryAndRoundTripsThroughTheStatement) {
  ScratchDir d;
  write_file(d.path() / "a", "hello");
  write_file(d.path() / "b" / "c", "world");
  auto m = build_manifest(d.path(), fixed_options());
  ASSERT_TRUE(m) << m.error().describe();
  ASSERT_EQ(m->files.size(), 2U);
  EXPECT_EQ(m->files[0], (DatasetFile{"a", 5, kHello}));
  EXPECT_EQ(m->files[1], (DatasetFile{"b/c", 5, kWorld}));
  EXPECT_EQ(m->merkle_root, "a0bca3faffa4892625592066b107d5c92d132f8abe898b2058bd3f5518a567a6");

  const auto statement = to_statement(*m);
  EXPECT_EQ(statement["predicateType"], kPredicateType);
  EXPECT_EQ(statement["subject"][0]["digest"]["sha256"], m->merkle_root);
  auto back = manifest_from_statement(nlohmann::json(statement));
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(back->files, m->files);
  EXPECT_EQ(back->name, "toy");
  EXPECT_EQ(back->merkle_root, m->merkle_root);
}

TEST(DatasetManifest, RefusesEmptyDirectoriesAndHonoursIgnorePaths) {
  ScratchDir d;
  EXPECT_FALSE(build_manifest(d.path(), fixed_options()));
  write_file(d.path() / "keep", "hello");
  write_file(d.path() / "cache" / "x", "world");
  auto o = fixed_options();
  o.ignore_paths = {"cache"};
  auto m = build_manifest(d.path(), o);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->files.size(), 1U);
  EXPECT_EQ(m->ignore_paths, std::vector<std::string>{"cache"});
  // Verification leaves out what the manifest left out.
  auto diff = verify_directory(d.path(), *m);
  ASSERT_TRUE(diff);
  EXPECT_TRUE(diff->empty());
}

TEST(DatasetManifest, StatementWithAForgedRootOrBadEntriesIsRefused) {
  DatasetManifest m;
  m.name = "x";
  m.files = {{"a", 5, kHello}};
  ASSERT_TRUE(finalize(m));
  auto s = nlohmann::json(to_statement(m));
  auto forged = s;
  forged["subject"][0]["digest"]["sha256"] = kEmpty;
  EXPECT_FALSE(manifest_from_statement(forged));
  auto traversal = s;
  traversal["predicate"]["files"][0]["path"] = "../etc/passwd";
  EXPECT_FALSE(manifest_from_statement(traversal));
  auto upper = s;
  upper["predicate"]["files"][0]["sha256"] =
      "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824";
  EXPECT_FALSE(manifest_from_statement(upper));
  auto dup = s;
  dup["predicate"]["files"].push_back(dup["predicate"]["files"][0]);
  EXPECT_FALSE(manifest_from_statement(dup));
  auto other = s;
  other["predicateType"] = "https://slsa.dev/provenance/v1";
  EXPECT_FALSE(manifest_from_statement(other));
  auto negative = s;
  negative["predicate"]["files"][0]["size"] = -1;
  EXPECT_FALSE(manifest_from_statement(negative));
  EXPECT_FALSE(manifest_from_statement(nlohmann::json::array()));
}

TEST(DatasetDiff, ListsAddedRemovedAndChangedByPathAndUrl) {
  DatasetManifest a, b;
  a.files = {{"same", 5, kHello}, {"gone", 5, kHello}, {"edited", 5, kHello}};
  a.records = {{"https://x/1", kHello, {}, ""}, {"https://x/2", kHello, {}, ""}};
  b.files = {{"same", 5, kHello}, {"edited", 5, kWorld}, {"new", 0, kEmpty}};
  b.records = {{"https://x/1", kWorld, {}, ""}, {"https://x/3", kHello, {}, ""}};
  const auto d = diff_manifests(a, b);
  EXPECT_EQ(d.added, (std::vector<std::string>{"https://x/3", "new"}));
  EXPECT_EQ(d.removed, (std::vector<std::string>{"gone", "https://x/2"}));
  ASSERT_EQ(d.changed.size(), 2U);
  EXPECT_EQ(d.changed[0].key, "edited");
  EXPECT_EQ(d.changed[0].old_sha256, kHello);
  EXPECT_EQ(d.changed[0].new_sha256, kWorld);
  EXPECT_EQ(d.changed[1].key, "https://x/1");
  EXPECT_TRUE(diff_manifests(a, a).empty());
}

TEST(DatasetVerify, NamesChangedMissingAndExtraFiles) {
  ScratchDir d;
  write_file(d.path() / "a", "hello");
  write_file(d.path() / "b" / "c", "world");
  auto m = build_manifest(d.path(), fixed_options());
  ASSERT_TRUE(m);
  write_file(d.path() / "a", "hellO");
  std::filesystem::remove(d.path() / "b" / "c");
  write_file(d.path() / "z", "");
  auto diff = verify_directory(d.path(), *m);
  ASSERT_TRUE(diff);
  ASSERT_EQ(diff->changed.size(), 1U);
  EXPECT_EQ(diff->changed[0].key, "a");
  EXPECT_EQ(diff->removed, std::vector<std::string>{"b/c"});
  EXPECT_EQ(diff->added, std::vector<std::string>{"z"});
}

TEST(DatasetSign, SignedManifestVerifiesAndATamperedOneDoesNot) {
  ScratchDir d;
  write_file(d.path() / "data" / "a", "hello");
  auto m = build_manifest(d.path() / "data", fixed_options());
  ASSERT_TRUE(m);
  const auto key = sign::testing::make_key(d.path(), "P-256", "k");
  const auto pub = sign::testing::public_key_of(key);
  auto bundle = sign::sign_statement(to_statement(*m), key);
  ASSERT_TRUE(bundle) << bundle.error().describe();
  auto check = sign::verify_statement_bundle(*bundle, {sign::TrustMode::public_key, pub, "", ""},
                                             kPredicateType);
  ASSERT_TRUE(check.ok());
  auto back = manifest_from_statement(check.verified.statement);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->merkle_root, m->merkle_root);
  bundle->envelope.payload.back() ^= 1U;
  EXPECT_FALSE(sign::verify_statement_bundle(*bundle, {sign::TrustMode::public_key, pub, "", ""},
                                             kPredicateType)
                   .ok());
}

}  // namespace
}  // namespace mlsc::dataset
