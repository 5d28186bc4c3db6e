#include "mlsc/sign/manifest.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "mlsc/sign/blake3.hpp"
#include "sign_test_util.hpp"

namespace mlsc::sign {
namespace {

using namespace testing;

HashOptions test_options() {
  HashOptions o;
  o.allow_empty = true;
  return o;
}

std::vector<std::string> names(const Manifest& m) {
  std::vector<std::string> out;
  for (const auto& r : m.resources) out.push_back(r.name);
  return out;
}

Manifest hash_ok(const fs::path& model, const HashOptions& o) {
  auto m = hash_model(model, o);
  EXPECT_TRUE(m) << (m ? "" : m.error().describe());
  return m ? std::move(*m) : Manifest{};
}

// serialization/{file,file_shard}/TestSerializer/*: the reference's "name:digest" manifests.
TEST(Manifest, MatchesReferenceSerializationGoldens) {
  const fs::path goldens = vectors_dir() / "unsigned-statements" / "serialization";
  int checked = 0;
  for (const char* kind : {"file", "file_shard"}) {
    for (const auto& entry : fs::directory_iterator(goldens / kind / "TestSerializer")) {
      std::string fixture = entry.path().filename().string();
      HashOptions o = test_options();
      o.allow_symlinks = true;
      o.ignore_git_paths = false;
      if (std::string(kind) == "file_shard") o.method = Method::shards;
      if (fixture.ends_with("_small_shards")) {
        fixture.resize(fixture.size() - std::string("_small_shards").size());
        o.shard_size = 8;
      }
      ScratchDir dir;
      const Manifest m = hash_ok(make_reference_model(fixture, dir.path()), o);
      EXPECT_EQ(manifest_lines(m), read_file(entry.path())) << kind << "/" << entry.path().filename();
      ++checked;
    }
  }
  EXPECT_EQ(checked, 21);
}

TEST(Manifest, SingleFileModelIsNamedDot) {
  ScratchDir dir;
  const Manifest m = hash_ok(make_reference_model("sample_model_file", dir.path()), test_options());
  EXPECT_EQ(names(m), std::vector<std::string>{"."});
  EXPECT_EQ(m.model_name, "file");
}

TEST(Manifest, HiddenFilesIncludedGitPathsIgnoredOnlyAtTheRoot) {
  ScratchDir dir;
  const fs::path root = dir.path() / "m";
  for (const char* f : {".hidden", ".git/config", ".github/workflows/x.yml", ".gitignore", ".gitattributes",
                        "sub/.git/config", "sub/.gitignore", "w.bin"}) {
    write_file(root / f, f);
  }
  const Manifest m = hash_ok(root, test_options());
  EXPECT_EQ(names(m), (std::vector<std::string>{".hidden", "sub/.git/config", "sub/.gitignore", "w.bin"}));
  EXPECT_EQ(m.ignore_paths, (std::vector<std::string>{".git", ".gitattributes", ".github", ".gitignore"}));

  HashOptions keep = test_options();
  keep.ignore_git_paths = false;
  EXPECT_EQ(hash_ok(root, keep).resources.size(), 8U);
}

TEST(Manifest, UserIgnorePathsAreExactRelativePathsAndRecorded) {
  ScratchDir dir;
  const fs::path root = dir.path() / "m";
  for (const char* f : {"ignore-me", "cache/a", "cache/b", "sub/cache/c", "cachefile", "keep"}) write_file(root / f, f);
  HashOptions o = test_options();
  o.ignore_paths = {"ignore-me", "./cache/", (root / "cachefile").string(), "../outside", "/elsewhere/x"};
  const Manifest m = hash_ok(root, o);
  EXPECT_EQ(names(m), (std::vector<std::string>{"keep", "sub/cache/c"}));
  EXPECT_EQ(m.ignore_paths, (std::vector<std::string>{".git", ".gitattributes", ".github", ".gitignore", "cache",
                                                      "cachefile", "ignore-me"}));
}

TEST(Manifest, SignatureInsideTheModelIsLeftOut) {
  ScratchDir dir;
  const fs::path root = dir.path() / "m";
  write_file(root / "w.bin", "w");
  write_file(root / "model.sig", "{}");
  HashOptions o = test_options();
  o.ignore_git_paths = false;
  o.signature = root / "model.sig";
  Manifest m = hash_ok(root, o);
  EXPECT_EQ(names(m), std::vector<std::string>{"w.bin"});
  EXPECT_EQ(m.ignore_paths, std::vector<std::string>{"model.sig"});

  o.signature = dir.path() / "model.sig";  // outside: nothing to leave out or record
  m = hash_ok(root, o);
  EXPECT_EQ(names(m), (std::vector<std::string>{"model.sig", "w.bin"}));
  EXPECT_TRUE(m.ignore_paths.empty());
}

TEST(Manifest, SymlinksRefusedUnlessAllowed) {
  ScratchDir dir;
  const fs::path root = make_reference_model("symlink_model_folder", dir.path());
  const auto refused = hash_model(root, test_options());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("symbolic link"), std::string::npos);

