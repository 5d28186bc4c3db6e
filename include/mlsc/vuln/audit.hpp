// `mlsc deps audit`: every package of an inventory checked against an offline OSV database
// (and, when a popular-package list is given, for typosquatting), and the result as text, JSON
// or findings for the shared SARIF formatter.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "mlsc/core/finding.hpp"
#include "mlsc/vuln/inventory.hpp"
#include "mlsc/vuln/osv_db.hpp"
#include "mlsc/vuln/typosquat.hpp"

namespace mlsc::vuln {

// An advisory without a CVSS score or a database severity is reported at this level: a known
// vulnerability with no score is not assumed to be mild (docs/deps.md).
inline constexpr Severity kUnscoredSeverity = Severity::high;

struct VulnerabilityHit {
  OsvDatabase::Match match;
  Severity severity = kUnscoredSeverity;  // match.severity.level, or kUnscoredSeverity
};

struct PackageAudit {
  InventoryPackage package;
  bool audited = false;  // false when the input fixes no version
  std::vector<VulnerabilityHit> vulnerabilities;
  std::vector<SquatMatch> typosquats;  // strongest first, at most 3
};

struct AuditResult {
  Inventory inventory;
  std::vector<PackageAudit> packages;
  double seconds = 0;  // matching time, not counting the database load
  bool typosquat_checked = false;

  std::size_t vulnerability_count() const;
  std::size_t vulnerable_packages() const;
  Severity max_severity() const;
};

AuditResult audit(const Inventory& inventory, const OsvDatabase& db,
                  const TyposquatIndex* typosquats);

// The audit as mlsc findings (one FileReport for the input): rule vuln.known-vulnerability per
// advisory, vuln.typosquat per suspicious name, vuln.unpinned-requirement (info) per package
// that could not be audited for want of a version.
FileReport to_file_report(const AuditResult& result);

struct AuditFormatOptions {
  Severity min_severity = Severity::low;  // text: hide findings below this
  std::string db_path;
  std::string typosquat_path;
};

std::string format_audit_text(const AuditResult& result, const OsvDatabase& db,
                              const AuditFormatOptions& options);
std::string format_audit_json(const AuditResult& result, const OsvDatabase& db,
                              const AuditFormatOptions& options);

// `mlsc deps typosquat`: names checked on their own.
struct NameCheck {
  std::string name;
  std::optional<std::uint32_t> popular_rank;  // set when the name is itself on the list
  std::vector<SquatMatch> matches;
};
FileReport typosquat_file_report(const std::string& path, const std::vector<NameCheck>& checks);
std::string format_typosquat_text(const std::vector<NameCheck>& checks, Severity min_severity);
std::string format_typosquat_json(const std::vector<NameCheck>& checks);

}  // namespace mlsc::vuln
