#include "mlsc/sign/blake3.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mlsc::sign {
namespace {

// Official vectors (BLAKE3-team/BLAKE3 test_vectors/test_vectors.json, "hash" field, first 32
// bytes): the input is the byte sequence i % 251 of the given length.
const std::vector<std::pair<std::size_t, std::string>>& official_vectors() {
  static const std::vector<std::pair<std::size_t, std::string>> v = {
      {0, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"},
      {1, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"},
      {1023, "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11"},
      {1024, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"},
      {1025, "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"},
      {2048, "e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a"},
      {2049, "5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b687952256303"
             "0"},
      {3072, "b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd2"},
      {3073, "7124b49501012f81cc7f11ca069ec9226cecb8a2c850cfe644e327d22d3e1cd3"},
      {4096, "015094013f57a5277b59d8475c0501042c0b642e531b0a1c8f58d2163229e969"},
      {4097, "9b4052b38f1c5fc8b1f9ff7ac7b27cd242487b3d890d15c96a1c25b8aa0fb995"},
      {5120, "9cadc15fed8b5d854562b26a9536d9707cadeda9b143978f319ab34230535833"},
      {5121, "628bd2cb2004694adaab7bbd778a25df25c47b9d4155a55f8fbd79f2fe154cff"},
      {6144, "3e2e5b74e048f3add6d21faab3f83aa44d3b2278afb83b80b3c35164ebeca205"},
      {6145, "f1323a8631446cc50536a9f705ee5cb619424d46887f3c376c695b70e0f0507f"},
      {7168, "61da957ec2499a95d6b8023e2b0e604ec7f6b50e80a9678b89d2628e99ada77a"},
      {7169, "a003fc7a51754a9b3c7fae0367ab3d782dccf28855a03d435f8cfe74605e7817"},
      {8192, "aae792484c8efe4f19e2ca7d371d8c467ffb10748d8a5a1ae579948f718a2a63"},
      {8193, "bab6c09cb8ce8cf459261398d2e7aef35700bf488116ceb94a36d0f5f1b7bc3b"},
      {16384, "f875d6646de28985646f34ee13be9a576fd515f76b5b0a26bb324735041ddde4"},
      {31744, "62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47"},
      {102400, "bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085"},
  };
  return v;
}

std::vector<std::uint8_t> pattern(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i % 251);
  return v;
}

std::string hex(const Blake3::Hash& h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (auto b : h) {
    s.push_back(kDigits[b >> 4U]);
    s.push_back(kDigits[b & 15U]);
  }
  return s;
}

std::vector<Blake3Backend> supported_backends() {
  std::vector<Blake3Backend> out;
  for (auto b : {Blake3Backend::portable, Blake3Backend::sse41, Blake3Backend::avx2, Blake3Backend::avx512}) {
    if (blake3_backend_supported(b)) out.push_back(b);
  }
  return out;
}

std::string hash_in_pieces(Blake3Backend b, const std::vector<std::uint8_t>& data, std::size_t piece) {
  Blake3 h(b);
  for (std::size_t off = 0; off < data.size(); off += piece) {
    const std::size_t n = std::min(piece, data.size() - off);
    h.update(ByteView(data).subspan(off, n));
  }
  return hex(h.finalize());
}

TEST(Blake3, OfficialVectorsEveryBackendOneShot) {
  for (auto b : supported_backends()) {
    for (const auto& [len, expected] : official_vectors()) {
      Blake3 h(b);
      h.update(pattern(len));
      EXPECT_EQ(hex(h.finalize()), expected) << "len " << len << " backend " << to_string(b);
    }
  }
}

TEST(Blake3, OfficialVectorsEveryBackendAnySplit) {
  // Splits that land inside blocks, on block and chunk boundaries, and on odd chunk counts
  // exercise the chunk state, the alignment of subtrees and the lazy closing of chunks.
  for (auto b : supported_backends()) {
    for (std::size_t piece : {1UL, 63UL, 64UL, 65UL, 1000UL, 1024UL, 1025UL, 3072UL, 5000UL}) {
      for (const auto& [len, expected] : official_vectors()) {
        EXPECT_EQ(hash_in_pieces(b, pattern(len), piece), expected)
            << "len " << len << " piece " << piece << " backend " << to_string(b);
      }
    }
  }
}

TEST(Blake3, BackendsAgreeOnLargeInputs) {
  const auto data = pattern((1U << 20U) * 3 + 12345);
  const std::string want = hash_in_pieces(Blake3Backend::portable, data, data.size());
  for (auto b : supported_backends()) {
    EXPECT_EQ(hash_in_pieces(b, data, data.size()), want) << to_string(b);
    EXPECT_EQ(hash_in_pieces(b, data, 1U << 20U), want) << to_string(b);
  }
}

TEST(Blake3, SubtreesJoinToTheWholeHash) {
  constexpr std::size_t kSegmentChunks = 64;
  constexpr std::size_t kSegment = kSegmentChunks * Blake3::kChunkLen;
  for (std::size_t len : {2 * kSegment, 2 * kSegment + 1, 3 * kSegment, 5 * kSegment - 1, 7 * kSegment + 100}) {
    const auto data = pattern(len);
    std::vector<Blake3::Hash> cvs;
    for (std::size_t off = 0; off < len; off += kSegment) {
      Blake3 sub = Blake3::subtree(off / Blake3::kChunkLen);
      sub.update(ByteView(data).subspan(off, std::min(kSegment, len - off)));
      cvs.push_back(sub.subtree_cv());
    }
    Blake3 whole;
    whole.update(data);
    EXPECT_EQ(hex(Blake3::root_from_subtrees(cvs)), hex(whole.finalize())) << len;
  }
}

TEST(Blake3, FinalizeDoesNotConsumeTheState) {
  Blake3 h;
  h.update(pattern(5000));
  const auto first = h.finalize();
  EXPECT_EQ(first, h.finalize());
}

}  // namespace
}  // namespace mlsc::sign
