#include "mlsc/scan/zip_reader.hpp"
#include "mlsc/core/text.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "decompress.hpp"

namespace mlsc::scan::zip {

namespace {

constexpr std::uint32_t kSigLocal = 0x04034b50;
constexpr std::uint32_t kSigCentral = 0x02014b50;
constexpr std::uint32_t kSigEocd = 0x06054b50;
constexpr std::uint32_t kSigEocd64 = 0x06064b50;
constexpr std::uint32_t kSigLocator = 0x07064b50;
constexpr std::uint32_t kSigDescriptor = 0x08074b50;
constexpr std::uint64_t kLocalSize = 30;
constexpr std::uint64_t kCentralSize = 46;
constexpr std::uint64_t kEocdSize = 22;
constexpr std::uint64_t kEocd64Size = 56;
constexpr std::uint64_t kLocatorSize = 20;
constexpr std::uint64_t kMaxComment = 0xFFFF;
constexpr std::uint32_t kSat32 = 0xFFFFFFFF;
constexpr std::uint16_t kZip64ExtraId = 0x0001;
constexpr std::size_t kIssueCount = 10;

bool sig_at(ByteView data, std::uint64_t off, std::uint32_t sig) {
  const auto v = load_le<std::uint32_t>(data, off);
  return v && *v == sig;
}

// Collects anomalies, keeping at most `cap` messages per issue so a hostile archive with a
// million broken entries cannot exhaust memory through its diagnostics.
class Reporter {
 public:
  Reporter(std::vector<Anomaly>& out, std::size_t cap) : out_(out), cap_(cap) {}

  void add(Issue issue, Severity sev, std::string message,
           std::optional<std::uint64_t> offset = std::nullopt) {
    const auto i = static_cast<std::size_t>(issue);
    if (++counts_[i] <= cap_) {
      out_.push_back(Anomaly{issue, sev, std::move(message), offset});
    } else {
      worst_[i] = std::max(worst_[i], sev);
    }
  }

  void finish() {
    for (std::size_t i = 0; i < kIssueCount; ++i) {
      if (counts_[i] > cap_) {
        out_.push_back(Anomaly{static_cast<Issue>(i), worst_[i],
                               std::to_string(counts_[i] - cap_) + " more " +
                                   std::string(rule_id(static_cast<Issue>(i))) +
                                   " anomalies not listed",
                               std::nullopt});
      }
    }
  }

