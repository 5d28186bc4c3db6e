// The line format of the rule lists compiled into the scanners (data/*.txt): blank-separated
// words, then an optional `# reason`. One reader, so every list is read the same way.
#pragma once

#include <string>
#include <string_view>
#include <vector>
#include "mlsc/core/text.hpp"

namespace mlsc::scan::rules {

using mlsc::trim;

inline std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

struct RuleLine {
  std::vector<std::string_view> words;  // empty for a blank or comment-only line
  std::string reason;                   // the text after '#', trimmed
};

inline RuleLine parse_rule_line(std::string_view line) {
  RuleLine r;
  if (const auto hash = line.find('#'); hash != std::string_view::npos) {
    r.reason = std::string(trim(line.substr(hash + 1)));
    line = line.substr(0, hash);
  }
  for (std::string_view rest = trim(line); !rest.empty(); rest = trim(rest)) {
    const auto sp = rest.find_first_of(" \t");
    r.words.push_back(rest.substr(0, sp));
    if (sp == std::string_view::npos) break;
    rest.remove_prefix(sp);
  }
  return r;
}

}  // namespace mlsc::scan::rules
