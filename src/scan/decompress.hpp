// Bounded decompression of attacker-controlled streams, shared by the zip, archive and
// single-stream scanners. Every decoder stops at a size cap, at a compression-ratio cap (a bomb
// is caught before it is fully expanded) and when the per-file budget refuses more bytes, and
// always returns what it produced so far with the reason it stopped.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/bytes.hpp"

namespace mlsc::scan::decompress {

struct Bounds {
  std::uint64_t max_output = 1ULL << 31;
  // Output may not exceed max_ratio * input once it is past ratio_floor; 0 disables the check.
  // Deflate cannot exceed ~1032:1, so the ratio matters for bzip2, xz, lzma and zstd.
  std::uint64_t max_ratio = 10000;
  std::uint64_t ratio_floor = 16ULL << 20;
  // Charges produced bytes to a budget (ScanContext::reserve_inflate); false stops decoding.
  std::function<bool(std::uint64_t)> reserve;
};

enum class Status : std::uint8_t {
  complete,        // the stream ended properly
  truncated,       // the input ended before the stream did
  corrupt,         // the decoder rejected the data
  too_large,       // output reached Bounds::max_output
  ratio_exceeded,  // output outgrew Bounds::max_ratio
  over_budget,     // Bounds::reserve refused
  unsupported,     // no decoder for this data
};

struct Result {
  Status status = Status::complete;
  std::vector<std::uint8_t> bytes;  // output produced, also on failure
  std::uint64_t consumed = 0;       // input bytes the decoder used (when it can tell)
  std::string detail;               // decoder message on failure
  std::string filter;               // libarchive: which filter decoded it ("gzip", "xz", ...)

  bool ok() const { return status == Status::complete; }
};

std::string_view describe(Status s);

// Raw deflate (zip method 8).
Result inflate_raw(ByteView in, const Bounds& bounds);
// zlib-wrapped deflate (RFC 1950), as Python's zlib.compress writes it.
Result inflate_zlib(ByteView in, const Bounds& bounds);
// Any single stream libarchive's built-in filters decode: gzip, bzip2, xz, lzma-alone, lzip,
// lz4, zstd. External helper programs are never used.
Result via_libarchive(ByteView in, const Bounds& bounds);
// Zip method 14: a 4-byte LZMA SDK version/size header, 5 property bytes, then raw LZMA1
// data (with an end marker when flag bit 1 is set, otherwise ending at `uncompressed_size`).
Result zip_lzma(ByteView in, std::uint64_t uncompressed_size, bool has_end_marker,
                const Bounds& bounds);

// Cheap validity probe: does a zlib stream start here (header check bits, no preset dictionary,
// and the first bytes inflate without error)?
bool looks_like_zlib(ByteView in);

}  // namespace mlsc::scan::decompress
