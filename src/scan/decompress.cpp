#include "decompress.hpp"

#define ZLIB_CONST  // const next_in: we decode from a read-only mapping
#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <span>

namespace mlsc::scan::decompress {

namespace {

constexpr std::size_t kChunk = std::size_t{64} * 1024;
// zlib counts input in uInt; feed a multi-GB member in pieces.
constexpr std::uint64_t kMaxFeed = 1U << 30;

// Output buffer that enforces Bounds while a decoder fills it. It allows one byte past
// max_output so that "exactly max_output" and "more than max_output" can be told apart.
class Sink {
 public:
  explicit Sink(const Bounds& bounds) : bounds_(bounds) {}

  std::span<std::uint8_t> room() {
    const std::uint64_t cap = bounds_.max_output + 1;
    const std::uint64_t n = std::min<std::uint64_t>(kChunk, cap - std::min(cap, used_));
    out_.resize(static_cast<std::size_t>(used_ + n));
    return std::span<std::uint8_t>(out_).subspan(static_cast<std::size_t>(used_));
  }

  // Accept `n` bytes written into the last room(); `consumed` is input read so far.
  std::optional<Status> commit(std::size_t n, std::uint64_t consumed) {
    used_ += n;
    if (n > 0 && bounds_.reserve && !bounds_.reserve(n)) return Status::over_budget;
    if (used_ > bounds_.max_output) return Status::too_large;
    if (bounds_.max_ratio != 0 && used_ > bounds_.ratio_floor &&
        used_ / std::max<std::uint64_t>(consumed, 1) > bounds_.max_ratio) {
      return Status::ratio_exceeded;
    }
    return std::nullopt;
  }

  std::vector<std::uint8_t> take() {
    out_.resize(static_cast<std::size_t>(std::min(used_, bounds_.max_output)));
    return std::move(out_);
  }

 private:
  const Bounds& bounds_;
  std::vector<std::uint8_t> out_;
  std::uint64_t used_ = 0;
};

struct ZStream {
  z_stream zs{};
  bool live = false;
  explicit ZStream(int window_bits) { live = inflateInit2(&zs, window_bits) == Z_OK; }
  ~ZStream() {
    if (live) inflateEnd(&zs);
  }
  ZStream(const ZStream&) = delete;
  ZStream& operator=(const ZStream&) = delete;
};

Result inflate_with(ByteView in, int window_bits, const Bounds& bounds) {
  Result r;
  ZStream z(window_bits);
  if (!z.live) {
    r.status = Status::corrupt;
    r.detail = "zlib initialisation failed";
    return r;
  }
  Sink sink(bounds);
  std::uint64_t fed = 0;
  for (;;) {
    if (z.zs.avail_in == 0 && fed < in.size()) {
      const std::uint64_t n = std::min<std::uint64_t>(kMaxFeed, in.size() - fed);
      z.zs.next_in = in.data() + fed;
      z.zs.avail_in = static_cast<uInt>(n);
      fed += n;
    }
    auto room = sink.room();
    z.zs.next_out = room.data();
    z.zs.avail_out = static_cast<uInt>(room.size());
    const int rc = inflate(&z.zs, Z_NO_FLUSH);
    const std::size_t produced = room.size() - z.zs.avail_out;
    if (auto stop = sink.commit(produced, z.zs.total_in)) {
      r.status = *stop;
      break;
    }
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && z.zs.avail_in == 0 && fed == in.size()) {
      r.status = Status::truncated;
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      r.status = Status::corrupt;
      r.detail = z.zs.msg != nullptr ? z.zs.msg : "inflate error";
      break;
    }
  }
  r.consumed = z.zs.total_in;
  r.bytes = sink.take();
  return r;
}

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

// Register only filters backed by a linked library: libarchive would otherwise fall back to
// running an external program (bzip2, lz4, zstd) on hostile data.
void support_library_filters(archive* a) {
  archive_read_support_filter_gzip(a);  // libarchive's own code over zlib
  if (archive_bzlib_version() != nullptr) archive_read_support_filter_bzip2(a);
  if (archive_liblzma_version() != nullptr) {
    archive_read_support_filter_xz(a);
    archive_read_support_filter_lzma(a);
    archive_read_support_filter_lzip(a);
  }
  if (archive_liblz4_version() != nullptr) archive_read_support_filter_lz4(a);
  if (archive_libzstd_version() != nullptr) archive_read_support_filter_zstd(a);
}

std::string error_of(archive* a) {
  const char* e = archive_error_string(a);
  return e != nullptr ? e : "libarchive error";
}

}  // namespace

