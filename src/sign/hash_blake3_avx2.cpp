// BLAKE3 kernel hashing 8 inputs at once, one per 32-bit lane of AVX2 registers.
// Per-function target attribute: no -mavx2 for the rest of the build; the dispatcher only
// calls it when the CPU (and OS) report AVX2.
#include "sign/blake3_impl.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define MLSC_AVX2 __attribute__((target("avx2")))

namespace mlsc::sign::blake3_detail {
namespace {

constexpr std::size_t kLanes = 8;

MLSC_AVX2 inline __m256i add(__m256i a, __m256i b) { return _mm256_add_epi32(a, b); }
MLSC_AVX2 inline __m256i vxor(__m256i a, __m256i b) { return _mm256_xor_si256(a, b); }
MLSC_AVX2 inline __m256i rot16(__m256i x) {
  return _mm256_shuffle_epi8(x, _mm256_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2, 13,
                                                12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2));
}
MLSC_AVX2 inline __m256i rot12(__m256i x) {
  return _mm256_or_si256(_mm256_srli_epi32(x, 12), _mm256_slli_epi32(x, 20));
}
MLSC_AVX2 inline __m256i rot8(__m256i x) {
  return _mm256_shuffle_epi8(x, _mm256_set_epi8(12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1, 12,
                                                15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1));
}
MLSC_AVX2 inline __m256i rot7(__m256i x) {
  return _mm256_or_si256(_mm256_srli_epi32(x, 7), _mm256_slli_epi32(x, 25));
}

MLSC_AVX2 inline void g(__m256i* v, int a, int b, int c, int d, __m256i mx, __m256i my) {
  v[a] = add(add(v[a], v[b]), mx);
  v[d] = rot16(vxor(v[d], v[a]));
  v[c] = add(v[c], v[d]);
  v[b] = rot12(vxor(v[b], v[c]));
  v[a] = add(add(v[a], v[b]), my);
  v[d] = rot8(vxor(v[d], v[a]));
  v[c] = add(v[c], v[d]);
  v[b] = rot7(vxor(v[b], v[c]));
}

// The round number is a template argument so that every message index is a compile-time
// constant: the message vectors then stay in registers instead of being indexed in memory.
template <std::size_t R>
MLSC_AVX2 inline void round_fn(__m256i* v, const __m256i* m) {
  constexpr const auto& o = kSchedule[R];
  g(v, 0, 4, 8, 12, m[o[0]], m[o[1]]);
  g(v, 1, 5, 9, 13, m[o[2]], m[o[3]]);
  g(v, 2, 6, 10, 14, m[o[4]], m[o[5]]);
  g(v, 3, 7, 11, 15, m[o[6]], m[o[7]]);
  g(v, 0, 5, 10, 15, m[o[8]], m[o[9]]);
  g(v, 1, 6, 11, 12, m[o[10]], m[o[11]]);
  g(v, 2, 7, 8, 13, m[o[12]], m[o[13]]);
  g(v, 3, 4, 9, 14, m[o[14]], m[o[15]]);
}

// 8x8 transpose of 32-bit words: row r (one input's 8 words) becomes lane r of every output.
MLSC_AVX2 inline void transpose8(const __m256i* r, __m256i* out) {
  const __m256i ab0145 = _mm256_unpacklo_epi32(r[0], r[1]);
  const __m256i ab2367 = _mm256_unpackhi_epi32(r[0], r[1]);
  const __m256i cd0145 = _mm256_unpacklo_epi32(r[2], r[3]);
  const __m256i cd2367 = _mm256_unpackhi_epi32(r[2], r[3]);
  const __m256i ef0145 = _mm256_unpacklo_epi32(r[4], r[5]);
  const __m256i ef2367 = _mm256_unpackhi_epi32(r[4], r[5]);
  const __m256i gh0145 = _mm256_unpacklo_epi32(r[6], r[7]);
  const __m256i gh2367 = _mm256_unpackhi_epi32(r[6], r[7]);
  const __m256i abcd04 = _mm256_unpacklo_epi64(ab0145, cd0145);
  const __m256i abcd15 = _mm256_unpackhi_epi64(ab0145, cd0145);
  const __m256i abcd26 = _mm256_unpacklo_epi64(ab2367, cd2367);
  const __m256i abcd37 = _mm256_unpackhi_epi64(ab2367, cd2367);
  const __m256i efgh04 = _mm256_unpacklo_epi64(ef0145, gh0145);
  const __m256i efgh15 = _mm256_unpackhi_epi64(ef0145, gh0145);
  const __m256i efgh26 = _mm256_unpacklo_epi64(ef2367, gh2367);
  const __m256i efgh37 = _mm256_unpackhi_epi64(ef2367, gh2367);
  out[0] = _mm256_permute2x128_si256(abcd04, efgh04, 0x20);
  out[4] = _mm256_permute2x128_si256(abcd04, efgh04, 0x31);
  out[1] = _mm256_permute2x128_si256(abcd15, efgh15, 0x20);
  out[5] = _mm256_permute2x128_si256(abcd15, efgh15, 0x31);
  out[2] = _mm256_permute2x128_si256(abcd26, efgh26, 0x20);
  out[6] = _mm256_permute2x128_si256(abcd26, efgh26, 0x31);
  out[3] = _mm256_permute2x128_si256(abcd37, efgh37, 0x20);
  out[7] = _mm256_permute2x128_si256(abcd37, efgh37, 0x31);
}

MLSC_AVX2 inline void load_message(const std::uint8_t* const* in, std::size_t off, __m256i* m) {
  for (std::size_t half = 0; half < 2; ++half) {
    __m256i rows[8];
    for (std::size_t i = 0; i < kLanes; ++i) {
      rows[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in[i] + off + 32 * half));
    }
    transpose8(rows, m + 8 * half);
  }
}

