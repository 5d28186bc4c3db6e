// The rule catalogue: id, name, default severity and descriptions of every rule a scanner can
// emit. Kept as data (data/rules/*.yaml, compiled into the binary) so SARIF, `mlsc rules` and
// docs/rules.md all describe the same thing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "mlsc/core/severity.hpp"

namespace mlsc::report {

struct RuleInfo {
  std::string id;                        // "pickle.dangerous-global"
  std::string name;                      // "DangerousPickleGlobal"
  Severity severity = Severity::medium;  // default level; a finding may carry another
  std::string short_description;
  std::string full_description;
  std::string help;
};

class RuleCatalog {
 public:
  // The catalogue compiled into the binary. Loading it cannot fail at run time: a test checks
  // the embedded YAML, and a broken catalogue aborts at first use rather than printing less.
  static const RuleCatalog& builtin();
  // Parses YAML text (a sequence of rule maps); errors name the entry.
  static Expected<RuleCatalog> parse(std::string_view yaml);

  const RuleInfo* find(std::string_view id) const;
  const std::vector<RuleInfo>& rules() const { return rules_; }  // sorted by id

 private:
  std::vector<RuleInfo> rules_;
};

}  // namespace mlsc::report
