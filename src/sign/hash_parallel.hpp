// Hashing many byte ranges of many files on all cores.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "mlsc/sign/hashing.hpp"
#include "mlsc/sign/manifest.hpp"

namespace mlsc::sign::detail {

// One digest to compute: bytes [start, end) of a file whose size was `file_size` when listed.
struct HashJob {
  const std::filesystem::path* file;
  std::uint64_t file_size;
  std::uint64_t start;
  std::uint64_t end;
};

// Digests of all jobs, in job order. `threads` 0 means all cores. `progress` (may be empty) is
// called every kProgressStep bytes or so, never from two threads at once.
inline constexpr std::uint64_t kProgressStep = 64ULL << 20U;
Expected<std::vector<Digest>> hash_jobs(const std::vector<HashJob>& jobs, HashType type, unsigned threads,
                                        const HashProgress& progress = {});

}  // namespace mlsc::sign::detail
