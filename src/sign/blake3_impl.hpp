// Internal pieces of our BLAKE3 implementation, shared by the portable code and the SIMD
// kernels. Everything here follows the BLAKE3 specification
// (https://github.com/BLAKE3-team/BLAKE3-specs): 1024-byte chunks of 64-byte blocks, a binary
// tree of 32-byte chaining values, seven rounds of the ChaCha-like G function.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace mlsc::sign::blake3_detail {

inline constexpr std::size_t kBlockLen = 64;
inline constexpr std::size_t kChunkLen = 1024;
inline constexpr std::size_t kBlocksPerChunk = kChunkLen / kBlockLen;
inline constexpr std::size_t kOutLen = 32;

// Domain-separation flags (spec §2.1).
inline constexpr std::uint8_t kChunkStart = 1U << 0U;
inline constexpr std::uint8_t kChunkEnd = 1U << 1U;
inline constexpr std::uint8_t kParent = 1U << 2U;
inline constexpr std::uint8_t kRoot = 1U << 3U;

// Same constants as SHA-256's initial hash value (spec §2.2).
inline constexpr std::array<std::uint32_t, 8> kIv = {0x6A09E667U, 0xBB67AE85U, 0x3C6EF372U,
                                                      0xA54FF53AU, 0x510E527FU, 0x9B05688CU,
                                                      0x1F83D9ABU, 0x5BE0CD19U};

inline constexpr std::array<std::uint8_t, 16> kMsgPermutation = {2, 6,  3,  10, 7, 0,  4,  13,
                                                                 1, 11, 12, 5,  9, 14, 15, 8};

// Message word order for each of the 7 rounds. Derived from the permutation at compile time
// rather than typed in, so it cannot drift from the spec's single table.
using Schedule = std::array<std::array<std::uint8_t, 16>, 7>;
constexpr Schedule make_schedule() {
  Schedule s{};
  for (std::uint8_t i = 0; i < 16; ++i) s[0][i] = i;
  for (std::size_t r = 1; r < 7; ++r) {
    for (std::size_t i = 0; i < 16; ++i) s[r][i] = s[r - 1][kMsgPermutation[i]];
  }
  return s;
}
inline constexpr Schedule kSchedule = make_schedule();

using Cv = std::array<std::uint32_t, 8>;

// One compression; returns the full 16-word state (the first 8 words are the new CV).
std::array<std::uint32_t, 16> compress(const Cv& cv, const std::uint8_t* block,
                                       std::uint8_t block_len, std::uint64_t counter,
                                       std::uint8_t flags);

// Hashes `num_inputs` independent inputs of `blocks` full 64-byte blocks each and writes one
// 32-byte chaining value per input to `out`. Used for whole chunks (blocks = 16, counter
// incremented per input) and for parent nodes (blocks = 1, counter 0). The SIMD variants
// process several inputs in parallel lanes and hand the remainder down to narrower ones.
struct HashManyArgs {
  const std::uint8_t* const* inputs;
  std::size_t num_inputs;
  std::size_t blocks;
  std::uint64_t counter;
  bool increment_counter;
  std::uint8_t flags;
  std::uint8_t flags_start;
  std::uint8_t flags_end;
  std::uint8_t* out;
};
using HashManyFn = void (*)(const HashManyArgs&);

void hash_many_portable(const HashManyArgs& a);
void hash_many_sse41(const HashManyArgs& a);
void hash_many_avx2(const HashManyArgs& a);
void hash_many_avx512(const HashManyArgs& a);

// Advances `a` past `n` inputs that a wide kernel has just processed.
inline HashManyArgs skip_inputs(HashManyArgs a, std::size_t n) {
  a.inputs += n;
  a.num_inputs -= n;
  if (a.increment_counter) a.counter += n;
  a.out += n * kOutLen;
  return a;
}

// Per-lane counter words, as the SIMD kernels load them.
template <std::size_t N>
struct LaneCounters {
  alignas(64) std::array<std::uint32_t, N> lo{};
  alignas(64) std::array<std::uint32_t, N> hi{};
};
template <std::size_t N>
LaneCounters<N> lane_counters(std::uint64_t counter, bool increment) {
  LaneCounters<N> c;
  for (std::size_t i = 0; i < N; ++i) {
    const std::uint64_t v = counter + (increment ? i : 0);
    c.lo[i] = static_cast<std::uint32_t>(v);
    c.hi[i] = static_cast<std::uint32_t>(v >> 32U);
  }
  return c;
}

// Flags of block `b` out of `blocks` in one hash_many input.
inline std::uint32_t block_flags(const HashManyArgs& a, std::size_t b) {
  std::uint32_t f = a.flags;
  if (b == 0) f |= a.flags_start;
  if (b + 1 == a.blocks) f |= a.flags_end;
  return f;
}

// Writes lane i's 8 CV words (word-major scratch: words[w * N + i]) as little-endian bytes.
template <std::size_t N>
void store_lane_cvs(const std::uint32_t* words, std::uint8_t* out) {
  for (std::size_t i = 0; i < N; ++i) {
    for (std::size_t w = 0; w < 8; ++w) {
      const std::uint32_t v = words[w * N + i];
      std::uint8_t* o = out + i * kOutLen + w * 4;
      o[0] = static_cast<std::uint8_t>(v);
      o[1] = static_cast<std::uint8_t>(v >> 8U);
      o[2] = static_cast<std::uint8_t>(v >> 16U);
      o[3] = static_cast<std::uint8_t>(v >> 24U);
    }
  }
}

}  // namespace mlsc::sign::blake3_detail
