// 7z and tar archives through libarchive, including the legacy PyTorch tar checkpoint
// (torch.save before 0.4: members sys_info, pickle, storages, tensors), whose storages and
// tensors members interleave small pickles with raw bytes and so need a walk of their own.
#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "capped_report.hpp"
#include "container_magic.hpp"
#include "mlsc/core/text.hpp"
#include "mlsc/scan/pickle.hpp"
#include "mlsc/scan/scanners.hpp"
#include "mlsc/scan/zip_reader.hpp"

namespace mlsc::scan {

namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

std::string error_of(archive* a) {
  const char* e = archive_error_string(a);
  return e != nullptr ? e : "libarchive error";
}

// Only the two formats this scanner claims: nothing else in libarchive gets to see the bytes.
ArchivePtr open_archive(ByteView data) {
  ArchivePtr a(archive_read_new());
  if (!a) return a;
  archive_read_support_format_7zip(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK) a.reset();
  return a;
}

// Member bytes read through libarchive: a view into the input when the archive stores the
// member contiguously and uncompressed (tar from memory), otherwise a bounded copy charged to
// the file's decompression budget.
struct MemberData {
  zip::Content content;
  bool complete = true;
  std::string problem;
};

class MemberReader {
 public:
  MemberReader(archive* a, ByteView input, ScanContext& ctx) : a_(a), input_(input), ctx_(ctx) {}

  MemberData read() {
    MemberData out;
    const void* buf = nullptr;
    std::size_t size = 0;
    la_int64_t offset = 0;
    for (;;) {
      const int rc = archive_read_data_block(a_, &buf, &size, &offset);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) {
        out.complete = false;
        out.problem = error_of(a_);
        break;
      }
      if (!append(static_cast<const std::uint8_t*>(buf), size, offset, out)) break;
    }
    out.content = owned_ ? zip::Content(std::move(copy_)) : zip::Content(view_);
    return out;
  }

 private:
  bool append(const std::uint8_t* p, std::size_t n, la_int64_t offset, MemberData& out) {
    const auto at = static_cast<std::uint64_t>(std::max<la_int64_t>(offset, 0));
    if (!owned_ && at == view_.size() && in_input(p, n) &&
        (view_.empty() || p == view_.data() + view_.size())) {
      view_ = ByteView(view_.empty() ? p : view_.data(), view_.size() + n);
      return true;
    }
    if (!owned_) {
      owned_ = true;
      if (!grow(view_.size(), out)) return false;
      copy_.assign(view_.begin(), view_.end());
    }
    // Sparse members skip ahead: the gap reads as zeros.
    const std::uint64_t end = std::max<std::uint64_t>(at, copy_.size()) + n;
    if (!grow(end - copy_.size(), out)) return false;
    copy_.resize(static_cast<std::size_t>(std::max<std::uint64_t>(at, copy_.size())));
    copy_.insert(copy_.end(), p, p + n);
    return true;
  }

  bool grow(std::uint64_t n, MemberData& out) {
    const std::uint64_t limit = ctx_.options().limits.max_member_bytes;
    if (copy_.size() + n > limit) {
      out.complete = false;
      out.problem = "member is larger than the " + std::to_string(limit) + "-byte limit";
      return false;
    }
    if (!ctx_.reserve_inflate(n)) {
      out.complete = false;
      out.problem = "per-file decompression budget exhausted";
      return false;
    }
    return true;
  }

  bool in_input(const std::uint8_t* p, std::size_t n) const {
    const auto* begin = input_.data();
    const auto* end = begin + input_.size();
    return std::less_equal<>()(begin, p) && std::less_equal<>()(p, end) &&
           n <= static_cast<std::size_t>(end - p);
  }

  archive* a_;
  ByteView input_;
  ScanContext& ctx_;
  ByteView view_;
  bool owned_ = false;
  std::vector<std::uint8_t> copy_;
};

// ---- legacy PyTorch tar ------------------------------------------------------------------

