#include "mlsc/scan/scanner.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "mlsc/core/mapped_file.hpp"

namespace mlsc::scan {

namespace {

// Wrappers that only compress another format: a gzip of a joblib dump is a joblib dump.
bool is_compression(std::string_view format) {
  constexpr std::array<std::string_view, 8> kWrappers = {"gzip", "bzip2", "xz",   "lzma",
                                                         "zlib", "lz4",   "zstd", "joblib-zf"};
  return std::find(kWrappers.begin(), kWrappers.end(), format) != kWrappers.end();
}

// Restores the member path and depth when a nested scan returns.
class MemberScope {
 public:
  MemberScope(std::string& member, std::size_t& depth, std::string_view name)
      : member_(member), depth_(depth), saved_(member.size()) {
    if (!member_.empty()) member_ += '!';
    member_ += name;
    ++depth_;
  }
  ~MemberScope() {
    member_.resize(saved_);
    --depth_;
  }
  MemberScope(const MemberScope&) = delete;
  MemberScope& operator=(const MemberScope&) = delete;

 private:
  std::string& member_;
  std::size_t& depth_;
  std::size_t saved_;
};

}  // namespace

ScanContext::ScanContext(const ScanOptions& options, const Registry& registry, FileReport& report,
                         std::string file_path)
    : options_(options), registry_(registry), report_(report), file_path_(std::move(file_path)) {}

void ScanContext::add(Severity severity, std::string rule, std::string message,
                      std::optional<std::uint64_t> offset) {
  report_.findings.push_back(
      Finding{severity, std::move(rule), std::move(message), member_, offset});
}

void ScanContext::add_in(std::string_view location, Severity severity, std::string rule,
                         std::string message, std::optional<std::uint64_t> offset) {
  std::string where = member_;
  if (!location.empty()) {
    if (!where.empty()) where += '!';
    where += location;
  }
  report_.findings.push_back(
      Finding{severity, std::move(rule), std::move(message), std::move(where), offset});
}

void ScanContext::add_import(std::string module, std::string name, std::string verdict,
                             std::uint64_t offset) {
  report_.imports.push_back(
      ImportRecord{std::move(module), std::move(name), std::move(verdict), member_, offset});
}

std::string ScanContext::scan_member(std::string_view name, ByteView bytes) {
  if (depth_ >= options_.limits.max_depth) {
    MemberScope scope(member_, depth_, name);
    add(Severity::high, "unscannable",
        "containers nested more than " + std::to_string(options_.limits.max_depth) +
            " levels deep; not analysed");
    return "unknown";
  }
  const Scanner* scanner = registry_.detect(bytes);
  if (scanner == nullptr) return "unknown";
  // A compressed top-level file takes the name of what it holds.
  if (depth_ == format_depth_ && is_compression(report_.format)) {
    ++format_depth_;
    report_.format = std::string(scanner->format());
  }
  MemberScope scope(member_, depth_, name);
  const auto saved_declared = declared_loader_;
  const auto saved_inherited = inherited_loader_;
  inherited_loader_ = declared_loader_;
  declared_loader_ = MemberLoader::generic;
  scanner->scan(bytes, *this);
  declared_loader_ = saved_declared;
  inherited_loader_ = saved_inherited;
  return std::string(scanner->format());
}

bool ScanContext::reserve_inflate(std::uint64_t bytes) {
  const auto budget = options_.limits.max_inflated_per_file;
  if (bytes > budget || inflated_ > budget - bytes) return false;
  inflated_ += bytes;
  return true;
}

void ScanContext::set_format(std::string_view format) {
  if (depth_ == format_depth_) report_.format = std::string(format);
}

void Registry::add(std::unique_ptr<Scanner> scanner) {
  scanners_.push_back(std::move(scanner));
}

const Scanner* Registry::detect(ByteView data) const {
  for (const auto& s : scanners_) {
    if (s->matches(data)) return s.get();
  }
  return nullptr;
}

FileReport scan_bytes(const std::string& display_path, ByteView data, const ScanOptions& options,
                      const Registry& registry) {
  return scan_mapped(display_path, {}, data, options, registry);
}

FileReport scan_mapped(const std::string& display_path, const std::string& fs_path, ByteView data,
                       const ScanOptions& options, const Registry& registry) {
  FileReport report;
  report.path = display_path;
  report.size = data.size();
  report.format = "unknown";
  const Scanner* scanner = registry.detect(data);
  if (scanner == nullptr) return report;
  report.format = std::string(scanner->format());
  ScanContext ctx(options, registry, report, fs_path);
  scanner->scan(data, ctx);
  return report;
}

FileReport scan_file(const std::string& display_path, const std::string& fs_path,
                     const ScanOptions& options, const Registry& registry) {
  auto mapped = MappedFile::open(fs_path);
  if (!mapped) {
    FileReport report;
    report.path = display_path;
    report.format = "unknown";
    report.io_error = mapped.error().message;
    return report;
  }
  return scan_mapped(display_path, fs_path, mapped->bytes(), options, registry);
}

}  // namespace mlsc::scan