 private:
  std::vector<Anomaly>& out_;
  std::size_t cap_;
  std::array<std::size_t, kIssueCount> counts_{};
  std::array<Severity, kIssueCount> worst_{};
};

// What the end records say, resolved to absolute offsets the way Python's zipfile does.
struct EndInfo {
  std::uint64_t eocd = 0;
  std::uint64_t entries = 0;
  std::uint64_t cd_size = 0;
  std::uint64_t cd_declared = 0;  // offset as written (what miniz uses)
  std::uint64_t cd_start = 0;     // where Python reads it: end of records minus cd_size
  std::uint64_t concat = 0;       // Python's prepended-data shift (0 when negative)
  std::uint64_t end = 0;          // past the comment
  bool zip64 = false;
  bool zip64_mismatch = false;
  bool comment_truncated = false;
  bool multi_disk = false;
};

struct Zip64End {
  std::uint64_t entries = 0;
  std::uint64_t cd_size = 0;
  std::uint64_t cd_offset = 0;
};

std::optional<Zip64End> read_zip64_record(ByteView data, std::uint64_t off) {
  if (!sig_at(data, off, kSigEocd64)) return std::nullopt;
  const auto entries = load_le<std::uint64_t>(data, off + 32);
  const auto size = load_le<std::uint64_t>(data, off + 40);
  const auto offset = load_le<std::uint64_t>(data, off + 48);
  if (!entries || !size || !offset) return std::nullopt;
  return Zip64End{*entries, *size, *offset};
}

// Fill in the zip64 values when a locator sits right before the end record. Python reads the
// zip64 record right before the locator; miniz reads it where the locator says.
void apply_zip64(ByteView data, EndInfo& info, std::uint64_t& records_start) {
  if (info.eocd < kLocatorSize || !sig_at(data, info.eocd - kLocatorSize, kSigLocator)) return;
  const std::uint64_t locator = info.eocd - kLocatorSize;
  const auto declared = load_le<std::uint64_t>(data, locator + 8);
  std::optional<Zip64End> rec;
  if (locator >= kEocd64Size) rec = read_zip64_record(data, locator - kEocd64Size);
  if (rec) {
    records_start = locator - kEocd64Size;
    info.zip64_mismatch =
        declared && *declared != records_start && read_zip64_record(data, *declared).has_value();
  } else if (declared && *declared < locator && (rec = read_zip64_record(data, *declared))) {
    // Not where Python looks (a record with extensible data, or bytes after it): Python
    // falls back to the 32-bit fields, miniz follows the locator.
    records_start = *declared;
    info.zip64_mismatch = true;
  }
  if (!rec) return;
  info.zip64 = true;
  info.entries = rec->entries;
  info.cd_size = rec->cd_size;
  info.cd_declared = rec->cd_offset;
}

// Interpret an end record at `pos`; nullopt when it cannot describe a central directory here.
std::optional<EndInfo> read_end(ByteView data, std::uint64_t pos) {
  if (!sig_at(data, pos, kSigEocd)) return std::nullopt;
  EndInfo info;
  info.eocd = pos;
  const auto disk = load_le<std::uint16_t>(data, pos + 4);
  const auto cd_disk = load_le<std::uint16_t>(data, pos + 6);
  const auto entries = load_le<std::uint16_t>(data, pos + 10);
  const auto cd_size = load_le<std::uint32_t>(data, pos + 12);
  const auto cd_off = load_le<std::uint32_t>(data, pos + 16);
  const auto comment = load_le<std::uint16_t>(data, pos + 20);
  if (!disk || !cd_disk || !entries || !cd_size || !cd_off || !comment) return std::nullopt;
  info.multi_disk = *disk != 0 || *cd_disk != 0;
  info.entries = *entries;
  info.cd_size = *cd_size;
  info.cd_declared = *cd_off;
  info.end = pos + kEocdSize + *comment;
  info.comment_truncated = info.end > data.size();
  info.end = std::min<std::uint64_t>(info.end, data.size());
  std::uint64_t records_start = pos;
  apply_zip64(data, info, records_start);
  if (info.cd_size > records_start) return std::nullopt;
  info.cd_start = records_start - info.cd_size;
  if (info.cd_start >= info.cd_declared) info.concat = info.cd_start - info.cd_declared;
  // An empty archive has no central directory to check: accept it only where it says it is,
  // or any "PK\5\6" followed by zeros in a pickle would make that pickle a zip.
  if (info.entries == 0 && info.cd_size == 0) {
    return info.cd_declared == info.cd_start ? std::optional<EndInfo>(info) : std::nullopt;
  }
  if (!sig_at(data, info.cd_start, kSigCentral) && !sig_at(data, info.cd_declared, kSigCentral)) {
    return std::nullopt;
  }
  return info;
}

// Candidate end-record positions, last first (Python's rfind and miniz both take the last).
template <class F>
void for_each_eocd_candidate(ByteView data, F&& f) {
  if (data.size() < kEocdSize) return;
  const std::uint64_t last = data.size() - kEocdSize;
  const std::uint64_t first = last > kMaxComment ? last - kMaxComment : 0;
  for (std::uint64_t p = last + 1; p-- > first;) {
    if (data[p] == 'P' && data[p + 1] == 'K' && data[p + 2] == 5 && data[p + 3] == 6) {
      if (!f(p)) return;
    }
  }
}

struct LocalHeader {
  std::uint16_t flags = 0;
  std::uint16_t method = 0;
  std::uint32_t crc32 = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
  std::string name;
  ByteView extra;
  std::uint64_t data_offset = 0;
};

// The zip64 extended-information extra field, if present.
std::optional<ByteView> find_zip64_extra(ByteView extra, bool& corrupt) {
  std::uint64_t p = 0;
  while (p + 4 <= extra.size()) {
    const auto id = *load_le<std::uint16_t>(extra, p);
    const auto len = *load_le<std::uint16_t>(extra, p + 2);
    const auto body = slice(extra, p + 4, len);
    if (!body) {
      corrupt = true;
      return std::nullopt;
    }
    if (id == kZip64ExtraId) return body;
    p += 4 + len;
  }
  return std::nullopt;  // 1-3 trailing bytes are ignored by Python and miniz alike
}

// Replace saturated 32-bit fields with their zip64 values, in the order APPNOTE fixes
// (uncompressed size, compressed size, local header offset). False when the field is missing.
bool apply_zip64_fields(ByteView extra, std::span<std::uint64_t* const> saturated, bool& corrupt) {
  if (saturated.empty()) return true;
  const auto body = find_zip64_extra(extra, corrupt);
  if (!body) return false;
  for (std::size_t i = 0; i < saturated.size(); ++i) {
    const auto v = load_le<std::uint64_t>(*body, 8 * i);
    if (!v) return false;
    *saturated[i] = *v;
  }
  return true;
}

// First offset in [from, to) where `sig` starts, or `to`.
std::uint64_t find_sig(ByteView data, std::uint64_t from, std::uint64_t to, std::uint32_t sig) {
  to = std::min<std::uint64_t>(to, data.size());
  while (from + 4 <= to) {
    const void* hit = std::memchr(data.data() + from, 'P', static_cast<std::size_t>(to - from - 3));
    if (hit == nullptr) break;
    from = static_cast<std::uint64_t>(static_cast<const std::uint8_t*>(hit) - data.data());
    if (sig_at(data, from, sig)) return from;
    ++from;
  }
  return to;
}

std::optional<LocalHeader> read_local(ByteView data, std::uint64_t off, bool& extra_corrupt) {
  if (!sig_at(data, off, kSigLocal)) return std::nullopt;
  const auto fixed = slice(data, off, kLocalSize);
  if (!fixed) return std::nullopt;
  LocalHeader h;
  h.flags = *load_le<std::uint16_t>(*fixed, 6);
  h.method = *load_le<std::uint16_t>(*fixed, 8);
  h.crc32 = *load_le<std::uint32_t>(*fixed, 14);
  h.compressed_size = *load_le<std::uint32_t>(*fixed, 18);
  h.uncompressed_size = *load_le<std::uint32_t>(*fixed, 22);
  const std::uint16_t name_len = *load_le<std::uint16_t>(*fixed, 26);
  const std::uint16_t extra_len = *load_le<std::uint16_t>(*fixed, 28);
  const auto name = slice(data, off + kLocalSize, name_len);
  const auto extra = slice(data, off + kLocalSize + name_len, extra_len);
  if (!name || !extra) return std::nullopt;
  h.name = std::string(as_chars(*name));
  h.extra = *extra;
  h.data_offset = off + kLocalSize + name_len + extra_len;
  // Local headers carry both sizes in the zip64 field when either is saturated.
  if (h.compressed_size == kSat32 || h.uncompressed_size == kSat32) {
    std::uint64_t usize = h.uncompressed_size;
    std::uint64_t csize = h.compressed_size;
    const std::array<std::uint64_t*, 2> fields = {&usize, &csize};
    if (apply_zip64_fields(h.extra, fields, extra_corrupt)) {
      h.uncompressed_size = usize;
      h.compressed_size = csize;
    }
  }
  return h;
}

struct Descriptor {
  std::uint32_t crc32 = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
  std::uint64_t length = 0;
};

// A data descriptor at `off` that matches the expected sizes, trying the optional signature
// and both the 32- and 64-bit layouts. nullopt when none matches.
std::optional<Descriptor> read_descriptor(ByteView data, std::uint64_t off, std::uint64_t csize,
                                          std::uint64_t usize) {
  for (const std::uint64_t sig_len : {4, 0}) {
    if (sig_len == 4 && !sig_at(data, off, kSigDescriptor)) continue;
    const std::uint64_t p = off + sig_len;
    const auto crc = load_le<std::uint32_t>(data, p);
    const auto c32 = load_le<std::uint32_t>(data, p + 4);
    const auto u32 = load_le<std::uint32_t>(data, p + 8);
    if (crc && c32 && u32 && *c32 == csize && *u32 == usize) {
      return Descriptor{*crc, *c32, *u32, sig_len + 12};
    }
    const auto c64 = load_le<std::uint64_t>(data, p + 4);
    const auto u64 = load_le<std::uint64_t>(data, p + 12);
    if (crc && c64 && u64 && *c64 == csize && *u64 == usize) {
      return Descriptor{*crc, *c64, *u64, sig_len + 20};
    }
  }
  return std::nullopt;
}

class Parser {
 public:
  Parser(ByteView data, const ParseOptions& options, Archive& out)
      : data_(data),
        options_(options),
        out_(out),
        report_(out.anomalies, options.max_anomalies_per_issue) {}