// Bytes per element of a storage class, by its global's name (torch.FloatStorage, ...).
std::optional<std::uint64_t> element_size(std::string_view storage_class) {
  struct Size {
    std::string_view name;
    std::uint64_t bytes;
  };
  static constexpr std::array<Size, 17> kSizes = {{
      {"DoubleStorage", 8},
      {"FloatStorage", 4},
      {"HalfStorage", 2},
      {"BFloat16Storage", 2},
      {"LongStorage", 8},
      {"IntStorage", 4},
      {"ShortStorage", 2},
      {"CharStorage", 1},
      {"ByteStorage", 1},
      {"BoolStorage", 1},
      {"ComplexDoubleStorage", 16},
      {"ComplexFloatStorage", 8},
      {"QInt8Storage", 1},
      {"QUInt8Storage", 1},
      {"QInt32Storage", 4},
      {"QUInt4x2Storage", 1},
      {"QUInt2x4Storage", 1},
  }};
  for (const auto& s : kSizes) {
    if (s.name == storage_class) return s.bytes;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parse_count(std::string_view repr) {
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(repr.data(), repr.data() + repr.size(), v);
  if (ec != std::errc() || ptr != repr.data() + repr.size()) return std::nullopt;
  return v;
}

// Walks one of the `storages` / `tensors` members: pickles interleaved with raw bytes, exactly
// as torch's legacy_load reads them. Each pickle is scanned as its own member.
class LegacyWalk {
 public:
  LegacyWalk(std::string_view name, ByteView bytes, ScanContext& ctx)
      : name_(name), bytes_(bytes), ctx_(ctx) {
    options_.torch_persistent_ids = true;
    options_.max_values = ctx.options().limits.max_pickle_values;
  }

  // storages: count, then per storage (key, location, type), int64 numel, numel * size bytes;
  // then one pickle of storage views.
  void storages() {
    auto count = count_pickle();
    for (std::uint64_t i = 0; count && i < *count; ++i) {
      const auto run = next_pickle();
      if (!run) return;
      const auto size = storage_element_size(*run);
      if (!size) return fail("unknown storage type in the storage header");
      const auto numel = load_le<std::int64_t>(bytes_, pos_);
      if (!numel || *numel < 0) return fail("bad storage element count");
      const auto n = static_cast<std::uint64_t>(*numel);
      if (n > (bytes_.size() - pos_ - 8) / *size) return fail("storage data runs past the member");
      pos_ += 8 + n * *size;
    }
    if (count && next_pickle()) finish();
  }

  // tensors: count, then per tensor (key, storage_id, type), int32 ndim, 4 padding bytes,
  // ndim int64 sizes, ndim int64 strides, int64 storage offset.
  void tensors() {
    auto count = count_pickle();
    for (std::uint64_t i = 0; count && i < *count; ++i) {
      if (!next_pickle()) return;
      auto ndim = load_le<std::int32_t>(bytes_, pos_);
      // Some writers pickled the key and (storage_id, type) separately: a second pickle.
      if (ndim && (*ndim < 0 || *ndim > 64) && pickle::looks_like_pickle(bytes_.subspan(pos_))) {
        if (!next_pickle()) return;
        ndim = load_le<std::int32_t>(bytes_, pos_);
      }
      if (!ndim || *ndim < 0 || *ndim > 64) return fail("bad tensor dimension count");
      const std::uint64_t record = 8 + 16 * static_cast<std::uint64_t>(*ndim) + 8;
      if (record > bytes_.size() - pos_) return fail("tensor record runs past the member");
      pos_ += record;
    }
    if (count) finish();
  }

 private:
  std::optional<std::uint64_t> count_pickle() {
    const auto run = next_pickle();
    if (!run) return std::nullopt;
    const auto count = parse_count(run->result_repr);
    if (!count) {
      fail("the first pickle is not a count");
      return std::nullopt;
    }
    return count;
  }

  // Runs the pickle at pos_, scans it as a member and moves past it.
  std::optional<pickle::PickleRun> next_pickle() {
    if (pos_ >= bytes_.size()) {
      fail("member ends early");
      return std::nullopt;
    }
    auto run = pickle::run(bytes_, pos_, ctx_.policy(), options_);
    const auto end = std::clamp<std::uint64_t>(run.end, pos_, bytes_.size());
    ctx_.scan_member(
        "<" + name_ + "@" + hex_number(pos_) + ">",
        bytes_.subspan(static_cast<std::size_t>(pos_), static_cast<std::size_t>(end - pos_)));
    if (!run.reached_stop || run.error) {
      fail("pickle does not end in STOP");
      return std::nullopt;
    }
    pos_ = end;
    return run;
  }

  std::optional<std::uint64_t> storage_element_size(const pickle::PickleRun& run) const {
    for (auto it = run.imports.rbegin(); it != run.imports.rend(); ++it) {
      if (auto size = element_size(it->name)) return size;
    }
    return std::nullopt;
  }

  // torch reads nothing after the last record; anything there is only scanned.
  void finish() {
    if (pos_ < bytes_.size()) {
      ctx_.scan_member("<" + name_ + "-trailing@" + hex_number(pos_) + ">",
                       bytes_.subspan(static_cast<std::size_t>(pos_)));
    }
  }

  // The layout is not what torch writes: scan the rest as a pickle stream and say so.
  void fail(const std::string& why) {
    if (failed_) return;
    failed_ = true;
    ctx_.add(Severity::high, "unscannable",
             "legacy PyTorch '" + name_ + "' member: " + why + " at offset " +
                 std::to_string(pos_) + "; the rest could not be walked as torch.load reads it",
             pos_);
    if (pos_ < bytes_.size()) {
      ctx_.scan_member("<" + name_ + "-rest@" + hex_number(pos_) + ">",
                       bytes_.subspan(static_cast<std::size_t>(pos_)));
    }
  }

  std::string name_;
  ByteView bytes_;
  ScanContext& ctx_;
  pickle::Options options_;
  std::uint64_t pos_ = 0;
  bool failed_ = false;
};

bool is_legacy_torch_tar(const std::set<std::string>& names) {
  return names.count("pickle") != 0 && names.count("storages") != 0 && names.count("tensors") != 0;
}

// ---- the scanner -------------------------------------------------------------------------

class ArchiveScan {
 public:
  ArchiveScan(ByteView data, ScanContext& ctx) : data_(data), ctx_(ctx), report_(ctx) {}

  void run() {
    scan_all();
    report_.flush();
  }

 private:
  void scan_all() {
    const bool is_7z = magic::is_7z(data_);
    legacy_ = !is_7z && is_legacy_torch_tar(list_names());
    ctx_.set_format(is_7z ? "7z" : legacy_ ? "pytorch-legacy-tar" : "tar");
    if (legacy_) ctx_.declare_member_loader(MemberLoader::torch);
    ArchivePtr a = open_archive(data_);
    if (!a) return unscannable("archive could not be opened");
    archive_entry* entry = nullptr;
    for (;;) {
      const int rc = archive_read_next_header(a.get(), &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN)
        return unscannable("archive unreadable after " + std::to_string(members_) +
                           " members: " + error_of(a.get()));
      ++members_;
      scan_entry(a.get(), entry);
    }
    if (archive_read_has_encrypted_entries(a.get()) > 0 && !reported_encryption_) {
      unscannable("archive holds encrypted entries");
    }
  }

  // First pass over a tar, names only (tar skips are seeks in memory).
  std::set<std::string> list_names() {
    std::set<std::string> names;
    ArchivePtr a = open_archive(data_);
    archive_entry* entry = nullptr;
    while (a && archive_read_next_header(a.get(), &entry) >= ARCHIVE_WARN && names.size() < 4096) {
      if (const char* n = archive_entry_pathname(entry)) names.insert(n);
    }
    return names;
  }

  void scan_entry(archive* a, archive_entry* entry) {
    const char* raw_name = archive_entry_pathname(entry);
    const std::string name = raw_name != nullptr ? raw_name : "<unnamed>";
    check_name(name, entry);
    if (!holds_data(entry)) return;
    if (archive_entry_is_encrypted(entry) != 0) {
      reported_encryption_ = true;
      report_.add(Severity::medium, "archive.encrypted", "member '" + name + "' is encrypted");
      return unscannable("member '" + name + "' is encrypted; its contents were not analysed");
    }
    MemberData member = MemberReader(a, data_, ctx_).read();
    if (!member.complete) {
      unscannable("member '" + name + "' was only partly read (" + member.problem + ")");
    }
    scan_content(name, member.content.bytes());
  }

  void scan_content(const std::string& name, ByteView bytes) {
    if (legacy_ && name == "storages") return LegacyWalk(name, bytes, ctx_).storages();
    if (legacy_ && name == "tensors") return LegacyWalk(name, bytes, ctx_).tensors();
    ctx_.scan_member(name, bytes);
  }

  void check_name(const std::string& name, archive_entry* entry) {
    if (const auto problem = zip::check_path(name)) {
      report_.add(problem->severity, "archive.path-traversal",
                  "member name '" + name + "' " + problem->what);
    }
    for (const char* target : {archive_entry_symlink(entry), archive_entry_hardlink(entry)}) {
      if (target == nullptr) continue;
      if (const auto problem = zip::check_path(target)) {
        report_.add(Severity::high, "archive.path-traversal",
                    "link '" + name + "' points to '" + target + "', which " + problem->what);
      }
    }
    if (holds_data(entry) && !seen_.insert(name).second) {
      report_.add(Severity::medium, "archive.duplicate-entry",
                  "more than one member is named '" + name +
                      "': extraction keeps the last, other readers may take the first");
    }
  }

  void unscannable(const std::string& why) { report_.add(Severity::high, "unscannable", why); }

  // Regular files, and 7z entries written without Unix attributes (type 0): 7-Zip and py7zr
  // extract those as files too.
  static bool holds_data(archive_entry* entry) {
    const auto type = archive_entry_filetype(entry);
    return type == AE_IFREG || type == 0;
  }

  ByteView data_;
  ScanContext& ctx_;
  CappedReport report_;
  bool legacy_ = false;
  bool reported_encryption_ = false;
  std::size_t members_ = 0;
  std::set<std::string> seen_;
};

class ArchiveScanner final : public Scanner {
 public:
  std::string_view format() const override { return "archive"; }

  bool matches(ByteView data) const override { return magic::is_7z(data) || magic::is_tar(data); }

  void scan(ByteView data, ScanContext& ctx) const override { ArchiveScan(data, ctx).run(); }
};

}  // namespace

std::unique_ptr<Scanner> make_archive_scanner() {
  return std::make_unique<ArchiveScanner>();
}

}  // namespace mlsc::scan
