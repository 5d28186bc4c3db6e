// Numbers for people: 8030261248 -> "8,030,261,248" (parameter counts in summaries).
#pragma once

#include <cstdint>
#include <string>

namespace mlsc::scan {

inline std::string with_commas(std::uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace mlsc::scan
