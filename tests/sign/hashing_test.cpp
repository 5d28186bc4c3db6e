#include "mlsc/sign/hashing.hpp"

#include <gtest/gtest.h>

#include "sign_test_util.hpp"

namespace mlsc::sign {
namespace {

using namespace testing;

TEST(Hashing, NamesAndSizesFollowTheRegistry) {
  EXPECT_EQ(to_string(HashType::sha256), "sha256");
  EXPECT_EQ(to_string(HashType::blake2b), "blake2b");
  EXPECT_EQ(to_string(HashType::blake3), "blake3");
  EXPECT_EQ(parse_hash_type("blake2b"), HashType::blake2b);
  EXPECT_EQ(parse_hash_type("blake2"), std::nullopt);  // the reference's CLI spelling, never recorded
  EXPECT_EQ(parse_hash_type("SHA256"), std::nullopt);
  EXPECT_EQ(digest_size(HashType::sha256), 32U);
  EXPECT_EQ(digest_size(HashType::blake2b), 64U);
  EXPECT_EQ(digest_size(HashType::blake3), 32U);
}

TEST(Hashing, KnownAnswers) {
  const ByteView abc = as_bytes("abc");
  EXPECT_EQ(hash_bytes(HashType::sha256, abc)->hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hash_bytes(HashType::blake2b, abc)->hex(),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
            "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
  EXPECT_EQ(hash_bytes(HashType::blake3, ByteView{})->hex(),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
}

TEST(Hashing, DigestHexRoundTripsAndRejectsNonCanonicalHex) {
  const auto d = hash_bytes(HashType::sha256, as_bytes("x"));
  ASSERT_TRUE(d);
  EXPECT_EQ(Digest::from_hex(d->hex()), *d);
  EXPECT_EQ(Digest::from_hex("AB"), std::nullopt);  // the schema allows lowercase only
  EXPECT_EQ(Digest::from_hex("abc"), std::nullopt);
  EXPECT_EQ(Digest::from_hex(""), std::nullopt);
  EXPECT_EQ(Digest::from_hex("zz"), std::nullopt);
}

TEST(Hashing, StreamingEqualsOneShot) {
  const std::string data = pattern_bytes(3 * 1024 * 1024 + 77);
  for (auto t : {HashType::sha256, HashType::blake2b, HashType::blake3}) {
    auto h = Hasher::create(t);
    ASSERT_TRUE(h);
    for (std::size_t off = 0; off < data.size(); off += 100'003) {
      h->update(as_bytes(std::string_view(data).substr(off, 100'003)));
    }
    EXPECT_EQ(h->finish(), *hash_bytes(t, as_bytes(data))) << to_string(t);
  }
}

// Files of several sizes (empty, sub-window, several read windows, odd tails) against the
// system tools: sha256sum and b2sum from coreutils, b3sum when installed.
TEST(Hashing, FilesMatchSystemTools) {
  ScratchDir dir;
  const std::vector<std::pair<HashType, std::string>> tools = {
      {HashType::sha256, "sha256sum"}, {HashType::blake2b, "b2sum"}, {HashType::blake3, "b3sum"}};
  for (std::size_t size : {0UL, 1UL, 1023UL, 1025UL, 65536UL, (1UL << 20U) + 3, (5UL << 20U) + 12345}) {
    const fs::path file = dir.path() / ("f" + std::to_string(size));
    write_file(file, pattern_bytes(size, 7));
    for (const auto& [type, tool] : tools) {
      if (!have_tool(tool)) continue;
      const auto d = hash_file(file, type);
      ASSERT_TRUE(d) << d.error().describe();
      EXPECT_EQ(d->hex(), tool_digest(tool, file)) << tool << " size " << size;
    }
  }
  if (!have_tool("b3sum")) GTEST_SKIP() << "b3sum not installed: BLAKE3 checked against vectors only";
}

TEST(Hashing, FileRangeHashesExactlyThoseBytes) {
  ScratchDir dir;
  const std::string data = pattern_bytes(3'000'000, 3);
  const fs::path file = dir.path() / "data";
  write_file(file, data);
  for (auto t : {HashType::sha256, HashType::blake2b, HashType::blake3}) {
    const auto part = hash_file_range(file, t, 1'000'000, 2'500'001);
    ASSERT_TRUE(part);
    EXPECT_EQ(*part, *hash_bytes(t, as_bytes(std::string_view(data).substr(1'000'000, 1'500'001))));
  }
}

TEST(Hashing, FileErrorsAreReported) {
  ScratchDir dir;
  write_file(dir.path() / "small", "12345");
  EXPECT_FALSE(hash_file(dir.path() / "absent", HashType::sha256));
  EXPECT_FALSE(hash_file(dir.path(), HashType::sha256));  // a directory
  const auto past_end = hash_file_range(dir.path() / "small", HashType::sha256, 0, 6);
  ASSERT_FALSE(past_end);
  EXPECT_NE(past_end.error().message.find("beyond the end"), std::string::npos);
}

}  // namespace
}  // namespace mlsc::sign