  void run(const std::optional<EndInfo>& end) {
    if (end) {
      read_directories(*end);
    } else {
      report_.add(Issue::malformed, Severity::high,
                  "no end-of-central-directory record: Python's zipfile and PyTorch cannot open "
                  "this archive; only streaming readers see its entries");
    }
    for (auto& e : out_.entries) attach_local(e);
    walk_locals();
    check_names();
    check_overlaps();
    report_.finish();
  }

 private:
  void read_directories(const EndInfo& end);
  std::size_t read_central(std::uint64_t start, std::uint64_t size, std::uint64_t shift,
                           bool second_view);
  std::optional<std::uint64_t> read_central_entry(std::uint64_t p, std::uint64_t limit,
                                                  std::uint64_t shift, Entry& e);
  void resolve_zip64(Entry& e, std::uint64_t& offset, ByteView extra, std::uint64_t at);
  void attach_local(Entry& e);
  void compare_local(const Entry& e, const LocalHeader& h);
  void finish_extent(Entry& e);
  void walk_locals();
  std::uint64_t next_local_header(std::uint64_t from, std::uint64_t to) const;
  std::uint64_t add_hidden(std::uint64_t off, std::uint64_t limit);
  void gap(std::uint64_t from, std::uint64_t to, bool leading);
  void check_names();
  void check_overlaps();

