#include "mlsc/report/scan_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace mlsc::report {

ScanSummary summarize(const std::vector<FileReport>& files, double seconds) {
  ScanSummary s;
  s.files = files.size();
  s.seconds = seconds;
  for (const auto& f : files) {
    s.bytes += f.size;
    if (!f.io_error.empty()) ++s.io_errors;
    if (!f.findings.empty()) ++s.files_with_findings;
    s.max_severity = std::max(s.max_severity, f.max_severity());
    for (const auto& x : f.findings) ++s.findings_by_severity[x.severity];
  }
  return s;
}

int exit_code(const ScanSummary& summary, Severity fail_on) {
  if (summary.io_errors > 0) return 2;
  return summary.max_severity >= fail_on && summary.max_severity != Severity::none ? 1 : 0;
}

namespace {

std::string location(const Finding& f) {
  std::string where = f.member;
  if (f.offset) where += (where.empty() ? "@" : "@") + std::to_string(*f.offset);
  return where;
}

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

void append_file_text(std::string& out, const FileReport& f, const TextOptions& opt) {
  std::vector<const Finding*> shown;
  for (const auto& x : f.findings) {
    if (x.severity >= opt.min_severity) shown.push_back(&x);
  }
  std::stable_sort(shown.begin(), shown.end(),
                   [](const Finding* a, const Finding* b) { return a->severity > b->severity; });
  const bool has_error = !f.io_error.empty();
  if (shown.empty() && !has_error && !opt.list_clean && !opt.show_imports) return;
  out += fmt::format("{} [{}] {}\n", f.path, f.format,
                     has_error ? "ERROR" : upper(to_string(f.max_severity())));
  if (has_error) out += fmt::format("  error: {}\n", f.io_error);
  for (const auto* x : shown) {
    const auto where = location(*x);
    out += fmt::format("  {:<8} {:<28} {}{}\n", upper(to_string(x->severity)), x->rule,
                       where.empty() ? "" : where + ": ", x->message);
  }
  if (opt.show_imports) {
    for (const auto& i : f.imports) {
      out += fmt::format("  import   {}.{} ({}) {}@{}\n", i.module, i.name, i.verdict, i.member,
                         i.offset);
    }
  }
}

nlohmann::json finding_json(const Finding& f) {
  nlohmann::json j = {{"severity", to_string(f.severity)},
                      {"rule", f.rule},
                      {"message", f.message},
                      {"member", f.member}};
  j["offset"] = f.offset ? nlohmann::json(*f.offset) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json file_json(const FileReport& f) {
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& x : f.findings) findings.push_back(finding_json(x));
  nlohmann::json imports = nlohmann::json::array();
  for (const auto& i : f.imports) {
    imports.push_back({{"module", i.module},
                       {"name", i.name},
                       {"verdict", i.verdict},
                       {"member", i.member},
                       {"offset", i.offset}});
  }
  nlohmann::json j = {{"path", f.path},
                      {"format", f.format},
                      {"size", f.size},
                      {"max_severity", to_string(f.max_severity())},
                      {"findings", std::move(findings)},
                      {"imports", std::move(imports)}};
  if (!f.io_error.empty()) j["error"] = f.io_error;
  return j;
}

}  // namespace

std::string format_text(const std::vector<FileReport>& files, const ScanSummary& summary,
                        const TextOptions& options) {
  std::string out;
  for (const auto& f : files) append_file_text(out, f, options);
  std::string counts;
  for (auto it = summary.findings_by_severity.rbegin(); it != summary.findings_by_severity.rend();
       ++it) {
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", it->second, to_string(it->first));
  }
  out += fmt::format(
      "Scanned {} file{} ({:.1f} MB) in {:.2f}s: {} with findings{}{}; max severity {}\n",
      summary.files, summary.files == 1 ? "" : "s", static_cast<double>(summary.bytes) / 1e6,
      summary.seconds, summary.files_with_findings, counts.empty() ? "" : " (" + counts + ")",
      summary.io_errors ? fmt::format(", {} unreadable", summary.io_errors) : "",
      to_string(summary.max_severity));
  return out;
}

std::string format_json(const std::vector<FileReport>& files, const ScanSummary& summary) {
  nlohmann::json jfiles = nlohmann::json::array();
  for (const auto& f : files) jfiles.push_back(file_json(f));
  nlohmann::json by_sev = nlohmann::json::object();
  for (const auto& [sev, n] : summary.findings_by_severity) by_sev[std::string(to_string(sev))] = n;
  nlohmann::json doc = {{"files", std::move(jfiles)},
                        {"summary",
                         {{"files", summary.files},
                          {"files_with_findings", summary.files_with_findings},
                          {"io_errors", summary.io_errors},
                          {"bytes", summary.bytes},
                          {"seconds", summary.seconds},
                          {"max_severity", to_string(summary.max_severity)},
                          {"findings_by_severity", std::move(by_sev)}}}};
  // Invalid UTF-8 in names taken from hostile files must not abort the report.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace mlsc::report