std::string_view describe(Status s) {
  switch (s) {
    case Status::complete:
      return "complete";
    case Status::truncated:
      return "compressed data ends early";
    case Status::corrupt:
      return "corrupt compressed data";
    case Status::too_large:
      return "decompressed size exceeds the member limit";
    case Status::ratio_exceeded:
      return "compression ratio exceeds the limit (decompression bomb?)";
    case Status::over_budget:
      return "per-file decompression budget exhausted";
    case Status::unsupported:
      return "no decoder for this data";
  }
  return "unknown";
}

Result inflate_raw(ByteView in, const Bounds& bounds) {
  return inflate_with(in, -MAX_WBITS, bounds);
}
Result inflate_zlib(ByteView in, const Bounds& bounds) {
  return inflate_with(in, MAX_WBITS, bounds);
}

Result via_libarchive(ByteView in, const Bounds& bounds) {
  Result r;
  ArchivePtr a(archive_read_new());
  if (!a) {
    r.status = Status::unsupported;
    return r;
  }
  support_library_filters(a.get());
  archive_read_support_format_raw(a.get());
  archive_entry* entry = nullptr;
  if (archive_read_open_memory(a.get(), in.data(), in.size()) != ARCHIVE_OK ||
      archive_read_next_header(a.get(), &entry) != ARCHIVE_OK) {
    r.status = Status::unsupported;
    r.detail = error_of(a.get());
    return r;
  }
  // The last filter is always "none" (the raw input); one filter means nothing was decoded.
  if (archive_filter_count(a.get()) < 2) {
    r.status = Status::unsupported;
    return r;
  }
  r.filter = archive_filter_name(a.get(), 0);
  Sink sink(bounds);
  for (;;) {
    auto room = sink.room();
    const la_ssize_t n = archive_read_data(a.get(), room.data(), room.size());
    if (n < 0) {
      r.status = Status::corrupt;
      r.detail = error_of(a.get());
      break;
    }
    if (n == 0) break;
    const auto consumed =
        static_cast<std::uint64_t>(std::max<la_int64_t>(0, archive_filter_bytes(a.get(), -1)));
    if (auto stop = sink.commit(static_cast<std::size_t>(n), consumed)) {
      r.status = *stop;
      break;
    }
  }
  r.consumed =
      static_cast<std::uint64_t>(std::max<la_int64_t>(0, archive_filter_bytes(a.get(), -1)));
  r.bytes = sink.take();
  return r;
}

Result zip_lzma(ByteView in, std::uint64_t uncompressed_size, bool has_end_marker,
                const Bounds& bounds) {
  // Rewrite the zip framing as an .lzma ("LZMA alone") header that libarchive's lzma filter
  // reads: 5 property bytes, then the uncompressed size (all ones: ends with a marker).
  const auto props_size = load_le<std::uint16_t>(in, 2);
  const auto props = slice(in, 4, 5);
  if (!props_size || *props_size != 5 || !props) {
    Result r;
    r.status = Status::corrupt;
    r.detail = "bad LZMA properties header";
    return r;
  }
  const std::uint64_t size = has_end_marker ? ~std::uint64_t{0} : uncompressed_size;
  std::vector<std::uint8_t> alone(props->begin(), props->end());
  for (int i = 0; i < 8; ++i) alone.push_back(static_cast<std::uint8_t>(size >> (8 * i)));
  alone.insert(alone.end(), in.begin() + 9, in.end());
  Result r = via_libarchive(alone, bounds);
  if (r.status == Status::unsupported) {
    // libarchive only recognises common dictionary sizes; anything else is not what a
    // normal zip writer produces.
    r.detail = "LZMA stream with unusual properties";
  }
  return r;
}

bool looks_like_zlib(ByteView in) {
  // CMF 0x78: deflate with a 32 KiB window, what zlib.compress and joblib write.
  if (in.size() < 3 || in[0] != 0x78 || ((in[0] << 8) | in[1]) % 31 != 0 || (in[1] & 0x20) != 0) {
    return false;
  }
  ZStream z(MAX_WBITS);
  if (!z.live) return false;
  std::array<std::uint8_t, 4096> out{};
  z.zs.next_in = in.data();
  z.zs.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), 1024));
  z.zs.next_out = out.data();
  z.zs.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z.zs, Z_NO_FLUSH);
  return (rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR) && z.zs.total_out > 0;
}

}  // namespace mlsc::scan::decompress