  ByteView data_;
  const ParseOptions& options_;
  Archive& out_;
  Reporter report_;
  std::unordered_set<std::string> seen_;  // name + offset of entries already listed
};

void Parser::read_directories(const EndInfo& end) {
  out_.has_central_directory = true;
  out_.zip64 = end.zip64;
  out_.eocd_offset = end.eocd;
  out_.end = end.end;
  out_.cd_offset = end.cd_start;
  out_.cd_size = end.cd_size;
  out_.archive_start = end.concat;
  if (end.multi_disk) {
    report_.add(Issue::malformed, Severity::medium,
                "end record names a multi-disk archive; loaders treat it as a single disk",
                end.eocd);
  }
  if (end.end < data_.size()) {
    report_.add(Issue::unreferenced_data, Severity::low,
                std::to_string(data_.size() - end.end) +
                    " bytes follow the end record and its comment; zip readers ignore them",
                end.end);
  }
  if (end.comment_truncated) {
    report_.add(Issue::malformed, Severity::low, "archive comment runs past the end of the file",
                end.eocd);
  }
  if (end.zip64_mismatch) {
    report_.add(Issue::header_mismatch, Severity::high,
                "zip64 locator points somewhere other than the zip64 end record before it: "
                "Python's zipfile and miniz read different end records",
                end.eocd - kLocatorSize);
  }
  if (end.concat != 0) {
    report_.add(Issue::prepended_data, Severity::high,
                std::to_string(end.concat) +
                    " bytes precede the archive: Python's zipfile shifts every offset past them, "
                    "PyTorch's loader treats a file not starting with a local header as a legacy "
                    "pickle, and miniz uses the offsets as written",
                0);
  }
  const std::size_t n = read_central(end.cd_start, end.cd_size, end.concat, false);
  if (n != end.entries) {
    report_.add(Issue::header_mismatch, Severity::high,
                "central directory holds " + std::to_string(n) +
                    " entries but the end record says " + std::to_string(end.entries) +
                    ": Python's zipfile reads by size, miniz by count",
                end.eocd);
  }
  // miniz (PyTorch) reads the central directory at the offset as written, Python at the end
  // minus its size. When both places hold one, read the second view too.
  if (end.cd_declared != end.cd_start && sig_at(data_, end.cd_declared, kSigCentral) &&
      end.cd_declared <= data_.size()) {
    report_.add(
        Issue::header_mismatch, Severity::high,
        "a second central directory sits at the declared offset " + hex_number(end.cd_declared) +
            ": miniz reads it, Python's zipfile reads the one at " + hex_number(end.cd_start),
        end.cd_declared);
    const std::uint64_t limit =
        std::min<std::uint64_t>(end.cd_size, data_.size() - end.cd_declared);
    read_central(end.cd_declared, limit, 0, true);
  }
}

// Parse entries until `size` bytes are used, as Python's zipfile does (miniz trusts the count).
std::size_t Parser::read_central(std::uint64_t start, std::uint64_t size, std::uint64_t shift,
                                 bool second_view) {
  const std::uint64_t limit = start + size;
  if (limit > data_.size()) {
    report_.add(Issue::malformed, Severity::high, "central directory runs past the end of the file",
                start);
  }
  std::size_t count = 0;
  std::uint64_t p = start;
  while (p < limit) {
    if (out_.entries.size() >= options_.max_entries) {
      report_.add(
          Issue::malformed, Severity::high,
          "more than " + std::to_string(options_.max_entries) + " entries; the rest were not read",
          p);
      break;
    }
    Entry e;
    const auto next = read_central_entry(p, limit, shift, e);
    if (!next) break;
    ++count;
    const std::string key = e.name + '\0' + std::to_string(e.header_offset);
    if (seen_.insert(key).second || !second_view) out_.entries.push_back(std::move(e));
    p = *next;
  }
  return count;
}

std::optional<std::uint64_t> Parser::read_central_entry(std::uint64_t p, std::uint64_t limit,
                                                        std::uint64_t shift, Entry& e) {
  const auto fixed = slice(data_, p, kCentralSize);
  if (!fixed || !sig_at(data_, p, kSigCentral) || p + kCentralSize > limit) {
    report_.add(Issue::malformed, Severity::high,
                "bad central directory entry: Python's zipfile refuses the archive", p);
    return std::nullopt;
  }
  e.flags = *load_le<std::uint16_t>(*fixed, 8);
  e.method = *load_le<std::uint16_t>(*fixed, 10);
  e.crc32 = *load_le<std::uint32_t>(*fixed, 16);
  e.compressed_size = *load_le<std::uint32_t>(*fixed, 20);
  e.uncompressed_size = *load_le<std::uint32_t>(*fixed, 24);
  const std::uint16_t name_len = *load_le<std::uint16_t>(*fixed, 28);
  const std::uint16_t extra_len = *load_le<std::uint16_t>(*fixed, 30);
  const std::uint16_t comment_len = *load_le<std::uint16_t>(*fixed, 32);
  const std::uint64_t declared_offset = *load_le<std::uint32_t>(*fixed, 42);
  const std::uint64_t next = p + kCentralSize + name_len + extra_len + comment_len;
  const auto name = slice(data_, p + kCentralSize, name_len);
  const auto extra = slice(data_, p + kCentralSize + name_len, extra_len);
  if (!name || !extra || next > limit) {
    report_.add(Issue::malformed, Severity::high, "central directory entry runs past its end", p);
    return std::nullopt;
  }
  e.name = std::string(as_chars(*name));
  std::uint64_t offset = declared_offset;
  resolve_zip64(e, offset, *extra, p);
  if (offset > ~std::uint64_t{0} - shift) offset = ~std::uint64_t{0} - shift;
  e.header_offset = offset + shift;
  return next;
}

// Saturated 32-bit sizes and offset take their values from the zip64 extra field.
void Parser::resolve_zip64(Entry& e, std::uint64_t& offset, ByteView extra, std::uint64_t at) {
  std::array<std::uint64_t*, 3> fields{};
  std::size_t n = 0;
  if (e.uncompressed_size == kSat32) fields[n++] = &e.uncompressed_size;
  if (e.compressed_size == kSat32) fields[n++] = &e.compressed_size;
  if (offset == kSat32) fields[n++] = &offset;
  bool corrupt = false;
  const bool ok = apply_zip64_fields(extra, std::span(fields).first(n), corrupt);
  if (n == 0) find_zip64_extra(extra, corrupt);  // only to validate the layout
  if (!ok) {
    report_.add(Issue::malformed, Severity::high,
                "entry " + quote_untrusted(e.name) + " needs a zip64 extra field it does not have",
                at);
  }
  if (corrupt) {
    report_.add(Issue::malformed, Severity::high,
                "entry " + quote_untrusted(e.name) +
                    " has a corrupt extra field: Python's zipfile refuses it, miniz does not",
                at);
  }
}

void Parser::attach_local(Entry& e) {
  bool extra_corrupt = false;
  const auto h = read_local(data_, e.header_offset, extra_corrupt);
  if (!h) {
    report_.add(Issue::malformed, Severity::high,
                "entry " + quote_untrusted(e.name) + ": no valid local header at " +
                    hex_number(e.header_offset),
                e.header_offset);
    return;
  }
  e.local_ok = true;
  e.data_offset = h->data_offset;
  compare_local(e, *h);
  finish_extent(e);
}

// Python's zipfile compares only names; miniz takes everything from the central directory;
// streaming readers take everything from the local header. Any difference is a differential.
void Parser::compare_local(const Entry& e, const LocalHeader& h) {
  std::vector<std::string> diffs;
  if (h.name != e.name) diffs.push_back("name " + quote_untrusted(h.name));
  if (h.method != e.method) diffs.push_back("method " + std::to_string(h.method));
  if (h.flags != e.flags) diffs.push_back("flags " + hex_number(h.flags));
  const bool deferred = (e.flags & kFlagDataDescriptor) != 0;
  // With a data descriptor the local fields may be zero; non-zero values must still agree.
  const auto differs = [&](std::uint64_t local, std::uint64_t central) {
    return local != central && !(deferred && local == 0);
  };
  if (differs(h.crc32, e.crc32)) diffs.push_back("crc " + hex_number(h.crc32));
  if (differs(h.compressed_size, e.compressed_size)) {
    diffs.push_back("compressed size " + std::to_string(h.compressed_size));
  }
  if (differs(h.uncompressed_size, e.uncompressed_size)) {
    diffs.push_back("size " + std::to_string(h.uncompressed_size));
  }
  if (diffs.empty()) return;
  std::string msg =
      "local header of " + quote_untrusted(e.name) + " disagrees with the central directory:";
  for (const auto& d : diffs) msg += " " + d + ";";
  msg += " loaders that read different headers see different members";
  report_.add(Issue::header_mismatch, Severity::high, std::move(msg), e.header_offset);
}

void Parser::finish_extent(Entry& e) {
  const std::uint64_t data_end =
      e.data_offset + std::min<std::uint64_t>(e.compressed_size, ~std::uint64_t{0} - e.data_offset);
  e.end_offset = data_end;
  if (data_end > data_.size()) {
    report_.add(Issue::malformed, Severity::high,
                "entry " + quote_untrusted(e.name) + " data runs past the end of the file",
                e.data_offset);
    return;
  }
  if ((e.flags & kFlagDataDescriptor) == 0) return;
  if (const auto d = read_descriptor(data_, data_end, e.compressed_size, e.uncompressed_size)) {
    e.end_offset = data_end + d->length;
    if (d->crc32 != e.crc32) {
      report_.add(Issue::header_mismatch, Severity::high,
                  "data descriptor of " + quote_untrusted(e.name) + " has crc " +
                      hex_number(d->crc32) + ", central directory " + hex_number(e.crc32),
                  data_end);
    }
  } else {
    report_.add(Issue::header_mismatch, Severity::medium,
                "entry " + quote_untrusted(e.name) +
                    " announces a data descriptor but none matching the central directory "
                    "follows its data; streaming readers may split it differently",
                data_end);
  }
}

// Walk the local headers from the start, as a streaming reader would, and account for every
// byte before the central directory: entries it does not reference are hidden entries.
void Parser::walk_locals() {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> known;
  for (const auto& e : out_.entries) {
    if (e.local_ok)
      known.emplace_back(e.header_offset, std::max(e.end_offset, e.header_offset + 1));
  }
  std::sort(known.begin(), known.end());
  const std::uint64_t limit = out_.has_central_directory
                                  ? std::min<std::uint64_t>(out_.cd_offset, data_.size())
                                  : data_.size();
  // Bytes before Python's shifted start are reported (and scanned) as prepended data.
  std::uint64_t p = out_.archive_start;
  std::size_t i = 0;
  bool leading = p == 0;
  while (p < limit) {
    while (i < known.size() && known[i].second <= p) ++i;
    if (i < known.size() && known[i].first <= p) {
      p = known[i].second;
      leading = false;
      continue;
    }
    const std::uint64_t next = i < known.size() ? std::min(known[i].first, limit) : limit;
    const std::uint64_t q = next_local_header(p, next);
    if (q > p) gap(p, q, leading);
    leading = false;
    p = q < next ? add_hidden(q, limit) : next;
  }
}

// First offset in [from, to) holding a parseable local header, or `to`.
std::uint64_t Parser::next_local_header(std::uint64_t from, std::uint64_t to) const {
  for (std::uint64_t q = find_sig(data_, from, to, kSigLocal); q < to;
       q = find_sig(data_, q + 1, to, kSigLocal)) {
    bool extra_corrupt = false;
    if (read_local(data_, q, extra_corrupt)) return q;
  }
  return to;
}

// A local header at `off` that no central entry names. Returns where the walk continues.
std::uint64_t Parser::add_hidden(std::uint64_t off, std::uint64_t limit) {
  bool extra_corrupt = false;
  const auto h = read_local(data_, off, extra_corrupt);
  if (!h || out_.entries.size() >= options_.max_entries) return limit;
  Entry e;
  e.name = h->name;
  e.flags = h->flags;
  e.method = h->method;
  e.crc32 = h->crc32;
  e.compressed_size = h->compressed_size;
  e.uncompressed_size = h->uncompressed_size;
  e.header_offset = off;
  e.data_offset = h->data_offset;
  e.local_ok = true;
  e.hidden = true;
  const bool unknown_size = (h->flags & kFlagDataDescriptor) != 0 && h->compressed_size == 0;
  if (unknown_size) {
    // Sizes follow the data: find the first descriptor whose size matches its position.
    e.compressed_size = limit > e.data_offset ? limit - e.data_offset : 0;
    for (std::uint64_t q = e.data_offset;
         (q = find_sig(data_, q, limit, kSigDescriptor)) + 16 <= limit; ++q) {
      const auto c = load_le<std::uint32_t>(data_, q + 8);
      if (c && *c == q - e.data_offset) {
        e.compressed_size = *c;
        e.crc32 = *load_le<std::uint32_t>(data_, q + 4);
        e.uncompressed_size = *load_le<std::uint32_t>(data_, q + 12);
        break;
      }
    }
  }
  const std::uint64_t data_end =
      e.data_offset +
      std::min<std::uint64_t>(e.compressed_size, limit - std::min(limit, e.data_offset));
  e.end_offset = data_end;
  if (unknown_size && data_end + 16 <= limit && sig_at(data_, data_end, kSigDescriptor)) {
    e.end_offset = data_end + 16;
  }
  const bool shadows = std::any_of(out_.entries.begin(), out_.entries.end(),
                                   [&](const Entry& o) { return !o.hidden && o.name == e.name; });
  report_.add(Issue::hidden_entry, Severity::high,
              "local entry " + quote_untrusted(e.name) + " at " + hex_number(off) +
                  " is not in the central directory: streaming readers see it, Python's zipfile "
                  "and PyTorch do not" +
                  (shadows ? "; it has the same name as a listed entry" : ""),
              off);
  out_.entries.push_back(std::move(e));
  return std::max(out_.entries.back().end_offset, off + kLocalSize);
}

void Parser::gap(std::uint64_t from, std::uint64_t to, bool leading) {
  if (leading) {
    out_.archive_start = to;
    report_.add(Issue::prepended_data, Severity::high,
                std::to_string(to - from) +
                    " bytes before the first entry: PyTorch's loader only opens files that start "
                    "with a local header and reads anything else as a pickle",
                from);
  } else {
    report_.add(Issue::unreferenced_data, Severity::low,
                std::to_string(to - from) + " bytes between entries belong to no entry", from);
  }
}

void Parser::check_names() {
  std::unordered_map<std::string_view, std::size_t> seen;
  for (const auto& e : out_.entries) {
    if (const auto problem = check_path(e.name)) {
      report_.add(Issue::path_traversal, problem->severity,
                  "entry name " + quote_untrusted(e.name) + " " + problem->what, e.header_offset);
    }
    if (e.hidden) continue;
    const auto [it, inserted] = seen.emplace(e.name, 1);
    if (!inserted && ++it->second == 2) {
      report_.add(Issue::duplicate_entry, Severity::high,
                  "more than one entry is named " + quote_untrusted(e.name) +
                      ": Python's zipfile takes the last, miniz may take another",
                  e.header_offset);
    }
  }
}

void Parser::check_overlaps() {
  struct Range {
    std::uint64_t begin, end;
    std::string what;
  };
  std::vector<Range> ranges;
  for (const auto& e : out_.entries) {
    if (e.local_ok)
      ranges.push_back(
          {e.header_offset, std::max(e.end_offset, e.data_offset), quote_untrusted(e.name)});
  }
  if (out_.has_central_directory && out_.cd_size > 0) {
    ranges.push_back({out_.cd_offset, out_.cd_offset + out_.cd_size, "the central directory"});
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.begin < b.begin; });
  std::size_t widest = 0;
  for (std::size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].begin < ranges[widest].end) {
      report_.add(Issue::overlapping_entries, Severity::high,
                  ranges[i].what + " overlaps " + ranges[widest].what + " at " +
                      hex_number(ranges[i].begin) +
                      ": the same bytes are read as two members (zip bomb or loader confusion)",
                  ranges[i].begin);
    }
    if (ranges[i].end > ranges[widest].end) widest = i;
  }
}

