// BLAKE3 tree hashing and the portable compression function. The SIMD kernels live in
// hash_blake3_{sse41,avx2,avx512}.cpp; this file picks one at run time.
#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <vector>

#include "mlsc/sign/blake3.hpp"
#include "sign/blake3_impl.hpp"

namespace mlsc::sign {

using namespace blake3_detail;

namespace {

// Largest subtree hashed in one go: 256 chunks keep the 16-wide kernel busy through several
// parent levels while the scratch chaining values (2 x 8 KiB) stay on the stack.
constexpr std::uint64_t kMaxSubtreeChunks = 256;

std::uint32_t load_le32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8U) |
         (static_cast<std::uint32_t>(p[2]) << 16U) | (static_cast<std::uint32_t>(p[3]) << 24U);
}

void store_le32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8U);
  p[2] = static_cast<std::uint8_t>(v >> 16U);
  p[3] = static_cast<std::uint8_t>(v >> 24U);
}

constexpr std::uint32_t rotr(std::uint32_t x, unsigned n) { return (x >> n) | (x << (32U - n)); }

using State = std::array<std::uint32_t, 16>;

void g(State& s, std::size_t a, std::size_t b, std::size_t c, std::size_t d, std::uint32_t mx,
       std::uint32_t my) {
  s[a] = s[a] + s[b] + mx;
  s[d] = rotr(s[d] ^ s[a], 16);
  s[c] = s[c] + s[d];
  s[b] = rotr(s[b] ^ s[c], 12);
  s[a] = s[a] + s[b] + my;
  s[d] = rotr(s[d] ^ s[a], 8);
  s[c] = s[c] + s[d];
  s[b] = rotr(s[b] ^ s[c], 7);
}

void round_fn(State& s, const State& m, const std::array<std::uint8_t, 16>& o) {
  g(s, 0, 4, 8, 12, m[o[0]], m[o[1]]);  // columns
  g(s, 1, 5, 9, 13, m[o[2]], m[o[3]]);
  g(s, 2, 6, 10, 14, m[o[4]], m[o[5]]);
  g(s, 3, 7, 11, 15, m[o[6]], m[o[7]]);
  g(s, 0, 5, 10, 15, m[o[8]], m[o[9]]);  // diagonals
  g(s, 1, 6, 11, 12, m[o[10]], m[o[11]]);
  g(s, 2, 7, 8, 13, m[o[12]], m[o[13]]);
  g(s, 3, 4, 9, 14, m[o[14]], m[o[15]]);
}

Cv first_words(const State& s) {
  Cv cv{};
  std::copy_n(s.begin(), 8, cv.begin());
  return cv;
}

Blake3::Hash to_bytes(const Cv& cv) {
  Blake3::Hash h{};
  for (std::size_t i = 0; i < 8; ++i) store_le32(h.data() + 4 * i, cv[i]);
  return h;
}

Cv from_bytes(const Blake3::Hash& h) {
  Cv cv{};
  for (std::size_t i = 0; i < 8; ++i) cv[i] = load_le32(h.data() + 4 * i);
  return cv;
}

void hash_one_portable(const std::uint8_t* input, std::size_t blocks, std::uint64_t counter,
                       const HashManyArgs& a, std::uint8_t* out) {
  Cv cv = kIv;
  for (std::size_t b = 0; b < blocks; ++b) {
    const auto flags = static_cast<std::uint8_t>(block_flags(a, b));
    cv = first_words(compress(cv, input + b * kBlockLen, kBlockLen, counter, flags));
  }
  for (std::size_t i = 0; i < 8; ++i) store_le32(out + 4 * i, cv[i]);
}

HashManyFn hash_many_for(Blake3Backend b) {
  switch (b) {
    case Blake3Backend::avx512: return hash_many_avx512;
    case Blake3Backend::avx2: return hash_many_avx2;
    case Blake3Backend::sse41: return hash_many_sse41;
    case Blake3Backend::portable: break;
  }
  return hash_many_portable;
}

}  // namespace

namespace blake3_detail {

State compress(const Cv& cv, const std::uint8_t* block, std::uint8_t block_len,
               std::uint64_t counter, std::uint8_t flags) {
  State m{};
  for (std::size_t i = 0; i < 16; ++i) m[i] = load_le32(block + 4 * i);
  State s = {cv[0],
             cv[1],
             cv[2],
             cv[3],
             cv[4],
             cv[5],
             cv[6],
             cv[7],
             kIv[0],
             kIv[1],
             kIv[2],
             kIv[3],
             static_cast<std::uint32_t>(counter),
             static_cast<std::uint32_t>(counter >> 32U),
             block_len,
             flags};
  for (const auto& order : kSchedule) round_fn(s, m, order);
  for (std::size_t i = 0; i < 8; ++i) {
    s[i] ^= s[i + 8];
    s[i + 8] ^= cv[i];
  }
  return s;
}

void hash_many_portable(const HashManyArgs& a) {
  for (std::size_t i = 0; i < a.num_inputs; ++i) {
    const std::uint64_t counter = a.counter + (a.increment_counter ? i : 0);
    hash_one_portable(a.inputs[i], a.blocks, counter, a, a.out + i * kOutLen);
  }
}

}  // namespace blake3_detail

