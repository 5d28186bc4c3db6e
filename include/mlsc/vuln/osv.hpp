// OSV vulnerability records (https://ossf.github.io/osv-schema/), the parts an offline PyPI
// audit needs, and the schema's evaluation of whether a version is affected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "mlsc/core/severity.hpp"
#include "mlsc/vuln/pep440.hpp"
#include "mlsc/vuln/semver.hpp"

namespace mlsc::vuln {

struct OsvEvent {
  enum class Kind : std::uint8_t { introduced, fixed, last_affected, limit };
  Kind kind = Kind::introduced;
  std::string text;  // as written
  // Special values: introduced "0" sorts before every version; a limit containing "*" is
  // infinity.
  bool minus_infinity = false;
  bool plus_infinity = false;
  Version version;               // PEP 440 reading (ECOSYSTEM ranges)
  std::optional<SemVer> semver;  // SEMVER reading, when it is one
};

struct OsvRange {
  enum class Type : std::uint8_t { ecosystem, semver, git, other };
  Type type = Type::other;
  std::string type_name;
  std::vector<OsvEvent> events;  // sorted by version, as the evaluation requires
};

struct OsvSeverity {
  std::string type;   // "CVSS_V3", "CVSS_V2", "CVSS_V4", "Ubuntu", ...
  std::string score;  // the vector or level
};

struct OsvAffected {
  std::string ecosystem;        // "PyPI" (records are filtered to PyPI when loaded)
  std::string name;             // as written
  std::string normalized_name;  // PEP 503
  std::string purl;
  std::vector<OsvRange> ranges;
  std::vector<std::string> version_keys;  // Version::equality_key of `versions`, sorted
  std::vector<OsvSeverity> severity;
  std::string database_severity;  // database_specific.severity, e.g. "HIGH"
};

struct OsvRecord {
  std::string id;
  std::string summary;  // `summary`, else the first sentence of `details`
  std::string modified;
  std::string published;
  std::string withdrawn;
  std::vector<std::string> aliases;
  std::vector<OsvSeverity> severity;
  std::string database_severity;
  std::vector<OsvAffected> affected;
  std::vector<std::string> notes;  // what the loader ignored (GIT ranges, unknown types)
};

struct OsvParseOptions {
  // Keep only affected entries of this ecosystem ("" keeps all). Ecosystem strings may carry
  // a ":suffix" (e.g. "PyPI:foo"); the part before ':' is compared.
  std::string ecosystem = "PyPI";
};

// One record from JSON or YAML text. Errors name the field (and the offset for syntax errors).
Expected<OsvRecord> parse_osv_json(std::string_view text, const OsvParseOptions& options = {});
Expected<OsvRecord> parse_osv_yaml(std::string_view text, const OsvParseOptions& options = {});

// The schema's IsVulnerable for one affected entry: listed in `versions`, or inside one of the
// ECOSYSTEM/SEMVER ranges (events sorted and applied in order, limits honoured). GIT ranges
// cannot be evaluated without the repository and are skipped.
bool affects(const OsvAffected& affected, const Version& version);
bool range_affects(const OsvRange& range, const Version& version);

// The smallest `fixed` version above `version` in this entry's ECOSYSTEM/SEMVER ranges.
std::optional<std::string> lowest_fix_above(const OsvAffected& affected, const Version& version);

// Severity of a record for one affected entry: the highest CVSS v3/v2 base score (entry-level
// severity first, else the record's), else database_specific severity, else nothing.
struct SeverityAssessment {
  std::optional<Severity> level;
  std::optional<double> score;
  std::string vector;  // the vector the level came from, or a v4 vector that was not scored
  std::string source;  // "CVSS_V3", "CVSS_V2", "database_specific", "" when none
};
SeverityAssessment assess_severity(const OsvRecord& record, const OsvAffected& affected);

}  // namespace mlsc::vuln
