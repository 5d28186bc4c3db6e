// CVSS vectors as advisories carry them (OSV `severity[]`): base scores for CVSS v2 and v3.x
// computed from the vector with the formulas of the FIRST specifications, and the qualitative
// level mlsc reports. CVSS v4 vectors are validated and shown but not scored (the v4 score needs
// FIRST's macro-vector lookup table, which mlsc does not carry): see docs/deps.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mlsc/core/expected.hpp"
#include "mlsc/core/severity.hpp"

namespace mlsc::vuln {

struct CvssScore {
  std::string version;               // "2.0", "3.0", "3.1", "4.0"
  std::string vector;                // as given
  std::optional<double> base_score;  // unset for v4
};

// "CVSS:3.1/AV:N/...", "CVSS:3.0/...", "CVSS:4.0/..." or a bare v2 vector ("AV:N/AC:L/Au:N/...").
// Every base metric must be present exactly once with a defined value; temporal and
// environmental metrics are accepted and do not change the base score.
Expected<CvssScore> parse_cvss(std::string_view vector);

// The specification's rating scale: 0 none, 0.1-3.9 low, 4.0-6.9 medium, 7.0-8.9 high,
// 9.0-10.0 critical (v2 has no critical band in NVD's scale; mlsc uses the v3 bands for both).
Severity cvss_severity(double score);

// v3.1's Roundup: the smallest one-decimal number >= x, computed on integers so 4.0000001
// does not become 4.1 through floating-point noise. v3.0 uses the plain ceiling.
double cvss31_roundup(double x);

}  // namespace mlsc::vuln