// Find the end record the loaders would use: the last signature that makes sense.
std::optional<EndInfo> locate_end(ByteView data, Reporter& report) {
  std::optional<EndInfo> found;
  bool skipped = false;
  for_each_eocd_candidate(data, [&](std::uint64_t p) {
    found = read_end(data, p);
    if (!found) skipped = true;
    return !found.has_value();
  });
  if (found && skipped) {
    report.add(Issue::malformed, Severity::medium,
               "a later end-of-central-directory signature is not valid; Python's zipfile and "
               "miniz take the last one and fail",
               found->eocd);
  }
  return found;
}

}  // namespace

std::string_view rule_id(Issue issue) {
  switch (issue) {
    case Issue::header_mismatch:
      return "zip.header-mismatch";
    case Issue::unusual_flags:
      return "zip.unusual-flags";
    case Issue::duplicate_entry:
      return "zip.duplicate-entry";
    case Issue::overlapping_entries:
      return "zip.overlapping-entries";
    case Issue::hidden_entry:
      return "zip.hidden-entry";
    case Issue::prepended_data:
      return "zip.prepended-data";
    case Issue::path_traversal:
      return "zip.path-traversal";
    case Issue::unsupported_compression:
      return "zip.unsupported-compression";
    case Issue::malformed:
      return "zip.malformed";
    case Issue::unreferenced_data:
      return "zip.unreferenced-data";
  }
  return "zip.malformed";
}