  HashOptions o = test_options();
  o.allow_symlinks = true;
  const Manifest m = hash_ok(root, o);
  EXPECT_EQ(names(m), std::vector<std::string>{"symlink_file"});
  EXPECT_EQ(m.resources[0].digest.hex(), "3aab065c7181a173b5dd9e9d32a9f79923440b413be1e1ffcdba26a7365f719b");
  EXPECT_EQ(m.warnings.size(), 1U);  // the target is outside the model
}

TEST(Manifest, SymlinkedDirectoriesFollowedLoopsRefused) {
  ScratchDir dir;
  const fs::path root = dir.path() / "m";
  write_file(root / "real/w", "w");
  fs::create_directory_symlink("real", root / "alias");
  HashOptions o = test_options();
  o.allow_symlinks = true;
  EXPECT_EQ(names(hash_ok(root, o)), (std::vector<std::string>{"alias/w", "real/w"}));
  EXPECT_TRUE(hash_ok(root, o).warnings.empty());

  fs::create_directory_symlink("..", root / "real" / "up");
  const auto loop = hash_model(root, o);
  ASSERT_FALSE(loop);
  EXPECT_NE(loop.error().message.find("loop"), std::string::npos);
}

TEST(Manifest, SpecialFilesAndBadNamesAreErrors) {
  ScratchDir dir;
  const fs::path root = dir.path() / "m";
  write_file(root / "w", "w");
  ASSERT_EQ(::mkfifo((root / "fifo").c_str(), 0600), 0);
  EXPECT_FALSE(hash_model(root, test_options()));
  fs::remove(root / "fifo");
  write_file(root / std::string("bad\xff name"), "x");
  const auto bad = hash_model(root, test_options());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("UTF-8"), std::string::npos);
}

TEST(Manifest, EmptyModelRejectedByDefault) {
  ScratchDir dir;
  const fs::path root = make_reference_model("empty_model_folder", dir.path());
  EXPECT_FALSE(hash_model(root, HashOptions{}));
  EXPECT_TRUE(hash_model(root, test_options()));
}

TEST(Manifest, OrderIsByPathComponentsThenShardOffsets) {
  std::vector<Resource> rs;
  for (const char* n : {"a.b", "a/b", "a-b", "a", "B", "b/c/d", "b/c.d"}) rs.push_back({n, "sha256", {}});
  sort_resources(rs, Method::files);
  std::vector<std::string> got;
  for (const auto& r : rs) got.push_back(r.name);
  // Byte order of whole strings would put "a.b" before "a/b"; the reference compares paths
  // component by component.
  EXPECT_EQ(got, (std::vector<std::string>{"B", "a", "a/b", "a-b", "a.b", "b/c/d", "b/c.d"}));

  std::vector<Resource> shards;
  for (const char* n : {"f:16:24", "f:8:16", "f:0:8", "e:0:8", "f.x:0:8"}) shards.push_back({n, "s", {}});
  sort_resources(shards, Method::shards);
  got.clear();
  for (const auto& r : shards) got.push_back(r.name);
  EXPECT_EQ(got, (std::vector<std::string>{"e:0:8", "f:0:8", "f:8:16", "f:16:24", "f.x:0:8"}));
}

TEST(Manifest, ShardNamesAndCanonicalPaths) {
  const auto s = parse_shard_name("dir/we:ird:0:1000");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->path, "dir/we:ird");
  EXPECT_EQ(s->start, 0U);
  EXPECT_EQ(s->end, 1000U);
  EXPECT_FALSE(parse_shard_name("f:10:10"));
  EXPECT_FALSE(parse_shard_name("f:01:10"));
  EXPECT_FALSE(parse_shard_name("f:-1:10"));
  EXPECT_FALSE(parse_shard_name(":0:10"));
  EXPECT_EQ(canonical_relative_path("./a//b/"), "a/b");
  EXPECT_EQ(canonical_relative_path("a/./b"), "a/b");
  EXPECT_FALSE(canonical_relative_path("/a"));
  EXPECT_FALSE(canonical_relative_path("a/../b"));
  EXPECT_FALSE(canonical_relative_path("."));
  EXPECT_EQ(shard_algorithm(HashType::blake2b, 8), "blake2b-sharded-8");
}