std::string_view to_string(Blake3Backend b) {
  switch (b) {
    case Blake3Backend::portable: return "portable";
    case Blake3Backend::sse41: return "sse4.1";
    case Blake3Backend::avx2: return "avx2";
    case Blake3Backend::avx512: return "avx512";
  }
  return "?";
}

bool blake3_backend_supported(Blake3Backend b) {
#if defined(__x86_64__) || defined(__i386__)
  switch (b) {
    case Blake3Backend::portable: return true;
    case Blake3Backend::sse41: return __builtin_cpu_supports("sse4.1") != 0;
    case Blake3Backend::avx2: return __builtin_cpu_supports("avx2") != 0;
    case Blake3Backend::avx512: return __builtin_cpu_supports("avx512f") != 0;
  }
  return false;
#else
  return b == Blake3Backend::portable;
#endif
}

Blake3Backend detect_blake3_backend() {
  // Computed once; the CPU does not change under us.
  static const Blake3Backend best = [] {
    for (auto b : {Blake3Backend::avx512, Blake3Backend::avx2, Blake3Backend::sse41}) {
      if (blake3_backend_supported(b)) return b;
    }
    return Blake3Backend::portable;
  }();
  return best;
}

// The output of the last compression before finalisation: kept unevaluated because the
// same node yields a chaining value (inner node) or a root hash (ROOT flag, counter 0).
struct Blake3::Output {
  Cv cv;
  std::array<std::uint8_t, 64> block;
  std::uint8_t block_len;
  std::uint64_t counter;
  std::uint8_t flags;

  Cv chaining_value() const { return first_words(compress(cv, block.data(), block_len, counter, flags)); }
  Hash root_hash() const {
    return to_bytes(first_words(compress(cv, block.data(), block_len, 0, flags | kRoot)));
  }
  static Output parent(const Cv& left, const Cv& right) {
    Output o{kIv, {}, static_cast<std::uint8_t>(kBlockLen), 0, kParent};
    for (std::size_t i = 0; i < 8; ++i) {
      store_le32(o.block.data() + 4 * i, left[i]);
      store_le32(o.block.data() + 32 + 4 * i, right[i]);
    }
    return o;
  }
};

Blake3::Blake3() : Blake3(detect_blake3_backend(), 0) {}

Blake3::Blake3(Blake3Backend b) : Blake3(b, 0) {}

Blake3::Blake3(Blake3Backend b, std::uint64_t first_chunk) : backend_(b), first_chunk_(first_chunk) {
  chunk_.cv = kIv;
  chunk_.counter = first_chunk;
}

Blake3 Blake3::subtree(std::uint64_t first_chunk, Blake3Backend b) { return Blake3(b, first_chunk); }

void Blake3::update(ByteView data) {
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  if (n == 0) return;
  if (chunk_.len() > 0) {
    const std::size_t took = absorb_into_chunk(p, n);
    p += took;
    n -= took;
    // A full chunk is only closed once more input shows it is not the last one.
    if (n == 0) return;
    finish_chunk();
  }
  // Whole subtrees straight from the input, always leaving at least one byte for the chunk
  // state so that the final chunk goes through the root-capable path.
  while (n > kChunkLen) {
    const std::uint64_t chunks = subtree_chunks(n);
    const Words cv = hash_subtree(p, chunks);
    chunk_.counter += chunks;
    push_cv(cv, chunk_.counter - first_chunk_);
    p += chunks * kChunkLen;
    n -= static_cast<std::size_t>(chunks * kChunkLen);
  }
  absorb_into_chunk(p, n);
}

std::size_t Blake3::absorb_into_chunk(const std::uint8_t* p, std::size_t n) {
  const std::size_t take = std::min(n, kChunkLen - chunk_.len());
  std::size_t done = 0;
  while (done < take) {
    if (chunk_.block_len == kBlockLen) {
      const auto flags = static_cast<std::uint8_t>(chunk_.blocks_done == 0 ? kChunkStart : 0);
      chunk_.cv = first_words(compress(chunk_.cv, chunk_.block.data(), kBlockLen, chunk_.counter, flags));
      ++chunk_.blocks_done;
      chunk_.block_len = 0;
      chunk_.block.fill(0);  // a short final block is zero-padded
    }
    const std::size_t k = std::min(kBlockLen - chunk_.block_len, take - done);
    std::memcpy(chunk_.block.data() + chunk_.block_len, p + done, k);
    chunk_.block_len = static_cast<std::uint8_t>(chunk_.block_len + k);
    done += k;
  }
  return take;
}

