// Semantic Versioning 2.0.0 precedence (semver.org section 11), for OSV ranges of type SEMVER.
#pragma once

#include <compare>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/expected.hpp"

namespace mlsc::vuln {

class SemVer {
 public:
  // "1.2.3", "1.2.3-rc.1+build.5"; a leading "v" is tolerated (OSV data sometimes has one).
  static Expected<SemVer> parse(std::string_view text);

  // Build metadata does not take part; numeric identifiers compare by value and sort before
  // alphanumeric ones; a version without pre-release sorts after all its pre-releases.
  friend std::strong_ordering operator<=>(const SemVer& a, const SemVer& b);
  friend bool operator==(const SemVer& a, const SemVer& b) { return (a <=> b) == 0; }

 private:
  std::string major_, minor_, patch_;  // decimal digits, no leading zeros
  std::vector<std::string> pre_;
};

}  // namespace mlsc::vuln
