// BLAKE3 kernel hashing 4 inputs at once, one per 32-bit lane of SSE registers.
// Compiled with a per-function target attribute so the rest of the build needs no -msse4.1;
// the dispatcher only calls it when the CPU reports SSE4.1.
#include "sign/blake3_impl.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define MLSC_SSE41 __attribute__((target("sse4.1")))

namespace mlsc::sign::blake3_detail {
namespace {

constexpr std::size_t kLanes = 4;

MLSC_SSE41 inline __m128i add(__m128i a, __m128i b) { return _mm_add_epi32(a, b); }
MLSC_SSE41 inline __m128i vxor(__m128i a, __m128i b) { return _mm_xor_si128(a, b); }
MLSC_SSE41 inline __m128i rot16(__m128i x) {
  return _mm_shuffle_epi8(x, _mm_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2));
}
MLSC_SSE41 inline __m128i rot12(__m128i x) { return _mm_or_si128(_mm_srli_epi32(x, 12), _mm_slli_epi32(x, 20)); }
MLSC_SSE41 inline __m128i rot8(__m128i x) {
  return _mm_shuffle_epi8(x, _mm_set_epi8(12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1));
}
MLSC_SSE41 inline __m128i rot7(__m128i x) { return _mm_or_si128(_mm_srli_epi32(x, 7), _mm_slli_epi32(x, 25)); }

MLSC_SSE41 inline void g(__m128i* v, int a, int b, int c, int d, __m128i mx, __m128i my) {
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
MLSC_SSE41 inline void round_fn(__m128i* v, const __m128i* m) {
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

// Loads block `off` of the 4 inputs and transposes so that m[w] holds word w of every lane.
MLSC_SSE41 inline void load_message(const std::uint8_t* const* in, std::size_t off, __m128i* m) {
  for (std::size_t q = 0; q < 4; ++q) {
    const __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in[0] + off + 16 * q));
    const __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in[1] + off + 16 * q));
    const __m128i r2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in[2] + off + 16 * q));
    const __m128i r3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in[3] + off + 16 * q));
    const __m128i ab01 = _mm_unpacklo_epi32(r0, r1);
    const __m128i ab23 = _mm_unpackhi_epi32(r0, r1);
    const __m128i cd01 = _mm_unpacklo_epi32(r2, r3);
    const __m128i cd23 = _mm_unpackhi_epi32(r2, r3);
    m[4 * q + 0] = _mm_unpacklo_epi64(ab01, cd01);
    m[4 * q + 1] = _mm_unpackhi_epi64(ab01, cd01);
    m[4 * q + 2] = _mm_unpacklo_epi64(ab23, cd23);
    m[4 * q + 3] = _mm_unpackhi_epi64(ab23, cd23);
  }
}

MLSC_SSE41 void hash4(const HashManyArgs& a) {
  const auto ctr = lane_counters<kLanes>(a.counter, a.increment_counter);
  __m128i h[8];
  for (std::size_t i = 0; i < 8; ++i) h[i] = _mm_set1_epi32(static_cast<int>(kIv[i]));
  for (std::size_t b = 0; b < a.blocks; ++b) {
    __m128i m[16];
    load_message(a.inputs, b * kBlockLen, m);
    __m128i v[16] = {h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
                     _mm_set1_epi32(static_cast<int>(kIv[0])), _mm_set1_epi32(static_cast<int>(kIv[1])),
                     _mm_set1_epi32(static_cast<int>(kIv[2])), _mm_set1_epi32(static_cast<int>(kIv[3])),
                     _mm_load_si128(reinterpret_cast<const __m128i*>(ctr.lo.data())),
                     _mm_load_si128(reinterpret_cast<const __m128i*>(ctr.hi.data())),
                     _mm_set1_epi32(static_cast<int>(kBlockLen)),
                     _mm_set1_epi32(static_cast<int>(block_flags(a, b)))};
    round_fn<0>(v, m);
    round_fn<1>(v, m);
    round_fn<2>(v, m);
    round_fn<3>(v, m);
    round_fn<4>(v, m);
    round_fn<5>(v, m);
    round_fn<6>(v, m);
    for (std::size_t i = 0; i < 8; ++i) h[i] = _mm_xor_si128(v[i], v[i + 8]);
  }
  alignas(16) std::uint32_t words[8 * kLanes];
  for (std::size_t i = 0; i < 8; ++i) _mm_store_si128(reinterpret_cast<__m128i*>(words + i * kLanes), h[i]);
  store_lane_cvs<kLanes>(words, a.out);
}

}  // namespace

void hash_many_sse41(const HashManyArgs& args) {
  HashManyArgs a = args;
  while (a.num_inputs >= kLanes) {
    hash4(a);
    a = skip_inputs(a, kLanes);
  }
  hash_many_portable(a);
}

}  // namespace mlsc::sign::blake3_detail

#else  // not x86: the dispatcher never selects this backend

namespace mlsc::sign::blake3_detail {
void hash_many_sse41(const HashManyArgs& a) { hash_many_portable(a); }
}  // namespace mlsc::sign::blake3_detail

#endif
