// Our own ZIP parser. A security scanner must see what every loader could see: Python's
// zipfile and PyTorch's miniz read the central directory, streaming readers walk the local
// headers, and the two views can be made to disagree. This reader parses both, compares them,
// and reports every place where loaders could read different bytes.
//
// It works over a ByteView (the file is memory-mapped): stored members are returned as views
// into the input, never copied; compressed members are inflated under explicit bounds.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"
#include "mlsc/core/severity.hpp"

namespace mlsc::scan::zip {

// General-purpose flag bits (APPNOTE 4.4.4).
inline constexpr std::uint16_t kFlagEncrypted = 1U << 0;
inline constexpr std::uint16_t kFlagDataDescriptor = 1U << 3;
inline constexpr std::uint16_t kFlagPatched = 1U << 5;
inline constexpr std::uint16_t kFlagStrongEncryption = 1U << 6;
inline constexpr std::uint16_t kFlagUtf8 = 1U << 11;
// Bits whose meaning no mainstream writer uses: 0, 4-10, 12-15. Bits 1-2 (compression
// options), 3 (data descriptor) and 11 (UTF-8 names) are routine.
inline constexpr std::uint16_t kFlagsUnusual = 0xF7F1;

enum class Issue : std::uint8_t {
  header_mismatch,      // central directory and local header (or descriptor) disagree
  unusual_flags,        // encryption/patch/undefined flag bits
  duplicate_entry,      // two entries with the same name
  overlapping_entries,  // data ranges overlap each other or the central directory
  hidden_entry,         // local header not referenced by the central directory
  prepended_data,       // bytes before the archive (Python and miniz shift offsets past them)
  path_traversal,       // "..", absolute path, backslash or NUL in a name
  unsupported_compression,
  malformed,          // structure we could not fully parse
  unreferenced_data,  // bytes between entries or after the end record that nothing names
};

std::string_view rule_id(Issue issue);  // "zip.header-mismatch", ...

struct Anomaly {
  Issue issue = Issue::malformed;
  Severity severity = Severity::medium;
  std::string message;
  std::optional<std::uint64_t> offset;
};

struct Entry {
  std::string name;  // central directory name (local name for hidden entries), raw bytes
  std::uint16_t flags = 0;
  std::uint16_t method = 0;
  std::uint32_t crc32 = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
  std::uint64_t header_offset = 0;  // absolute offset of the local header in the input
  std::uint64_t data_offset = 0;    // absolute offset of the member data
  std::uint64_t end_offset = 0;     // past the data and any data descriptor
  bool local_ok = false;            // the local header exists and parsed (data_offset valid)
  bool hidden = false;              // found only by walking local headers

  bool is_directory() const { return !name.empty() && name.back() == '/'; }
};

struct Archive {
  std::vector<Entry> entries;  // central-directory order, then hidden entries by offset
  std::vector<Anomaly> anomalies;
  // Bytes before the archive proper: Python's offset shift, or bytes before the first local
  // header. All offsets in this struct are absolute regardless.
  std::uint64_t archive_start = 0;
  std::uint64_t cd_offset = 0;  // absolute
  std::uint64_t cd_size = 0;
  std::uint64_t eocd_offset = 0;
  std::uint64_t end = 0;  // past the end record and its comment
  bool has_central_directory = false;
  bool zip64 = false;
};

struct ParseOptions {
  std::size_t max_entries = 1U << 20;
  std::size_t max_anomalies_per_issue = 32;  // further ones are counted in one summary
};

// Error only when the input holds neither an end record nor a local header at offset 0;
// everything else, however broken, is an Archive whose anomalies say what is wrong.
Expected<Archive> parse(ByteView data, const ParseOptions& options = {});

// Locate a plausible end-of-central-directory record near the end (cheap: used by `matches`).
std::optional<std::uint64_t> find_eocd(ByteView data);

// Problems with a member name as a path: "..", absolute, drive letter, backslash, NUL.
struct PathProblem {
  Severity severity = Severity::high;
  std::string what;
};
std::optional<PathProblem> check_path(std::string_view name);

// Member bytes: a view into the input (stored) or an owned buffer (inflated).
class Content {
 public:
  Content() = default;
  explicit Content(ByteView view) : data_(view) {}
  explicit Content(std::vector<std::uint8_t> owned) : data_(std::move(owned)) {}
  ByteView bytes() const;
  bool owned() const { return data_.index() == 1; }

 private:
  std::variant<ByteView, std::vector<std::uint8_t>> data_;
};

struct ReadOptions {
  std::uint64_t max_bytes = 1ULL << 31;        // cap on one inflated member
  std::uint64_t max_ratio = 10000;             // see scan::decompress::Bounds
  std::function<bool(std::uint64_t)> reserve;  // charge inflated bytes; false stops
  bool verify_crc = true;
};

enum class ReadStatus : std::uint8_t {
  ok,
  unsupported_method,  // nothing read
  out_of_bounds,       // the data range leaves the input; nothing read
  corrupt,             // decoder error; content holds what decoded before it
  truncated,           // compressed data ends early; content is partial
  too_large,           // hit max_bytes or the ratio cap; content is the prefix
  over_budget,         // the reserve callback refused; content is the prefix
};

struct ReadResult {
  ReadStatus status = ReadStatus::ok;
  std::string detail;
  Content content;
  std::optional<std::uint32_t> actual_crc;  // set when verified
  bool crc_mismatch = false;                // verified and different from the declared CRC
  bool size_ok = true;                      // produced exactly the declared uncompressed size
};

// Read one entry as a loader would: from the local header's data offset, using the central
// directory's method and sizes, ignoring encryption flags (PyTorch's miniz ignores them too).
// Methods: 0 stored (zero copy), 8 deflate, 12 bzip2, 14 lzma.
ReadResult read(ByteView data, const Entry& entry, const ReadOptions& options);

// CRC-32 as zip stores it (zlib's crc32), over any length.
std::uint32_t crc32_of(ByteView bytes);

bool method_supported(std::uint16_t method);
std::string method_name(std::uint16_t method);

}  // namespace mlsc::scan::zip
