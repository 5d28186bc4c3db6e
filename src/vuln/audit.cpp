// Matching an inventory against the advisory database, and the audit's output formats.
#include "mlsc/vuln/audit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "mlsc/core/text.hpp"

namespace mlsc::vuln {

namespace {

using nlohmann::ordered_json;

constexpr std::size_t kMaxSquatsPerPackage = 3;

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

std::string cut(std::string_view text, std::size_t n) {
  if (text.size() <= n) return std::string(text);
  return std::string(text.substr(0, n)) + "...";
}

std::string package_label(const InventoryPackage& p) {
  return p.version.empty() ? p.name + (p.specifier.empty() ? "" : " " + p.specifier)
                           : p.name + "==" + p.version;
}

std::string vulnerability_message(const VulnerabilityHit& hit) {
  const auto& m = hit.match;
  std::string msg = m.record->id;
  if (!m.record->aliases.empty()) msg += " (" + join(m.record->aliases, ", ") + ")";
  msg += m.fixed ? ": fixed in " + *m.fixed : ": no fixed version";
  if (m.severity.score) msg += fmt::format("; CVSS {:.1f}", *m.severity.score);
  if (!m.record->summary.empty()) msg += "; " + cut(m.record->summary, 200);
  return msg;
}

std::string squat_message(const SquatMatch& s) {
  return fmt::format("'{}' resembles the popular project '{}' (download rank {}): {} ({})",
                     s.candidate, s.target, s.target_rank, to_string(s.kind), s.detail);
}

ordered_json vulnerability_json(const VulnerabilityHit& hit) {
  const auto& m = hit.match;
  const auto& s = m.severity;
  ordered_json j = {{"id", m.record->id},
                    {"aliases", m.record->aliases},
                    {"summary", m.record->summary},
                    {"severity", std::string(to_string(hit.severity))},
                    {"severity_source", s.source.empty() ? "unscored" : s.source},
                    {"score", s.score ? ordered_json(*s.score) : ordered_json(nullptr)},
                    {"vector", s.vector.empty() ? ordered_json(nullptr) : ordered_json(s.vector)},
                    {"affected_package", m.affected->name},
                    {"fixed", m.fixed ? ordered_json(*m.fixed) : ordered_json(nullptr)},
                    {"published", m.record->published},
                    {"modified", m.record->modified}};
  return j;
}

ordered_json squat_json(const SquatMatch& s) {
  return {{"target", s.target},
          {"target_rank", s.target_rank},
          {"kind", std::string(to_string(s.kind))},
          {"detail", s.detail},
          {"severity", std::string(to_string(s.severity))}};
}

std::map<Severity, std::size_t> severity_counts(const AuditResult& r) {
  std::map<Severity, std::size_t> counts;
  for (const auto& p : r.packages) {
    for (const auto& v : p.vulnerabilities) ++counts[v.severity];
  }
  return counts;
}

std::string counts_text(const std::map<Severity, std::size_t>& counts) {
  std::string out;
  for (auto it = counts.rbegin(); it != counts.rend(); ++it) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", it->second, to_string(it->first));
  }
  return out;
}

}  // namespace

std::size_t AuditResult::vulnerability_count() const {
  std::size_t n = 0;
  for (const auto& p : packages) n += p.vulnerabilities.size();
  return n;
}

std::size_t AuditResult::vulnerable_packages() const {
  return static_cast<std::size_t>(
      std::count_if(packages.begin(), packages.end(),
                    [](const PackageAudit& p) { return !p.vulnerabilities.empty(); }));
}

Severity AuditResult::max_severity() const {
  return to_file_report(*this).max_severity();
}

