#include "hdf5_probe.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <hdf5.h>
#include <hdf5_hl.h>

namespace mlsc::scan::hdf5 {

namespace {

constexpr std::uint64_t kUndefined = ~0ULL;

std::optional<std::uint64_t> read_address(ByteView d, std::uint64_t off, int size) {
  if (size != 2 && size != 4 && size != 8) return std::nullopt;
  const auto bytes = slice(d, off, static_cast<std::uint64_t>(size));
  if (!bytes) return std::nullopt;
  std::uint64_t v = 0;
  for (int i = size - 1; i >= 0; --i) v = (v << 8) | (*bytes)[static_cast<std::size_t>(i)];
  if (size < 8 && v == (1ULL << (8 * size)) - 1) return kUndefined;
  return v;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// --- child side ----------------------------------------------------------------------------

class Writer {
 public:
  explicit Writer(int fd) : fd_(fd) {}
  bool ok() const { return ok_; }

  void put(const void* p, std::size_t n) {
    const auto* c = static_cast<const char*>(p);
    while (ok_ && n > 0) {
      const ssize_t w = ::write(fd_, c, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        ok_ = false;
        return;
      }
      c += w;
      n -= static_cast<std::size_t>(w);
    }
  }
  void u8(std::uint8_t v) { put(&v, 1); }
  void u64(std::uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    put(b, 8);
  }
  void str(std::string_view s) {
    u64(s.size());
    put(s.data(), s.size());
  }

 private:
  int fd_;
  bool ok_ = true;
};

struct ChildState {
  Writer* out;
  const ProbeLimits* limits;
  std::uint64_t sent = 0;
  std::uint64_t objects = 0;
  bool objects_truncated = false;
  hid_t file = -1;
};

// Reads a scalar (or one-element) string attribute; nullopt for anything else.
std::optional<std::pair<std::string, bool>> read_string(hid_t attr, std::uint64_t cap) {
  std::optional<std::pair<std::string, bool>> result;
  const hid_t type = H5Aget_type(attr);
  const hid_t space = H5Aget_space(attr);
  if (type >= 0 && space >= 0 && H5Tget_class(type) == H5T_STRING &&
      H5Sget_simple_extent_npoints(space) == 1) {
    const hid_t mem = H5Tcopy(H5T_C_S1);
    H5Tset_cset(mem, H5Tget_cset(type));  // libhdf5 does not convert ASCII <-> UTF-8
    if (H5Tis_variable_str(type) > 0) {
      H5Tset_size(mem, H5T_VARIABLE);
      char* p = nullptr;
      if (H5Aread(attr, mem, &p) >= 0 && p != nullptr) {
        const std::size_t n = ::strnlen(p, static_cast<std::size_t>(cap) + 1);
        result.emplace(std::string(p, std::min<std::size_t>(n, cap)), n > cap);
        H5free_memory(p);
      }
    } else {
      const std::size_t n = H5Tget_size(type);
      if (n > 0 && n <= cap) {
        std::string buf(n, '\0');
        H5Tset_size(mem, n);
        if (H5Aread(attr, mem, buf.data()) >= 0) {
          buf.resize(::strnlen(buf.c_str(), n));
          result.emplace(std::move(buf), false);
        }
      } else if (n > cap) {
        result.emplace(std::string(), true);
      }
    }
    H5Tclose(mem);
  }
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  return result;
}

void send_attribute(ChildState& st, std::string_view object, std::string_view name, hid_t attr) {
  const std::uint64_t left =
      st.limits->max_output_bytes > st.sent ? st.limits->max_output_bytes - st.sent : 0;
  auto value = read_string(attr, std::min(st.limits->max_attribute_bytes, left));
  if (!value) return;
  st.sent += value->first.size() + object.size() + name.size();
  st.out->u8('A');
  st.out->str(object);
  st.out->str(name);
  st.out->str(value->first);
  st.out->u8(value->second ? 1 : 0);
}

herr_t on_root_attribute(hid_t loc, const char* name, const H5A_info_t*, void* data) {
  auto& st = *static_cast<ChildState*>(data);
  const hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
  if (attr < 0) return 0;
  send_attribute(st, "/", name, attr);
  H5Aclose(attr);
  return st.out->ok() ? 0 : 1;
}

herr_t on_object(hid_t, const char* name, const H5O_info_t*, void* data) {
  auto& st = *static_cast<ChildState*>(data);
  if (++st.objects > st.limits->max_objects) {
    st.objects_truncated = true;
    return 1;
  }
  if (std::strcmp(name, ".") == 0) return 0;  // the root group: its attributes are sent already
  for (const char* attr_name : {"model_config", "training_config"}) {
    if (H5Aexists_by_name(st.file, name, attr_name, H5P_DEFAULT) <= 0) continue;
    const hid_t attr = H5Aopen_by_name(st.file, name, attr_name, H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0) continue;
    send_attribute(st, std::string("/") + name, attr_name, attr);
    H5Aclose(attr);
  }
  return st.out->ok() ? 0 : 1;
}

void limit(int resource, rlim_t value) {
  const rlimit r{value, value};
  setrlimit(resource, &r);
}

std::uint64_t current_vm_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long pages = 0;
  const int n = std::fscanf(f, "%lu", &pages);
  std::fclose(f);
  return n == 1
             ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE))
             : 0;
}

