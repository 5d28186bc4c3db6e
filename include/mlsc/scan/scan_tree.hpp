// Scanning many paths: recursive discovery, then files scanned in parallel on all cores.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "mlsc/core/finding.hpp"
#include "mlsc/scan/scanner.hpp"

namespace mlsc::scan {

struct ScanTarget {
  std::string display;  // the argument as given, joined with the path below it
  std::string fs_path;
  std::uint64_t size = 0;
};

// Expands files and directories (recursively, in a stable sorted order). Symlinks to files
// are scanned; symlinked directories are not followed (loops, escapes). A path that does not
// exist is an error: the caller exits 2.
Expected<std::vector<ScanTarget>> collect_targets(const std::vector<std::string>& paths);

// Called from worker threads, at most a few times a second.
using ProgressFn = std::function<void(std::size_t done, std::size_t total, std::uint64_t bytes)>;

struct TreeScanOptions {
  std::size_t jobs = 0;  // 0: all cores
  ProgressFn progress;
};

// Reports in the order of `targets`, whatever order the threads finish in.
std::vector<FileReport> scan_targets(const std::vector<ScanTarget>& targets,
                                     const ScanOptions& options, const TreeScanOptions& tree);

}  // namespace mlsc::scan
