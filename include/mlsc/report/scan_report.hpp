// Formatters for scan results: text for people, JSON for machines. They only format; the
// scan itself lives in mlsc/scan.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mlsc/core/finding.hpp"

namespace mlsc::report {

struct ScanSummary {
  std::size_t files = 0;
  std::size_t files_with_findings = 0;
  std::size_t io_errors = 0;
  std::uint64_t bytes = 0;
  double seconds = 0;
  Severity max_severity = Severity::none;
  std::map<Severity, std::size_t> findings_by_severity;
};

ScanSummary summarize(const std::vector<FileReport>& files, double seconds);

struct TextOptions {
  Severity min_severity = Severity::low;  // findings below this are not printed
  bool list_clean = false;                // also print files with nothing to show
  bool show_imports = false;              // every global each pickle imports
};

// 2 when something could not be read, 1 when a finding reaches `fail_on`, else 0.
int exit_code(const ScanSummary& summary, Severity fail_on);

std::string format_text(const std::vector<FileReport>& files, const ScanSummary& summary,
                        const TextOptions& options);
std::string format_json(const std::vector<FileReport>& files, const ScanSummary& summary);

}  // namespace mlsc::report