MLSC_AVX2 void hash8(const HashManyArgs& a) {
  const auto ctr = lane_counters<kLanes>(a.counter, a.increment_counter);
  __m256i h[8];
  for (std::size_t i = 0; i < 8; ++i) h[i] = _mm256_set1_epi32(static_cast<int>(kIv[i]));
  for (std::size_t b = 0; b < a.blocks; ++b) {
    __m256i m[16];
    load_message(a.inputs, b * kBlockLen, m);
    __m256i v[16] = {h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
                     _mm256_set1_epi32(static_cast<int>(kIv[0])), _mm256_set1_epi32(static_cast<int>(kIv[1])),
                     _mm256_set1_epi32(static_cast<int>(kIv[2])), _mm256_set1_epi32(static_cast<int>(kIv[3])),
                     _mm256_load_si256(reinterpret_cast<const __m256i*>(ctr.lo.data())),
                     _mm256_load_si256(reinterpret_cast<const __m256i*>(ctr.hi.data())),
                     _mm256_set1_epi32(static_cast<int>(kBlockLen)),
                     _mm256_set1_epi32(static_cast<int>(block_flags(a, b)))};
    round_fn<0>(v, m);
    round_fn<1>(v, m);
    round_fn<2>(v, m);
    round_fn<3>(v, m);
    round_fn<4>(v, m);
    round_fn<5>(v, m);
    round_fn<6>(v, m);
    for (std::size_t i = 0; i < 8; ++i) h[i] = _mm256_xor_si256(v[i], v[i + 8]);
  }
  alignas(32) std::uint32_t words[8 * kLanes];
  for (std::size_t i = 0; i < 8; ++i) _mm256_store_si256(reinterpret_cast<__m256i*>(words + i * kLanes), h[i]);
  store_lane_cvs<kLanes>(words, a.out);
}

}  // namespace

void hash_many_avx2(const HashManyArgs& args) {
  HashManyArgs a = args;
  while (a.num_inputs >= kLanes) {
    hash8(a);
    a = skip_inputs(a, kLanes);
  }
  hash_many_sse41(a);
}

}  // namespace mlsc::sign::blake3_detail

#else

namespace mlsc::sign::blake3_detail {
void hash_many_avx2(const HashManyArgs& a) { hash_many_portable(a); }
}  // namespace mlsc::sign::blake3_detail

#endif