// The probe runs in a fresh process image: the scanner's own executable started again with
// kChildEnv set. A fork() without exec of a multi-threaded scanner would inherit locks other
// threads held at that moment (ASan's allocator did hang that way), and libhdf5 needs malloc.
// The parent passes the file image as a memfd on kDataFd and reads the reply from kReplyFd.
constexpr const char* kChildEnv = "MLSC_INTERNAL_HDF5_PROBE";
constexpr const char* kChildArgv0 = "mlsc-hdf5-probe";
constexpr int kDataFd = 3;
constexpr int kReplyFd = 4;

std::string encode_limits(const ProbeLimits& l) {
  return std::to_string(l.timeout_seconds) + "," + std::to_string(l.max_attribute_bytes) + "," +
         std::to_string(l.max_output_bytes) + "," + std::to_string(l.max_objects) + "," +
         std::to_string(l.memory_headroom);
}

std::optional<ProbeLimits> decode_limits(const char* text) {
  ProbeLimits l;
  unsigned long long v[5];
  if (std::sscanf(text, "%llu,%llu,%llu,%llu,%llu", &v[0], &v[1], &v[2], &v[3], &v[4]) != 5)
    return std::nullopt;
  l.timeout_seconds = static_cast<unsigned>(v[0]);
  l.max_attribute_bytes = v[1];
  l.max_output_bytes = v[2];
  l.max_objects = v[3];
  l.memory_headroom = v[4];
  return l;
}

[[noreturn]] void child_main(ByteView data, int fd, const ProbeLimits& limits) {
  Writer out(fd);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  H5PLset_loading_state(0);  // never dlopen a filter plugin named by the file
  // Read-only image over the mapped bytes: libhdf5 neither copies nor frees nor writes them.
  const hid_t file = H5LTopen_file_image(const_cast<std::uint8_t*>(data.data()), data.size(),
                                         H5LT_FILE_IMAGE_DONT_COPY | H5LT_FILE_IMAGE_DONT_RELEASE);
  if (file < 0) {
    out.u8('E');
    out.str("libhdf5 could not open the file image");
    out.u8('D');
    _exit(0);
  }
  ChildState st{&out, &limits};
  st.file = file;
  hsize_t idx = 0;
  if (const hid_t root = H5Gopen2(file, "/", H5P_DEFAULT); root >= 0) {
    H5Aiterate2(root, H5_INDEX_NAME, H5_ITER_NATIVE, &idx, on_root_attribute, &st);
    H5Gclose(root);
  }
  H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_NATIVE, on_object, &st, H5O_INFO_BASIC);
  out.u8('O');
  out.u64(st.objects);
  out.u8(st.objects_truncated ? 1 : 0);
  out.u8('D');
  _exit(0);
}

bool started_as_probe_child() {
  std::FILE* f = std::fopen("/proc/self/cmdline", "rb");
  if (f == nullptr) return false;
  char argv0[32] = {};
  const std::size_t n = std::fread(argv0, 1, sizeof argv0 - 1, f);
  std::fclose(f);
  return n > 0 && std::strcmp(argv0, kChildArgv0) == 0;
}

// Runs before main() in every executable that links the probe: when this process is a probe
// child (both the environment marker and argv[0] say so), do the probe and exit.
__attribute__((constructor)) void run_probe_child_if_requested() {
  const char* marker = std::getenv(kChildEnv);
  if (marker == nullptr || !started_as_probe_child()) return;
  const auto limits = decode_limits(marker);
  if (!limits) _exit(3);
  limit(RLIMIT_CORE, 0);
  limit(RLIMIT_FSIZE, 0);
  limit(RLIMIT_CPU, limits->timeout_seconds);
  struct stat st {};
  if (::fstat(kDataFd, &st) != 0 || st.st_size <= 0) _exit(4);
  const auto size = static_cast<std::size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, kDataFd, 0);
  if (map == MAP_FAILED) _exit(5);
  if (!kSanitized) {
    if (const auto vm = current_vm_bytes(); vm > 0) limit(RLIMIT_AS, vm + limits->memory_headroom);
  }
  child_main(ByteView(static_cast<const std::uint8_t*>(map), size), kReplyFd, *limits);
}

