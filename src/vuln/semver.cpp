#include "mlsc/vuln/semver.hpp"

#include <algorithm>

#include "mlsc/vuln/pep440.hpp"

namespace mlsc::vuln {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ident_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}
bool numeric(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// Dot-separated identifiers; each non-empty and made of [0-9A-Za-z-].
Expected<std::vector<std::string>> identifiers(std::string_view s, std::size_t base) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t dot = std::min(s.find('.', start), s.size());
    const std::string_view id = s.substr(start, dot - start);
    if (id.empty() || !std::all_of(id.begin(), id.end(), is_ident_char)) {
      return Error::at(base + start, "malformed semver identifier");
    }
    out.emplace_back(id);
    start = dot + 1;
  }
  return out;
}

}  // namespace

Expected<SemVer> SemVer::parse(std::string_view text) {
  if (text.size() > kMaxVersionLength) return Error("semver longer than 256 characters");
  std::size_t offset = 0;
  if (!text.empty() && text.front() == 'v') {
    text.remove_prefix(1);
    offset = 1;
  }
  const std::size_t plus = text.find('+');
  if (plus != std::string_view::npos) {
    if (auto build = identifiers(text.substr(plus + 1), offset + plus + 1); !build) {
      return build.error();
    }
    text = text.substr(0, plus);
  }
  SemVer v;
  const std::size_t dash = text.find('-');
  if (dash != std::string_view::npos) {
    auto pre = identifiers(text.substr(dash + 1), offset + dash + 1);
    if (!pre) return pre.error();
    for (const auto& id : *pre) {
      if (numeric(id) && id.size() > 1 && id[0] == '0') {
        return Error::at(offset + dash + 1, "numeric pre-release identifier with a leading zero");
      }
    }
    v.pre_ = std::move(*pre);
    text = text.substr(0, dash);
  }
  auto core = identifiers(text, offset);
  if (!core || core->size() != 3) return Error::at(offset, "semver needs MAJOR.MINOR.PATCH");
  for (const auto& part : *core) {
    if (!numeric(part) || (part.size() > 1 && part[0] == '0')) {
      return Error::at(offset, "semver numbers are digits without leading zeros");
    }
  }
  v.major_ = (*core)[0];
  v.minor_ = (*core)[1];
  v.patch_ = (*core)[2];
  return v;
}

std::strong_ordering operator<=>(const SemVer& a, const SemVer& b) {
  for (const auto& [x, y] : {std::pair{&a.major_, &b.major_}, std::pair{&a.minor_, &b.minor_},
                             std::pair{&a.patch_, &b.patch_}}) {
    if (const auto c = compare_numbers(*x, *y); c != 0) return c;
  }
  if (a.pre_.empty() != b.pre_.empty()) {
    return a.pre_.empty() ? std::strong_ordering::greater : std::strong_ordering::less;
  }
  const std::size_t n = std::min(a.pre_.size(), b.pre_.size());
  for (std::size_t i = 0; i < n; ++i) {
    const bool na = numeric(a.pre_[i]);
    const bool nb = numeric(b.pre_[i]);
    if (na != nb) return na ? std::strong_ordering::less : std::strong_ordering::greater;
    const auto c = na ? compare_numbers(a.pre_[i], b.pre_[i]) : (a.pre_[i] <=> b.pre_[i]);
    if (c != 0) return c;
  }
  return a.pre_.size() <=> b.pre_.size();
}

}  // namespace mlsc::vuln
