#include "mlsc/vuln/package_name.hpp"

#include <algorithm>

namespace mlsc::vuln {

namespace {

bool is_name_separator(char c) {
  return c == '-' || c == '_' || c == '.';
}
bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Decodes %XX escapes; a malformed escape is kept literally (purls in the wild are sloppy).
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

}  // namespace

std::string normalize_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  bool in_separator = false;
  for (const char c : name) {
    if (is_name_separator(c)) {
      in_separator = true;
      continue;
    }
    if (in_separator) out += '-';
    in_separator = false;
    out += lower(c);
  }
  if (in_separator) out += '-';
  return out;
}

bool is_valid_name(std::string_view name) {
  if (name.empty() || !is_alnum(name.front()) || !is_alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_alnum(c) || is_name_separator(c); });
}

std::optional<Purl> parse_purl(std::string_view text) {
  if (text.size() < 4 || text.size() > 4096) return std::nullopt;
  if (text.substr(0, 4) != "pkg:") return std::nullopt;
  text.remove_prefix(4);
  while (!text.empty() && text.front() == '/') text.remove_prefix(1);
  // Subpath and qualifiers are not needed: cut them off first (they may contain '@' or '/').
  text = text.substr(0, text.find('#'));
  text = text.substr(0, text.find('?'));
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  Purl purl;
  for (const char c : text.substr(0, slash)) purl.type += lower(c);
  std::string_view rest = text.substr(slash + 1);
  const std::size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    purl.version = percent_decode(rest.substr(at + 1));
    rest = rest.substr(0, at);
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  const std::size_t last = rest.rfind('/');
  if (last != std::string_view::npos) {
    purl.namespace_ = percent_decode(rest.substr(0, last));
    rest = rest.substr(last + 1);
  }
  purl.name = percent_decode(rest);
  if (purl.name.empty()) return std::nullopt;
  return purl;
}

}  // namespace mlsc::vuln