TEST(Manifest, ShardModeSplitsOmitsEmptyFilesAndMatchesRangeHashes) {
  ScratchDir dir;
  const fs::path root = dir.path() / "m";
  write_file(root / "big", pattern_bytes(2500));
  write_file(root / "empty", "");
  HashOptions o = test_options();
  o.method = Method::shards;
  o.shard_size = 1000;
  for (auto t : {HashType::sha256, HashType::blake2b}) {
    o.hash = t;
    const Manifest m = hash_ok(root, o);
    EXPECT_EQ(names(m), (std::vector<std::string>{"big:0:1000", "big:1000:2000", "big:2000:2500"}));
    for (const auto& r : m.resources) {
      const auto s = parse_shard_name(r.name);
      EXPECT_EQ(r.digest, *hash_file_range(root / "big", t, s->start, s->end));
      EXPECT_EQ(r.algorithm, shard_algorithm(t, 1000));
    }
  }
}

TEST(Manifest, Blake3ShardsFollowTheReferenceUnlessVerifying) {
  ScratchDir dir;
  write_file(dir.path() / "m" / "w", pattern_bytes(5000));
  HashOptions o = test_options();
  o.hash = HashType::blake3;
  o.method = Method::shards;
  o.shard_size = 1000;
  EXPECT_EQ(hash_ok(dir.path() / "m", o).method, Method::files);
  o.blake3_shards_as_files = false;
  const Manifest m = hash_ok(dir.path() / "m", o);
  EXPECT_EQ(m.method, Method::shards);
  EXPECT_EQ(m.resources.size(), 5U);
}

// Large inputs go through the parallel paths: BLAKE3 subtrees of one file on several cores,
// and many files and shards at once. Results must not depend on the thread count.
TEST(Manifest, ParallelHashingMatchesSequentialAndTools) {
  ScratchDir dir;
  const fs::path root = dir.path() / "m";
  write_file(root / "big", pattern_bytes((19UL << 20U) + 4321, 1));
  write_file(root / "exact", pattern_bytes(16UL << 20U, 2));
  for (int i = 0; i < 40; ++i) write_file(root / "small" / std::to_string(i), pattern_bytes(static_cast<std::size_t>(i) * 997, 3));
  for (auto t : {HashType::sha256, HashType::blake2b, HashType::blake3}) {
    HashOptions o = test_options();
    o.hash = t;
    const Manifest parallel = hash_ok(root, o);
    o.threads = 1;
    const Manifest serial = hash_ok(root, o);
    ASSERT_EQ(parallel.resources.size(), 42U);
    for (std::size_t i = 0; i < parallel.resources.size(); ++i) {
      EXPECT_EQ(parallel.resources[i].digest, serial.resources[i].digest) << parallel.resources[i].name;
      EXPECT_EQ(parallel.resources[i].digest, *hash_file(root / parallel.resources[i].name, t));
    }
    EXPECT_EQ(parallel.bytes_hashed, serial.bytes_hashed);
  }
  if (have_tool("b3sum")) {
    HashOptions o = test_options();
    o.hash = HashType::blake3;
    const Manifest m = hash_ok(root, o);
    EXPECT_EQ(m.resources[0].name, "big");
    EXPECT_EQ(m.resources[0].digest.hex(), tool_digest("b3sum", root / "big"));
    EXPECT_EQ(m.resources[1].digest.hex(), tool_digest("b3sum", root / "exact"));
  }
}

TEST(Manifest, Blake3ShardsLargerThanASubtreeSegment) {
  ScratchDir dir;
  const std::string data = pattern_bytes((20UL << 20U) + 5, 9);
  write_file(dir.path() / "m" / "w", data);
  HashOptions o = test_options();
  o.hash = HashType::blake3;
  o.method = Method::shards;
  o.blake3_shards_as_files = false;
  o.shard_size = 9'000'001;  // not a multiple of the chunk size: each shard is its own input
  const Manifest m = hash_ok(dir.path() / "m", o);
  ASSERT_EQ(m.resources.size(), 3U);
  for (const auto& r : m.resources) {
    const auto s = parse_shard_name(r.name);
    Blake3 h;
    h.update(as_bytes(std::string_view(data).substr(s->start, s->end - s->start)));
    EXPECT_EQ(r.digest, Digest::of(h.finalize())) << r.name;
  }
}

}  // namespace
}  // namespace mlsc::sign