void Blake3::finish_chunk() {
  const Words cv = chunk_output().chaining_value();
  const std::uint64_t next = chunk_.counter + 1;
  chunk_ = Chunk{};
  chunk_.cv = kIv;
  chunk_.counter = next;
  push_cv(cv, next - first_chunk_);
}

// Largest power-of-two number of whole chunks that (a) leaves input behind, (b) starts at a
// position aligned to its own size, so that it is a complete subtree of the final tree.
std::uint64_t Blake3::subtree_chunks(std::size_t available) const {
  std::uint64_t chunks = std::bit_floor(static_cast<std::uint64_t>((available - 1) / kChunkLen));
  chunks = std::min(chunks, kMaxSubtreeChunks);
  const std::uint64_t done = chunk_.counter - first_chunk_;
  if (done != 0) chunks = std::min(chunks, done & (~done + 1));  // lowest set bit
  return chunks;
}

Blake3::Words Blake3::hash_subtree(const std::uint8_t* p, std::uint64_t chunks) const {
  std::array<const std::uint8_t*, kMaxSubtreeChunks> inputs{};
  std::array<std::uint8_t, kMaxSubtreeChunks * kOutLen> cvs{};
  std::array<std::uint8_t, kMaxSubtreeChunks * kOutLen / 2> parents{};
  for (std::uint64_t i = 0; i < chunks; ++i) inputs[i] = p + i * kChunkLen;
  const HashManyFn hash_many = hash_many_for(backend_);
  hash_many({inputs.data(), chunks, kBlocksPerChunk, chunk_.counter, true, 0, kChunkStart,
             kChunkEnd, cvs.data()});
  // Reduce level by level; each pair of adjacent chaining values is one 64-byte parent block.
  for (std::uint64_t n = chunks; n > 1; n /= 2) {
    for (std::uint64_t i = 0; i < n / 2; ++i) inputs[i] = cvs.data() + i * 2 * kOutLen;
    hash_many({inputs.data(), n / 2, 1, 0, false, kParent, 0, 0, parents.data()});
    std::copy_n(parents.begin(), n / 2 * kOutLen, cvs.begin());
  }
  Hash first{};
  std::copy_n(cvs.begin(), kOutLen, first.begin());
  return from_bytes(first);
}

// Pushes the chaining value of a just-finished subtree; `total` is the number of chunks
// hashed so far (relative to the first chunk). Merging down to popcount(total) entries keeps
// exactly one entry per complete subtree, as the tree structure of the spec requires.
void Blake3::push_cv(const Words& cv, std::uint64_t total) {
  stack_[stack_len_++] = cv;
  const auto keep = static_cast<std::size_t>(std::popcount(total));
  while (stack_len_ > keep) {
    const Words right = stack_[--stack_len_];
    const Words left = stack_[--stack_len_];
    stack_[stack_len_++] = Output::parent(left, right).chaining_value();
  }
}

Blake3::Output Blake3::chunk_output() const {
  const auto start = static_cast<std::uint8_t>(chunk_.blocks_done == 0 ? kChunkStart : 0);
  return Output{chunk_.cv, chunk_.block, chunk_.block_len, chunk_.counter,
                static_cast<std::uint8_t>(start | kChunkEnd)};
}

Blake3::Output Blake3::rolled_up_output() const {
  Output out = chunk_output();
  for (std::size_t i = stack_len_; i > 0; --i) out = Output::parent(stack_[i - 1], out.chaining_value());
  return out;
}

Blake3::Hash Blake3::finalize() const { return rolled_up_output().root_hash(); }

Blake3::Hash Blake3::subtree_cv() const { return to_bytes(rolled_up_output().chaining_value()); }

Blake3::Hash Blake3::root_from_subtrees(std::span<const Hash> cvs) {
  assert(cvs.size() >= 2);
  std::vector<Words> stack;
  for (std::size_t i = 0; i + 1 < cvs.size(); ++i) {
    stack.push_back(from_bytes(cvs[i]));
    while (stack.size() > static_cast<std::size_t>(std::popcount(i + 1))) {
      const Words right = stack.back();
      stack.pop_back();
      const Words left = stack.back();
      stack.back() = Output::parent(left, right).chaining_value();
    }
  }
  Output out = Output::parent(stack.back(), from_bytes(cvs.back()));
  for (std::size_t i = stack.size() - 1; i > 0; --i) out = Output::parent(stack[i - 1], out.chaining_value());
  return out.root_hash();
}

}  // namespace mlsc::sign