AuditResult audit(const Inventory& inventory, const OsvDatabase& db,
                  const TyposquatIndex* typosquats) {
  const auto start = std::chrono::steady_clock::now();
  AuditResult result;
  result.inventory = inventory;
  result.typosquat_checked = typosquats != nullptr;
  result.packages.reserve(inventory.packages.size());
  for (const auto& package : inventory.packages) {
    PackageAudit pa;
    pa.package = package;
    if (!package.version.empty()) {
      pa.audited = true;
      for (auto& match : db.query(package.name, Version::parse(package.version))) {
        const Severity level = match.severity.level.value_or(kUnscoredSeverity);
        pa.vulnerabilities.push_back({std::move(match), level});
      }
    }
    if (typosquats != nullptr) {
      pa.typosquats = typosquats->check(package.name);
      if (pa.typosquats.size() > kMaxSquatsPerPackage) pa.typosquats.resize(kMaxSquatsPerPackage);
    }
    result.packages.push_back(std::move(pa));
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

FileReport to_file_report(const AuditResult& result) {
  FileReport report;
  report.path = result.inventory.path;
  report.format = result.inventory.kind;
  for (const auto& p : result.packages) {
    const std::string member = package_label(p.package);
    if (!p.audited) {
      report.findings.push_back({Severity::info, "vuln.unpinned-requirement",
                                 "no version fixed (" + p.package.location +
                                     "): not audited; pin it or audit the installed environment",
                                 member, std::nullopt});
    }
    for (const auto& v : p.vulnerabilities) {
      report.findings.push_back(
          {v.severity, "vuln.known-vulnerability", vulnerability_message(v), member, std::nullopt});
    }
    for (const auto& s : p.typosquats) {
      report.findings.push_back(
          {s.severity, "vuln.typosquat", squat_message(s), member, std::nullopt});
    }
  }
  return report;
}

std::string format_audit_text(const AuditResult& result, const OsvDatabase& db,
                              const AuditFormatOptions& options) {
  std::string out = fmt::format(
      "mlsc deps audit: {} ({}, {} packages) against {} advisories from {} (loaded in {:.2f} s)\n",
      result.inventory.path, result.inventory.kind, result.inventory.packages.size(), db.size(),
      options.db_path, db.stats().seconds);
  if (db.stats().errors > 0) {
    out += fmt::format("  warning: {} database records could not be read (first: {})\n",
                       db.stats().errors, db.stats().error_samples.front());
  }
  for (const auto& w : result.inventory.warnings) out += "  warning: " + quote_untrusted(w) + "\n";
  std::size_t unaudited = 0;
  for (const auto& p : result.packages) {
    if (!p.audited) ++unaudited;
    const bool show_vulns =
        std::any_of(p.vulnerabilities.begin(), p.vulnerabilities.end(),
                    [&](const auto& v) { return v.severity >= options.min_severity; });
    const bool show_squats =
        std::any_of(p.typosquats.begin(), p.typosquats.end(),
                    [&](const auto& s) { return s.severity >= options.min_severity; });
    if (!show_vulns && !show_squats) continue;
    out += fmt::format("\n{}  ({})\n", package_label(p.package), p.package.location);
    for (const auto& v : p.vulnerabilities) {
      if (v.severity < options.min_severity) continue;
      const auto& m = v.match;
      out +=
          fmt::format("  {:<8}  {:<16} {}  {}\n", to_string(v.severity), m.record->id,
                      m.fixed ? "fixed in " + *m.fixed : "no fix", join(m.record->aliases, ", "));
      if (!m.record->summary.empty()) out += "            " + cut(m.record->summary, 160) + "\n";
    }
    for (const auto& s : p.typosquats) {
      if (s.severity < options.min_severity) continue;
      out += fmt::format("  {:<8}  typosquat?       {}\n", to_string(s.severity), squat_message(s));
    }
  }
  std::size_t squats = 0;
  for (const auto& p : result.packages) squats += p.typosquats.empty() ? 0 : 1;
  const auto counts = severity_counts(result);
  out += fmt::format(
      "\n{} packages ({} audited{}): {} known vulnerabilities in {} packages{}{}; {}\n",
      result.packages.size(), result.packages.size() - unaudited,
      unaudited ? fmt::format(", {} without a version", unaudited) : std::string(),
      result.vulnerability_count(), result.vulnerable_packages(), counts.empty() ? "" : " (",
      counts.empty() ? "" : counts_text(counts) + ")",
      result.typosquat_checked ? fmt::format("{} possible typosquats", squats)
                               : std::string("typosquat check not run (no --top list)"));
  return out;
}

std::string format_audit_json(const AuditResult& result, const OsvDatabase& db,
                              const AuditFormatOptions& options) {
  ordered_json packages = ordered_json::array();
  std::size_t squats = 0;
  for (const auto& p : result.packages) {
    ordered_json vulns = ordered_json::array();
    for (const auto& v : p.vulnerabilities) vulns.push_back(vulnerability_json(v));
    ordered_json typos = ordered_json::array();
    for (const auto& s : p.typosquats) typos.push_back(squat_json(s));
    squats += p.typosquats.empty() ? 0 : 1;
    packages.push_back({{"name", p.package.name},
                        {"version", p.package.version},
                        {"purl", p.package.purl},
                        {"location", p.package.location},
                        {"audited", p.audited},
                        {"specifier", p.package.specifier},
                        {"vulnerabilities", std::move(vulns)},
                        {"typosquats", std::move(typos)}});
  }
  ordered_json by_severity = ordered_json::object();
  for (const auto& [level, n] : severity_counts(result))
    by_severity[std::string(to_string(level))] = n;
  const auto& st = db.stats();
  ordered_json doc = {
      {"tool", {{"name", "mlsc"}, {"version", MLSC_VERSION}}},
      {"input",
       {{"path", result.inventory.path},
        {"kind", result.inventory.kind},
        {"warnings", result.inventory.warnings}}},
      {"database",
       {{"path", options.db_path},
        {"records", db.size()},
        {"files", st.files},
        {"withdrawn_skipped", st.withdrawn},
        {"other_ecosystem_skipped", st.other_ecosystem},
        {"errors", st.errors},
        {"error_samples", st.error_samples},
        {"ignored_ranges", st.ignored_ranges},
        {"load_seconds", st.seconds}}},
      {"typosquat_list",
       result.typosquat_checked ? ordered_json(options.typosquat_path) : ordered_json(nullptr)},
      {"packages", std::move(packages)},
      {"summary",
       {{"packages", result.packages.size()},
        {"audited", std::count_if(result.packages.begin(), result.packages.end(),
                                  [](const PackageAudit& p) { return p.audited; })},
        {"vulnerable_packages", result.vulnerable_packages()},
        {"vulnerabilities", result.vulnerability_count()},
        {"by_severity", std::move(by_severity)},
        {"typosquats", squats},
        {"max_severity", std::string(to_string(result.max_severity()))},
        {"match_seconds", result.seconds}}}};
  // Names and summaries come from hostile files: invalid UTF-8 must not abort the report.
  return doc.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

FileReport typosquat_file_report(const std::string& path, const std::vector<NameCheck>& checks) {
  FileReport report;
  report.path = path;
  report.format = "package-names";
  for (const auto& c : checks) {
    for (const auto& s : c.matches) {
      report.findings.push_back(
          {s.severity, "vuln.typosquat", squat_message(s), c.name, std::nullopt});
    }
  }
  return report;
}

std::string format_typosquat_text(const std::vector<NameCheck>& checks, Severity min_severity) {
  std::string out;
  std::size_t flagged = 0;
  for (const auto& c : checks) {
    const bool show = std::any_of(c.matches.begin(), c.matches.end(),
                                  [&](const SquatMatch& s) { return s.severity >= min_severity; });
    if (!show) continue;
    ++flagged;
    out += quote_untrusted(c.name) + "\n";
    for (const auto& s : c.matches) {
      if (s.severity >= min_severity) {
        out += fmt::format("  {:<8} {}\n", to_string(s.severity), squat_message(s));
      }
    }
  }
  out += fmt::format("{} names checked, {} flagged\n", checks.size(), flagged);
  return out;
}

std::string format_typosquat_json(const std::vector<NameCheck>& checks) {
  ordered_json names = ordered_json::array();
  for (const auto& c : checks) {
    ordered_json matches = ordered_json::array();
    for (const auto& s : c.matches) matches.push_back(squat_json(s));
    names.push_back(
        {{"name", c.name},
         {"popular_rank", c.popular_rank ? ordered_json(*c.popular_rank) : ordered_json(nullptr)},
         {"matches", std::move(matches)}});
  }
  return ordered_json{{"names", std::move(names)}}.dump(2, ' ', false,
                                                        ordered_json::error_handler_t::replace) +
         "\n";
}

}  // namespace mlsc::vuln
