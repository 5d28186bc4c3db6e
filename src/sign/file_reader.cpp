#include "sign/file_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace mlsc::sign::detail {

namespace {

std::string sys_error(const std::string& name, const char* what) {
  return name + ": " + what + ": " + std::strerror(errno);
}

}  // namespace

Expected<InputFile> InputFile::open(const std::filesystem::path& path) {
  const std::string name = path.string();
  const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{sys_error(name, "open")};
  InputFile f(fd, 0, name);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Error{sys_error(name, "stat")};
  if (!S_ISREG(st.st_mode)) return Error{name + ": not a regular file"};
  f.size_ = static_cast<std::uint64_t>(st.st_size);
  // Hashing reads every byte front to back: let the kernel read ahead aggressively.
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return f;
}

InputFile::InputFile(InputFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(other.size_), name_(std::move(other.name_)) {}

InputFile& InputFile::operator=(InputFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
    name_ = std::move(other.name_);
  }
  return *this;
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

Expected<void> InputFile::read_range(std::uint64_t start, std::uint64_t end, std::vector<std::uint8_t>& buffer,
                                     const std::function<void(ByteView)>& sink) const {
  if (start > end || end > size_) return Error{name_ + ": range beyond the end of the file (did it change?)"};
  for (std::uint64_t off = start; off < end;) {
    const std::uint64_t len = std::min(kWindow, end - off);
    auto ok = read_window(off, len, buffer, sink);
    if (!ok) return ok;
    off += len;
  }
  return {};
}

Expected<void> InputFile::read_window(std::uint64_t off, std::uint64_t len, std::vector<std::uint8_t>& buffer,
                                           const std::function<void(ByteView)>& sink) const {
  if (buffer.size() < len) buffer.resize(static_cast<std::size_t>(len));
  std::size_t got = 0;
  while (got < len) {
    const ssize_t n = ::pread(fd_, buffer.data() + got, static_cast<std::size_t>(len) - got,
                              static_cast<off_t>(off + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{sys_error(name_, "read")};
    if (n == 0) return Error{name_ + ": file shrank while being hashed"};
    got += static_cast<std::size_t>(n);
  }
  sink(ByteView(buffer.data(), got));
  return {};
}

}  // namespace mlsc::sign::detail
