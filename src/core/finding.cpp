#include "mlsc/core/finding.hpp"

#include <algorithm>

namespace mlsc {

Severity FileReport::max_severity() const {
  Severity worst = Severity::none;
  for (const auto& f : findings) worst = std::max(worst, f.severity);
  return worst;
}

}  // namespace mlsc
