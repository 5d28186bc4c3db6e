// BLAKE3 kernel hashing 16 inputs at once, one per 32-bit lane of AVX-512 registers.
// AVX-512F has native 32-bit rotates, so all four G rotations are one instruction each.
// Per-function target attribute; the dispatcher only calls it when the CPU and OS report
// AVX-512F.
#include "sign/blake3_impl.hpp"

#if defined(__x86_64__)
// GCC 12's AVX-512 intrinsics start from a self-initialised "undefined" vector, which its own
// -Wmaybe-uninitialized then flags (GCC bug 105593); the lanes are all overwritten.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#define MLSC_AVX512 __attribute__((target("avx512f")))

namespace mlsc::sign::blake3_detail {
namespace {

constexpr std::size_t kLanes = 16;

MLSC_AVX512 inline __m512i add(__m512i a, __m512i b) { return _mm512_add_epi32(a, b); }
MLSC_AVX512 inline __m512i vxor(__m512i a, __m512i b) { return _mm512_xor_si512(a, b); }

MLSC_AVX512 inline void g(__m512i* v, int a, int b, int c, int d, __m512i mx, __m512i my) {
  v[a] = add(add(v[a], v[b]), mx);
  v[d] = _mm512_ror_epi32(vxor(v[d], v[a]), 16);
  v[c] = add(v[c], v[d]);
  v[b] = _mm512_ror_epi32(vxor(v[b], v[c]), 12);
  v[a] = add(add(v[a], v[b]), my);
  v[d] = _mm512_ror_epi32(vxor(v[d], v[a]), 8);
  v[c] = add(v[c], v[d]);
  v[b] = _mm512_ror_epi32(vxor(v[b], v[c]), 7);
}

// The round number is a template argument so that every message index is a compile-time
// constant: the message vectors then stay in registers instead of being indexed in memory.
template <std::size_t R>
MLSC_AVX512 inline void round_fn(__m512i* v, const __m512i* m) {
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

// Transposes 4 rows (4 inputs x 16 words) inside each 128-bit lane: afterwards u[k] holds, in
// 128-bit lane q, word 4q+k of the 4 rows.
MLSC_AVX512 inline void transpose4_in_lanes(const __m512i* r, __m512i* u) {
  const __m512i t0 = _mm512_unpacklo_epi32(r[0], r[1]);
  const __m512i t1 = _mm512_unpackhi_epi32(r[0], r[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(r[2], r[3]);
  const __m512i t3 = _mm512_unpackhi_epi32(r[2], r[3]);
  u[0] = _mm512_unpacklo_epi64(t0, t2);
  u[1] = _mm512_unpackhi_epi64(t0, t2);
  u[2] = _mm512_unpacklo_epi64(t1, t3);
  u[3] = _mm512_unpackhi_epi64(t1, t3);
}

// Full 16x16 transpose of 32-bit words: row i (one input's block) becomes lane i of m[w].
MLSC_AVX512 inline void transpose16(const __m512i* rows, __m512i* m) {
  __m512i u[16];
  for (std::size_t g4 = 0; g4 < 4; ++g4) transpose4_in_lanes(rows + 4 * g4, u + 4 * g4);
  for (std::size_t k = 0; k < 4; ++k) {
    // 128-bit lane q of u[k], u[4+k], u[8+k], u[12+k] are the four quarters of word 4q+k.
    const __m512i ab_lo = _mm512_shuffle_i32x4(u[k], u[4 + k], 0x44);
    const __m512i ab_hi = _mm512_shuffle_i32x4(u[k], u[4 + k], 0xEE);
    const __m512i cd_lo = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0x44);
    const __m512i cd_hi = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0xEE);
    m[0 + k] = _mm512_shuffle_i32x4(ab_lo, cd_lo, 0x88);
    m[4 + k] = _mm512_shuffle_i32x4(ab_lo, cd_lo, 0xDD);
    m[8 + k] = _mm512_shuffle_i32x4(ab_hi, cd_hi, 0x88);
    m[12 + k] = _mm512_shuffle_i32x4(ab_hi, cd_hi, 0xDD);
  }
}

MLSC_AVX512 inline void load_message(const std::uint8_t* const* in, std::size_t off, __m512i* m) {
  __m512i rows[kLanes];
  for (std::size_t i = 0; i < kLanes; ++i) rows[i] = _mm512_loadu_si512(in[i] + off);
  transpose16(rows, m);
}

MLSC_AVX512 void hash16(const HashManyArgs& a) {
  const auto ctr = lane_counters<kLanes>(a.counter, a.increment_counter);
  __m512i h[8];
  for (std::size_t i = 0; i < 8; ++i) h[i] = _mm512_set1_epi32(static_cast<int>(kIv[i]));
  for (std::size_t b = 0; b < a.blocks; ++b) {
    __m512i m[16];
    load_message(a.inputs, b * kBlockLen, m);
    __m512i v[16] = {h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
                     _mm512_set1_epi32(static_cast<int>(kIv[0])), _mm512_set1_epi32(static_cast<int>(kIv[1])),
                     _mm512_set1_epi32(static_cast<int>(kIv[2])), _mm512_set1_epi32(static_cast<int>(kIv[3])),
                     _mm512_load_si512(ctr.lo.data()), _mm512_load_si512(ctr.hi.data()),
                     _mm512_set1_epi32(static_cast<int>(kBlockLen)),
                     _mm512_set1_epi32(static_cast<int>(block_flags(a, b)))};
    round_fn<0>(v, m);
    round_fn<1>(v, m);
    round_fn<2>(v, m);
    round_fn<3>(v, m);
    round_fn<4>(v, m);
    round_fn<5>(v, m);
    round_fn<6>(v, m);
    for (std::size_t i = 0; i < 8; ++i) h[i] = _mm512_xor_si512(v[i], v[i + 8]);
  }
  alignas(64) std::uint32_t words[8 * kLanes];
  for (std::size_t i = 0; i < 8; ++i) _mm512_store_si512(words + i * kLanes, h[i]);
  store_lane_cvs<kLanes>(words, a.out);
}

}  // namespace

void hash_many_avx512(const HashManyArgs& args) {
  HashManyArgs a = args;
  while (a.num_inputs >= kLanes) {
    hash16(a);
    a = skip_inputs(a, kLanes);
  }
  hash_many_avx2(a);
}

}  // namespace mlsc::sign::blake3_detail

#else

namespace mlsc::sign::blake3_detail {
void hash_many_avx512(const HashManyArgs& a) { hash_many_portable(a); }
}  // namespace mlsc::sign::blake3_detail

#endif
