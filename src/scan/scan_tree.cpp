#include "mlsc/scan/scan_tree.hpp"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <system_error>

#include "hf_repo.hpp"

namespace mlsc::scan {

namespace fs = std::filesystem;

namespace {

std::string join_display(const std::string& root, const fs::path& rel) {
  if (rel.empty() || rel == ".") return root;
  if (!root.empty() && root.back() == '/') return root + rel.generic_string();
  return root + "/" + rel.generic_string();
}

Expected<void> collect_dir(const std::string& arg, const fs::path& dir,
                           std::vector<ScanTarget>& out) {
  std::error_code ec;
  auto options = fs::directory_options::skip_permission_denied;
  std::vector<ScanTarget> found;
  for (fs::recursive_directory_iterator it(dir, options, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code sec;
    // is_regular_file follows symlinks: a link to a file is scanned as that file, while
    // the iterator itself does not descend into symlinked directories.
    if (!it->is_regular_file(sec)) continue;
    // Lexical: fs::relative would resolve symlinks and name a link by its target.
    const auto rel = it->path().lexically_relative(dir);
    found.push_back({join_display(arg, rel), it->path().string(), it->file_size(sec)});
  }
  if (ec) return Error{arg + ": " + ec.message()};
  std::sort(found.begin(), found.end(),
            [](const ScanTarget& a, const ScanTarget& b) { return a.display < b.display; });
  out.insert(out.end(), found.begin(), found.end());
  return {};
}

// A Hugging Face hub cache entry whose symlink leaves its repository is reported, not opened:
// the cache is only followed inside itself.
std::optional<FileReport> refuse_cache_escape(const ScanTarget& target) {
  auto escape = hf::cache_link_escape(target.fs_path);
  if (!escape) return std::nullopt;
  FileReport report;
  report.path = target.display;
  report.format = "hf-cache-link";
  report.findings.push_back(
      Finding{Severity::high, "hf.symlink-escape", *escape, {}, std::nullopt});
  return report;
}

}  // namespace

Expected<std::vector<ScanTarget>> collect_targets(const std::vector<std::string>& paths) {
  std::vector<ScanTarget> targets;
  for (const auto& arg : paths) {
    std::error_code ec;
    const fs::path p(arg);
    const auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) return Error{arg + ": no such file or directory"};
    if (fs::is_directory(st)) {
      auto r = collect_dir(arg, p, targets);
      if (!r) return r.error();
    } else if (fs::is_regular_file(st)) {
      targets.push_back({arg, arg, fs::file_size(p, ec)});
    } else {
      return Error{arg + ": not a regular file or directory"};
    }
  }
  return targets;
}

std::vector<FileReport> scan_targets(const std::vector<ScanTarget>& targets,
                                     const ScanOptions& options, const TreeScanOptions& tree) {
  std::vector<FileReport> reports(targets.size());
  std::unique_ptr<tbb::global_control> limit;
  if (tree.jobs > 0) {
    limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                  tree.jobs);
  }
  std::atomic<std::size_t> done{0};
  std::atomic<std::uint64_t> bytes{0};
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  std::atomic<std::int64_t> last_report_ms{0};
  tbb::parallel_for(std::size_t{0}, targets.size(), [&](std::size_t i) {
    auto refused = refuse_cache_escape(targets[i]);
    reports[i] =
        refused ? std::move(*refused) : scan_file(targets[i].display, targets[i].fs_path, options);
    const auto n = done.fetch_add(1) + 1;
    const auto b = bytes.fetch_add(targets[i].size) + targets[i].size;
    if (!tree.progress) return;
    const auto now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    auto last = last_report_ms.load();
    // One thread wins each 500 ms window, so progress never floods stderr.
    if (now_ms - last >= 500 && last_report_ms.compare_exchange_strong(last, now_ms)) {
      tree.progress(n, targets.size(), b);
    }
  });
  return reports;
}

}  // namespace mlsc::scan
