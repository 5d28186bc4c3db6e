// SARIF 2.1.0 formatter for scan results (GitHub code scanning and other SARIF viewers).
#pragma once

#include <string>
#include <vector>

#include "mlsc/core/finding.hpp"
#include "mlsc/report/rules.hpp"

namespace mlsc::report {

struct SarifOptions {
  Severity min_severity = Severity::low;  // findings below this are left out
  std::string tool_version;               // driver.semanticVersion
};

std::string format_sarif(const std::vector<FileReport>& files, const SarifOptions& options,
                         const RuleCatalog& catalog = RuleCatalog::builtin());

}  // namespace mlsc::report
