// BLAKE3 (default hash mode, 32-byte output), written from the specification at
// https://github.com/BLAKE3-team/BLAKE3-specs. Debian ships no BLAKE3 library, and OpenSSL has
// none, so mlsc carries its own: a portable implementation plus SSE4.1 / AVX2 / AVX-512 kernels
// that hash 4 / 8 / 16 chunks at once, chosen at run time from what the CPU supports.
//
// Besides plain streaming, the class can hash one *subtree* of a larger input (a range of
// whole chunks starting at a chunk index aligned to the subtree size). That is what lets
// mlsc hash a single multi-GB file on all cores: workers hash disjoint subtrees and
// `root_from_subtrees` joins their chaining values exactly as the tree would.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "mlsc/core/bytes.hpp"

namespace mlsc::sign {

enum class Blake3Backend : std::uint8_t { portable, sse41, avx2, avx512 };

std::string_view to_string(Blake3Backend b);

// The widest backend this CPU supports.
Blake3Backend detect_blake3_backend();
// Whether `b` can run on this CPU (portable always can).
bool blake3_backend_supported(Blake3Backend b);

class Blake3 {
 public:
  using Hash = std::array<std::uint8_t, 32>;
  static constexpr std::size_t kChunkLen = 1024;

  // Streaming hasher of a whole input, using the best backend.
  Blake3();
  // Same, forcing a backend (tests compare all of them). `b` must be supported.
  explicit Blake3(Blake3Backend b);

  // Hasher for a subtree whose first chunk has index `first_chunk` in the whole input.
  // `first_chunk` must be a multiple of the subtree's size in chunks rounded up to a power of
  // two; finish it with `subtree_cv`.
  static Blake3 subtree(std::uint64_t first_chunk, Blake3Backend b = detect_blake3_backend());

  void update(ByteView data);
  // Root hash of everything fed so far (the hasher stays usable).
  Hash finalize() const;
  // Chaining value (not a root hash) of a subtree hasher's input.
  Hash subtree_cv() const;

  // Root hash of an input split into subtrees of 2^k chunks each (all complete but the last,
  // which may be shorter but non-empty), given their chaining values in order. Needs at least
  // two subtrees: a single one must be hashed as a whole input instead.
  static Hash root_from_subtrees(std::span<const Hash> cvs);

  Blake3Backend backend() const { return backend_; }

 private:
  using Words = std::array<std::uint32_t, 8>;
  struct Chunk {
    Words cv{};
    std::uint64_t counter = 0;
    std::array<std::uint8_t, 64> block{};
    std::uint8_t block_len = 0;
    std::uint8_t blocks_done = 0;
    std::size_t len() const { return 64U * blocks_done + block_len; }
  };
  struct Output;

  Blake3(Blake3Backend b, std::uint64_t first_chunk);
  std::size_t absorb_into_chunk(const std::uint8_t* p, std::size_t n);
  void finish_chunk();
  std::uint64_t subtree_chunks(std::size_t available) const;
  Words hash_subtree(const std::uint8_t* p, std::uint64_t chunks) const;
  void push_cv(const Words& cv, std::uint64_t chunks);
  Output chunk_output() const;
  Output rolled_up_output() const;

  Blake3Backend backend_;
  std::uint64_t first_chunk_;
  Chunk chunk_;
  // One entry per complete subtree to the left of the current chunk; 54 levels cover 2^64
  // bytes of input.
  std::array<Words, 54> stack_{};
  std::size_t stack_len_ = 0;
};

}  // namespace mlsc::sign