// --- parent side ---------------------------------------------------------------------------

class ReplyReader {
 public:
  explicit ReplyReader(const std::string& s) : s_(s) {}

  Expected<Probe> parse() {
    Probe p;
    bool done = false;
    while (pos_ < s_.size() && !done) {
      const char kind = s_[pos_++];
      bool ok = true;
      if (kind == 'A') {
        Attribute a;
        std::uint8_t t = 0;
        ok = str(a.object) && str(a.name) && str(a.value) && u8(t);
        a.truncated = t != 0;
        if (ok) p.attributes.push_back(std::move(a));
      } else if (kind == 'O') {
        std::uint8_t t = 0;
        ok = u64(p.objects) && u8(t);
        p.objects_truncated = t != 0;
      } else if (kind == 'E') {
        ok = str(p.open_error);
      } else if (kind == 'D') {
        done = true;
      } else {
        ok = false;
      }
      if (!ok) return Error("libhdf5 helper sent a garbled reply");
    }
    if (!done) return Error("libhdf5 helper stopped before finishing its reply");
    return p;
  }

 private:
  bool u8(std::uint8_t& v) {
    if (pos_ >= s_.size()) return false;
    v = static_cast<std::uint8_t>(s_[pos_++]);
    return true;
  }
  bool u64(std::uint64_t& v) {
    if (s_.size() - pos_ < 8) return false;
    v = 0;
    for (int i = 7; i >= 0; --i)
      v = (v << 8) | static_cast<std::uint8_t>(s_[pos_ + static_cast<std::size_t>(i)]);
    pos_ += 8;
    return true;
  }
  bool str(std::string& out) {
    std::uint64_t n = 0;
    if (!u64(n) || n > s_.size() - pos_) return false;
    out.assign(s_, pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return true;
  }

  const std::string& s_;
  std::size_t pos_ = 0;
};

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

enum class ReadEnd { eof, deadline, too_big, error };

ReadEnd read_reply(int fd, std::string& out, const ProbeLimits& limits) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::seconds(limits.timeout_seconds);
  char buf[65536];
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return ReadEnd::deadline;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ReadEnd::error;
    if (r == 0) continue;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ReadEnd::error;
    if (n == 0) return ReadEnd::eof;
    if (out.size() + static_cast<std::size_t>(n) > limits.max_output_bytes + (1U << 20)) {
      return ReadEnd::too_big;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace

std::optional<std::uint64_t> find_signature(ByteView data) {
  for (std::uint64_t off = 0; off < data.size(); off = off == 0 ? 512 : off * 2) {
    const auto s = slice(data, off, kSignature.size());
    if (!s) return std::nullopt;
    if (starts_with(*s, kSignature)) return off;
  }
  return std::nullopt;
}

Expected<Superblock> check_superblock(ByteView data) {
  const auto at = find_signature(data);
  if (!at) return Error::at(0, "no HDF5 signature");
  Superblock sb;
  sb.offset = *at;
  const std::uint64_t s = *at;
  const auto version = slice(data, s + 8, 1);
  if (!version) return Error::at(s + 8, "HDF5 superblock truncated");
  sb.version = (*version)[0];
  std::uint64_t base_at = 0;
  if (sb.version == 0 || sb.version == 1) {
    const auto sizes = slice(data, s + 13, 2);
    if (!sizes) return Error::at(s + 13, "HDF5 superblock truncated");
    sb.offset_size = (*sizes)[0];
    sb.length_size = (*sizes)[1];
    base_at = s + (sb.version == 0 ? 24 : 28);
  } else if (sb.version == 2 || sb.version == 3) {
    const auto sizes = slice(data, s + 9, 2);
    if (!sizes) return Error::at(s + 9, "HDF5 superblock truncated");
    sb.offset_size = (*sizes)[0];
    sb.length_size = (*sizes)[1];
    base_at = s + 12;
  } else {
    return Error::at(s + 8, "unknown HDF5 superblock version " + std::to_string(sb.version));
  }
  if (sb.offset_size != 2 && sb.offset_size != 4 && sb.offset_size != 8) {
    return Error::at(
        s + 9, "HDF5 address size " + std::to_string(sb.offset_size) + " is not 2, 4 or 8 bytes");
  }
  if (sb.length_size != 2 && sb.length_size != 4 && sb.length_size != 8) {
    return Error::at(
        s + 10, "HDF5 length size " + std::to_string(sb.length_size) + " is not 2, 4 or 8 bytes");
  }
  const std::uint64_t o = static_cast<std::uint64_t>(sb.offset_size);
  const auto base = read_address(data, base_at, sb.offset_size);
  const auto eof = read_address(data, base_at + 2 * o, sb.offset_size);
  if (!base || !eof) return Error::at(base_at, "HDF5 superblock truncated");
  if (*base == kUndefined || *eof == kUndefined) {
    return Error::at(base_at, "HDF5 superblock has an undefined base or end-of-file address");
  }
  sb.base = *base;
  if (*eof > data.size() || sb.base > data.size() - *eof) {
    return Error::at(base_at + 2 * o,
                     "HDF5 file is truncated: its superblock says it ends at byte " +
                         std::to_string(sb.base + *eof) + " but it has " +
                         std::to_string(data.size()));
  }
  sb.end = sb.base + *eof;
  return sb;
}

namespace {

// The file image for the child: a sealed-size anonymous file holding a copy of the bytes.
Expected<int> image_memfd(ByteView data) {
  const int fd = ::memfd_create("mlsc-hdf5-image", MFD_CLOEXEC);
  if (fd < 0) return Error(std::string("memfd_create: ") + std::strerror(errno));
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int e = errno;
      ::close(fd);
      return Error(std::string("writing the HDF5 image for the probe: ") + std::strerror(e));
    }
    done += static_cast<std::size_t>(w);
  }
  return fd;
}

// The child's environment: ours, plus the marker carrying the limits.
std::vector<std::string> child_environment(const ProbeLimits& limits) {
  std::vector<std::string> env;
  const std::string prefix = std::string(kChildEnv) + "=";
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, prefix.c_str(), prefix.size()) != 0) env.emplace_back(*e);
  }
  env.push_back(prefix + encode_limits(limits));
  return env;
}

