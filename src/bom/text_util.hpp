// String helpers shared by the BOM parsers (private to src/bom).
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <vector>
#include "mlsc/core/text.hpp"

namespace mlsc::bom::detail {

inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

using mlsc::trim;

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Splits on every `sep`, keeping empty fields.
inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

// Lines without their terminators ("\n" or "\r\n").
inline std::vector<std::string_view> lines(std::string_view s) {
  auto out = split(s, '\n');
  for (auto& l : out) {
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  }
  if (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

// Keeps at most `max` bytes, cutting at a UTF-8 boundary.
inline std::string bounded(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0U) == 0x80U) --cut;
  return std::string(s.substr(0, cut)) + "...";
}

using mlsc::is_valid_utf8;
using mlsc::sanitize_utf8;

}  // namespace mlsc::bom::detail
