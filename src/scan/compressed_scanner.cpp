// A single compressed stream: joblib's compressed dumps (zlib, gzip, bz2, xz, lzma, lz4, and
// the legacy "ZF" format), .pt.gz downloads, .tar.gz. The stream is decompressed under the
// member and per-file bounds and its content scanned as a member; a tar inside a gzip comes
// back to the archive scanner that way.
#include <array>
#include <string>

#include "decompress.hpp"
#include "mlsc/scan/scanners.hpp"

namespace mlsc::scan {

namespace {

enum class Codec : std::uint8_t { none, gzip, bzip2, xz, lzma, zlib, joblib_zf, lz4, zstd };

// joblib < 0.10: "ZF", the uncompressed length as a hex literal padded to 19 characters
// (len(hex(2**64))), then a zlib stream.
constexpr std::size_t kZfHeader = 2 + 19;

bool prefix(ByteView data, std::initializer_list<std::uint8_t> magic) {
  return data.size() >= magic.size() && std::equal(magic.begin(), magic.end(), data.begin());
}

// "0x1a2b" (Python 2 may append "L"), left-justified with spaces.
std::optional<std::uint64_t> zf_length(ByteView data) {
  const auto field = slice(data, 2, kZfHeader - 2);
  if (!field || (*field)[0] != '0' || (*field)[1] != 'x') return std::nullopt;
  std::uint64_t v = 0;
  std::size_t i = 2;
  for (; i < field->size(); ++i) {
    const char c = static_cast<char>((*field)[i]);
    const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) break;
    if (v >> 60 != 0) return std::nullopt;
    v = v * 16 + static_cast<std::uint64_t>(d);
  }
  if (i == 2) return std::nullopt;
  if (i < field->size() && (*field)[i] == 'L') ++i;
  for (; i < field->size(); ++i) {
    if ((*field)[i] != ' ') return std::nullopt;
  }
  return v;
}

// .lzma ("LZMA alone", what lzma.FORMAT_ALONE writes): properties byte lc/lp/pb < 225, a
// dictionary size of 2^n or 2^n + 2^(n-1), an uncompressed size that is unknown (all ones)
// or plausible, and the range coder's first byte, always zero.
bool looks_like_lzma_alone(ByteView data) {
  if (data.size() < 14 || data[0] >= 225) return false;
  const std::uint32_t dict = *load_le<std::uint32_t>(data, 1);
  bool dict_ok = false;
  for (int n = 12; n <= 30 && !dict_ok; ++n) {
    dict_ok = dict == (1U << n) || dict == ((1U << n) | (1U << (n - 1)));
  }
  const std::uint64_t size = *load_le<std::uint64_t>(data, 5);
  return dict_ok && (size == ~std::uint64_t{0} || size < (1ULL << 40)) && data[13] == 0;
}

Codec detect(ByteView data) {
  if (prefix(data, {0x1f, 0x8b, 0x08})) return Codec::gzip;
  if (prefix(data, {'B', 'Z', 'h'}) && data.size() > 3 && data[3] >= '1' && data[3] <= '9') {
    return Codec::bzip2;
  }
  if (prefix(data, {0xFD, '7', 'z', 'X', 'Z', 0x00})) return Codec::xz;
  if (prefix(data, {0x04, 0x22, 0x4D, 0x18})) return Codec::lz4;
  if (prefix(data, {0x28, 0xB5, 0x2F, 0xFD})) return Codec::zstd;
  if (prefix(data, {'Z', 'F'}) && zf_length(data)) return Codec::joblib_zf;
  if (decompress::looks_like_zlib(data)) return Codec::zlib;
  if (looks_like_lzma_alone(data)) return Codec::lzma;
  return Codec::none;
}

std::string_view codec_name(Codec c) {
  switch (c) {
    case Codec::gzip:
      return "gzip";
    case Codec::bzip2:
      return "bzip2";
    case Codec::xz:
      return "xz";
    case Codec::lzma:
      return "lzma";
    case Codec::zlib:
      return "zlib";
    case Codec::joblib_zf:
      return "joblib-zf";
    case Codec::lz4:
      return "lz4";
    case Codec::zstd:
      return "zstd";
    case Codec::none:
      break;
  }
  return "compressed";
}

class CompressedScanner final : public Scanner {
 public:
  std::string_view format() const override { return "compressed"; }
  bool matches(ByteView data) const override { return detect(data) != Codec::none; }

  void scan(ByteView data, ScanContext& ctx) const override {
    const Codec codec = detect(data);
    // Named before the content is scanned: the content's format then replaces it.
    ctx.set_format(codec_name(codec));
    decompress::Bounds bounds;
    bounds.max_output = ctx.options().limits.max_member_bytes;
    bounds.reserve = [&ctx](std::uint64_t n) { return ctx.reserve_inflate(n); };
    const auto result = decode(codec, data, bounds);
    if (!result.ok()) {
      ctx.add(Severity::high, "unscannable",
              std::string(codec_name(codec)) + " stream only partly decompressed (" +
                  std::string(decompress::describe(result.status)) +
                  (result.detail.empty() ? "" : ": " + result.detail) +
                  "); the rest was not analysed",
              result.consumed);
    }
    if (result.status != decompress::Status::unsupported) {
      ctx.scan_member("<" + std::string(codec_name(codec)) + "-content>", result.bytes);
    }
  }

 private:
  static decompress::Result decode(Codec codec, ByteView data, const decompress::Bounds& bounds) {
    if (codec == Codec::zlib) return decompress::inflate_zlib(data, bounds);
    if (codec == Codec::joblib_zf) {
      // zlib.decompress(data, 15, length): the declared length is only a buffer hint, so it
      // does not cap what we read.
      return decompress::inflate_zlib(data.subspan(kZfHeader), bounds);
    }
    return decompress::via_libarchive(data, bounds);
  }
};

}  // namespace

std::unique_ptr<Scanner> make_compressed_scanner() {
  return std::make_unique<CompressedScanner>();
}

}  // namespace mlsc::scan