std::optional<std::uint64_t> find_eocd(ByteView data) {
  std::optional<std::uint64_t> found;
  for_each_eocd_candidate(data, [&](std::uint64_t p) {
    if (read_end(data, p)) found = p;
    return !found.has_value();
  });
  return found;
}

Expected<Archive> parse(ByteView data, const ParseOptions& options) {
  Archive archive;
  Reporter end_report(archive.anomalies, options.max_anomalies_per_issue);
  const auto end = locate_end(data, end_report);
  if (!end && !sig_at(data, 0, kSigLocal)) {
    return Error::at(0, "not a zip archive: no end of central directory record");
  }
  Parser parser(data, options, archive);
  parser.run(end);
  return archive;
}

std::optional<PathProblem> check_path(std::string_view name) {
  if (name.find('\0') != std::string_view::npos) {
    return PathProblem{Severity::high,
                       "contains a NUL byte: Python's zipfile cuts the name there, other readers "
                       "do not"};
  }
  if (!name.empty() && (name.front() == '/' || name.front() == '\\')) {
    return PathProblem{Severity::high, "is an absolute path"};
  }
  if (name.size() >= 2 && name[1] == ':' &&
      ((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z'))) {
    return PathProblem{Severity::high, "starts with a drive letter"};
  }
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t stop = std::min(name.find_first_of("/\\", start), name.size());
    if (name.substr(start, stop - start) == "..") {
      return PathProblem{Severity::high, "climbs out of the extraction folder with '..'"};
    }
    start = stop + 1;
  }
  if (name.find('\\') != std::string_view::npos) {
    return PathProblem{Severity::medium,
                       "contains a backslash: a path separator when extracted on Windows"};
  }
  return std::nullopt;
}

ByteView Content::bytes() const {
  if (const auto* v = std::get_if<ByteView>(&data_)) return *v;
  return std::get<std::vector<std::uint8_t>>(data_);
}

std::uint32_t crc32_of(ByteView bytes) {
  std::uint64_t done = 0;
  uLong crc = crc32(0L, Z_NULL, 0);
  while (done < bytes.size()) {
    const std::uint64_t n = std::min<std::uint64_t>(bytes.size() - done, 1U << 30);
    crc = crc32(crc, bytes.data() + done, static_cast<uInt>(n));
    done += n;
  }
  return static_cast<std::uint32_t>(crc);
}

bool method_supported(std::uint16_t method) {
  return method == 0 || method == 8 || method == 12 || method == 14;
}

std::string method_name(std::uint16_t method) {
  switch (method) {
    case 0:
      return "stored";
    case 8:
      return "deflate";
    case 9:
      return "deflate64";
    case 12:
      return "bzip2";
    case 14:
      return "lzma";
    case 93:
      return "zstd";
    case 95:
      return "xz";
    case 98:
      return "ppmd";
    case 99:
      return "AES-encrypted";
    default:
      return "method " + std::to_string(method);
  }
}

namespace {

ReadStatus to_read_status(scan::decompress::Status s) {
  using scan::decompress::Status;
  switch (s) {
    case Status::complete:
      return ReadStatus::ok;
    case Status::truncated:
      return ReadStatus::truncated;
    case Status::too_large:
    case Status::ratio_exceeded:
      return ReadStatus::too_large;
    case Status::over_budget:
      return ReadStatus::over_budget;
    case Status::corrupt:
    case Status::unsupported:
      return ReadStatus::corrupt;
  }
  return ReadStatus::corrupt;
}

scan::decompress::Result decode(ByteView raw, const Entry& entry, const ReadOptions& options) {
  scan::decompress::Bounds bounds;
  bounds.max_output = options.max_bytes;
  bounds.max_ratio = options.max_ratio;
  bounds.reserve = options.reserve;
  switch (entry.method) {
    case 8:
      return scan::decompress::inflate_raw(raw, bounds);
    case 12:
      return scan::decompress::via_libarchive(raw, bounds);
    default:
      return scan::decompress::zip_lzma(raw, entry.uncompressed_size, (entry.flags & 2) != 0,
                                        bounds);
  }
}

}  // namespace

ReadResult read(ByteView data, const Entry& entry, const ReadOptions& options) {
  ReadResult r;
  if (!method_supported(entry.method)) {
    r.status = ReadStatus::unsupported_method;
    r.detail = "compression " + method_name(entry.method) + " is not supported";
    return r;
  }
  const auto raw =
      entry.local_ok ? slice(data, entry.data_offset, entry.compressed_size) : std::nullopt;
  if (!raw) {
    r.status = ReadStatus::out_of_bounds;
    r.detail = "member data lies outside the file";
    return r;
  }
  if (entry.method == 0) {
    r.content = Content(*raw);
  } else {
    auto out = decode(*raw, entry, options);
    r.status = to_read_status(out.status);
    if (!out.ok())
      r.detail = std::string(scan::decompress::describe(out.status)) +
                 (out.detail.empty() ? "" : ": " + out.detail);
    r.content = Content(std::move(out.bytes));
  }
  const ByteView bytes = r.content.bytes();
  r.size_ok = bytes.size() == entry.uncompressed_size;
  if (options.verify_crc && r.status == ReadStatus::ok) {
    r.actual_crc = crc32_of(bytes);
    r.crc_mismatch = *r.actual_crc != entry.crc32;
  }
  return r;
}

}  // namespace mlsc::scan::zip
