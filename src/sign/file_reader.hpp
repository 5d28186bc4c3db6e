// Reading byte ranges of model files in bounded windows, for the hash engine.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"

namespace mlsc::sign::detail {

// Bytes copied out of the page cache per read: big enough that the syscall vanishes next to
// hashing them, small enough that the buffer stays in the core's L2 cache, so the hash reads
// hot data (measured: mapping the file instead was slower on our VMs, and a truncated mapped
// file would kill the process with SIGBUS).
inline constexpr std::uint64_t kWindow = 1ULL << 20U;

class InputFile {
 public:
  static Expected<InputFile> open(const std::filesystem::path& path);

  InputFile(InputFile&& other) noexcept;
  InputFile& operator=(InputFile&& other) noexcept;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile();

  std::uint64_t size() const { return size_; }

  // Passes [start, end) to `sink` as consecutive windows of at most kWindow bytes, each byte
  // read exactly once (pread into `buffer`, the caller's per-thread scratch space).
  Expected<void> read_range(std::uint64_t start, std::uint64_t end, std::vector<std::uint8_t>& buffer,
                            const std::function<void(ByteView)>& sink) const;

 private:
  InputFile(int fd, std::uint64_t size, std::string name) : fd_(fd), size_(size), name_(std::move(name)) {}
  Expected<void> read_window(std::uint64_t off, std::uint64_t len, std::vector<std::uint8_t>& buffer,
                             const std::function<void(ByteView)>& sink) const;

  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::string name_;
};

}  // namespace mlsc::sign::detail
