// The rule catalogue as text, JSON or Markdown (`mlsc rules`; docs/rules.md is the Markdown).
#pragma once

#include <string>
#include <string_view>

#include "mlsc/report/rules.hpp"

namespace mlsc::report {

// format: "text", "json" or "markdown".
std::string format_rules(const RuleCatalog& catalog, std::string_view format);

}  // namespace mlsc::report