class SpawnActions {
 public:
  SpawnActions() { ::posix_spawn_file_actions_init(&a_); }
  ~SpawnActions() { ::posix_spawn_file_actions_destroy(&a_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  posix_spawn_file_actions_t* get() { return &a_; }

 private:
  posix_spawn_file_actions_t a_{};
};

Expected<pid_t> spawn_child(int image_fd, int reply_fd, const ProbeLimits& limits) {
  SpawnActions actions;
  // dup2 clears close-on-exec on the copies; everything else the scanner holds stays closed.
  ::posix_spawn_file_actions_adddup2(actions.get(), image_fd, kDataFd);
  ::posix_spawn_file_actions_adddup2(actions.get(), reply_fd, kReplyFd);
  ::posix_spawn_file_actions_addclosefrom_np(actions.get(), kReplyFd + 1);
  std::string argv0 = kChildArgv0;
  char* argv[] = {argv0.data(), nullptr};
  auto env = child_environment(limits);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, "/proc/self/exe", actions.get(), nullptr, argv, envp.data());
  if (rc != 0) return Error(std::string("starting the libhdf5 helper: ") + std::strerror(rc));
  return pid;
}

}  // namespace

Expected<Probe> probe(ByteView data, const ProbeLimits& limits) {
  if (data.empty()) return Error("empty HDF5 image");
  auto image = image_memfd(data);
  if (!image) return image.error();
  FdCloser image_closer(*image);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error(std::string("pipe: ") + std::strerror(errno));
  FdCloser closer(fds[0]);
  auto pid = spawn_child(*image, fds[1], limits);
  ::close(fds[1]);
  if (!pid) return pid.error();
  std::string reply;
  const ReadEnd end = read_reply(fds[0], reply, limits);
  if (end != ReadEnd::eof) ::kill(*pid, SIGKILL);
  const int status = wait_for(*pid);
  if (end == ReadEnd::deadline) {
    return Error("libhdf5 did not finish within " + std::to_string(limits.timeout_seconds) + " s");
  }
  if (end == ReadEnd::too_big) return Error("libhdf5 helper's reply exceeded its size limit");
  if (end == ReadEnd::error) return Error("reading the libhdf5 helper's reply failed");
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* what = sig == SIGXCPU ? " (CPU limit)" : sig == SIGKILL ? " (killed)" : "";
    return Error("libhdf5 crashed on this file: signal " + std::to_string(sig) + what);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    return Error("the libhdf5 helper failed to start (exit " + std::to_string(WEXITSTATUS(status)) +
                 ")");
  }
  return ReplyReader(reply).parse();
}

}  // namespace mlsc::scan::hdf5
