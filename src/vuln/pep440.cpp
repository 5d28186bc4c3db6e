// PEP 440 parsing and ordering. The grammar accepted is PEP 440's "permissive" form as pip
// accepts it (case-insensitive, leading "v", alternative spellings and separators, implicit
// numbers); the ordering is PEP 440's, which is also pip's:
//   epoch, release (trailing zeros ignored), pre-release (a < b < rc; a release with only a
//   .devN sorts before all of its pre-releases), post-release, dev-release, local version
//   (absent < present; segment-wise, alphanumeric segments before numeric ones).
#include "mlsc/vuln/pep440.hpp"
#include "mlsc/core/text.hpp"

#include <algorithm>
#include <array>

namespace mlsc::vuln {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_separator(char c) {
  return c == '-' || c == '_' || c == '.';
}
char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// "007" -> "7", "000" -> "0".
std::string strip_zeros(std::string_view digits) {
  std::size_t i = 0;
  while (i + 1 < digits.size() && digits[i] == '0') ++i;
  return std::string(digits.substr(i));
}

bool starts_with_ci(std::string_view text, std::size_t pos, std::string_view word) {
  if (text.size() - pos < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (lower(text[pos + i]) != word[i]) return false;
  }
  return true;
}

// Tri-state sort keys: absent-as-minus-infinity, a value, absent-as-plus-infinity.
enum class Bound : std::int8_t { minus_infinity = -1, value = 0, plus_infinity = 1 };

std::strong_ordering compare_optional(Bound ba, std::string_view a, Bound bb, std::string_view b) {
  if (ba != bb) return ba <=> bb;
  if (ba != Bound::value) return std::strong_ordering::equal;
  return compare_numbers(a, b);
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// Local segments: a numeric segment sorts after every alphanumeric one; numerics by value,
// alphanumerics by byte order; a longer list with an equal prefix sorts after.
std::strong_ordering compare_local(const std::vector<std::string>& a,
                                   const std::vector<std::string>& b) {
  if (a.empty() != b.empty())
    return a.empty() ? std::strong_ordering::less : std::strong_ordering::greater;
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const bool na = all_digits(a[i]);
    const bool nb = all_digits(b[i]);
    if (na != nb) return na ? std::strong_ordering::greater : std::strong_ordering::less;
    const auto c = na ? compare_numbers(a[i], b[i]) : (a[i] <=> b[i]);
    if (c != 0) return c;
  }
  return a.size() <=> b.size();
}

std::size_t significant_release_length(const std::vector<std::string>& release) {
  std::size_t n = release.size();
  while (n > 0 && release[n - 1] == "0") --n;
  return n;
}

std::strong_ordering compare_release(const std::vector<std::string>& a,
                                     const std::vector<std::string>& b) {
  const std::size_t na = significant_release_length(a);
  const std::size_t nb = significant_release_length(b);
  for (std::size_t i = 0; i < std::min(na, nb); ++i) {
    if (const auto c = compare_numbers(a[i], b[i]); c != 0) return c;
  }
  return na <=> nb;
}

}  // namespace

std::strong_ordering compare_numbers(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() <=> b.size();
  const int c = a.compare(b);
  return c < 0 ? std::strong_ordering::less
               : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
}

// Recursive-descent parser over one version string. Each optional part is tried at the current
// position and the position only advances when the whole part matched, which gives the same
// result as the reference regular expression's first match.
class VersionParser {
 public:
  explicit VersionParser(std::string_view text) : s_(text) {}

  Expected<Version> run() {
    Version v;
    if (pos_ < s_.size() && lower(s_[pos_]) == 'v') ++pos_;
    if (!parse_epoch_and_release(v)) return fail("expected a release number such as 1.0");
    parse_pre(v);
    parse_post(v);
    parse_dev(v);
    if (pos_ < s_.size() && s_[pos_] == '+') {
      ++pos_;
      if (!parse_local(v)) return fail("malformed local version label");
    }
    if (pos_ != s_.size()) return fail("unexpected character in version");
    return v;
  }

 private:
  Error fail(const char* what) const {
    return Error::at(pos_, std::string(what) + " at offset " + std::to_string(pos_));
  }

  std::optional<std::string_view> digits_at(std::size_t at) const {
    std::size_t end = at;
    while (end < s_.size() && is_digit(s_[end])) ++end;
    if (end == at) return std::nullopt;
    return s_.substr(at, end - at);
  }

  bool parse_epoch_and_release(Version& v) {
    auto first = digits_at(pos_);
    if (!first) return false;
    if (pos_ + first->size() < s_.size() && s_[pos_ + first->size()] == '!') {
      v.epoch_ = strip_zeros(*first);
      pos_ += first->size() + 1;
      first = digits_at(pos_);
      if (!first) return false;
    }
    v.release_.push_back(strip_zeros(*first));
    pos_ += first->size();
    while (pos_ + 1 < s_.size() && s_[pos_] == '.') {
      const auto next = digits_at(pos_ + 1);
      if (!next) break;
      v.release_.push_back(strip_zeros(*next));
      pos_ += 1 + next->size();
    }
    return true;
  }

  // Optional separator, then one of `labels` (longest alternative listed first), then an
  // optional separator and number. Returns the index of the label and moves past the number.
  template <std::size_t N>
  std::optional<std::size_t> labelled(const std::array<std::string_view, N>& labels,
                                      std::string& number) {
    std::size_t at = pos_;
    if (at < s_.size() && is_separator(s_[at])) ++at;
    for (std::size_t i = 0; i < N; ++i) {
      if (!starts_with_ci(s_, at, labels[i])) continue;
      std::size_t end = at + labels[i].size();
      // A label must not run into more letters ("rcx", "postfix"): the regex would fail there.
      std::size_t after = end;
      if (after < s_.size() && is_separator(s_[after])) ++after;
      if (const auto n = digits_at(after)) {
        number = strip_zeros(*n);
        pos_ = after + n->size();
      } else {
        number = "0";
        pos_ = after;  // the reference grammar lets the trailing separator belong to the label
      }
      return i;
    }
    return std::nullopt;
  }

  void parse_pre(Version& v) {
    static constexpr std::array<std::string_view, 8> kLabels = {"alpha",   "a",   "beta", "b",
                                                                "preview", "pre", "c",    "rc"};
    static constexpr std::array<PreRelease, 8> kKinds = {
        PreRelease::alpha, PreRelease::alpha, PreRelease::beta, PreRelease::beta,
        PreRelease::rc,    PreRelease::rc,    PreRelease::rc,   PreRelease::rc};
    std::string number;
    const std::size_t saved = pos_;
    if (const auto i = labelled(kLabels, number)) {
      v.pre_kind_ = kKinds[*i];
      v.pre_number_ = number;
    } else {
      pos_ = saved;
    }
  }

  void parse_post(Version& v) {
    // "1.0-1" is the implicit post-release spelling.
    if (pos_ < s_.size() && s_[pos_] == '-') {
      if (const auto n = digits_at(pos_ + 1)) {
        v.post_ = strip_zeros(*n);
        pos_ += 1 + n->size();
        return;
      }
    }
    static constexpr std::array<std::string_view, 3> kLabels = {"post", "rev", "r"};
    std::string number;
    const std::size_t saved = pos_;
    if (labelled(kLabels, number)) {
      v.post_ = number;
    } else {
      pos_ = saved;
    }
  }

  void parse_dev(Version& v) {
    static constexpr std::array<std::string_view, 1> kLabels = {"dev"};
    std::string number;
    const std::size_t saved = pos_;
    if (labelled(kLabels, number)) {
      v.dev_ = number;
    } else {
      pos_ = saved;
    }
  }

  bool parse_local(Version& v) {
    while (true) {
      const std::size_t start = pos_;
      while (pos_ < s_.size() && (is_digit(s_[pos_]) || is_alpha(s_[pos_]))) ++pos_;
      if (pos_ == start) return false;
      const std::string_view segment = s_.substr(start, pos_ - start);
      v.local_.push_back(all_digits(segment) ? strip_zeros(segment) : ascii_lower(segment));
      if (pos_ < s_.size() && is_separator(s_[pos_])) {
        ++pos_;
        continue;
      }
      return true;
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

namespace {

// setuptools' LegacyVersion key: runs of digits, runs of letters, '.' and '-' split the
// lowercased text (anything else stays as its own part); numbers are zero-padded to 8 places
// and compared as text, words get a '*' prefix with pre/preview/rc -> c and dev -> @, '-'
// becomes "final-", and "*final" closes the key so that alpha-like words sort before a final
// release. Trailing zero numbers and "-" before a pre-release word are dropped.
std::vector<std::string> legacy_parts(std::string_view text) {
  std::vector<std::string> raw;
  std::size_t i = 0;
  std::string other;
  auto flush_other = [&] {
    if (!other.empty()) raw.push_back(std::move(other));
    other.clear();
  };
  while (i < text.size()) {
    const char c = lower(text[i]);
    std::size_t j = i + 1;
    if (is_digit(c)) {
      while (j < text.size() && is_digit(text[j])) ++j;
    } else if (c >= 'a' && c <= 'z') {
      while (j < text.size() && is_alpha(text[j])) ++j;
    } else if (c != '.' && c != '-') {
      other += c;
      i = j;
      continue;
    }
    flush_other();
    raw.push_back(ascii_lower(text.substr(i, j - i)));
    i = j;
  }
  flush_other();
  return raw;
}

std::vector<std::string> legacy_key(std::string_view text) {
  std::vector<std::string> key;
  auto add = [&key](std::string part) {
    if (part.front() == '*') {
      if (part < "*final") {
        while (!key.empty() && key.back() == "*final-") key.pop_back();
      }
      while (!key.empty() && key.back() == "00000000") key.pop_back();
    }
    key.push_back(std::move(part));
  };
  for (std::string part : legacy_parts(text)) {
    if (part == "pre" || part == "preview" || part == "rc") part = "c";
    if (part == "dev") part = "@";
    if (part == "-") part = "final-";
    if (part == ".") continue;
    if (is_digit(part.front())) {
      if (part.size() < 8) part.insert(0, 8 - part.size(), '0');
      add(std::move(part));
    } else {
      add("*" + part);
    }
  }
  add("*final");
  return key;
}

}  // namespace

Expected<Version> Version::parse_strict(std::string_view text) {
  const std::string_view t = trim(text);
  if (t.size() > kMaxVersionLength) {
    return Error::at(kMaxVersionLength,
                     "version longer than " + std::to_string(kMaxVersionLength) + " characters");
  }
  auto v = VersionParser(t).run();
  if (v) v->text_ = std::string(t);
  return v;
}

Version Version::parse(std::string_view text) {
  if (auto v = parse_strict(text)) return std::move(*v);
  Version legacy;
  legacy.legacy_ = true;
  const std::string_view t = trim(text);
  legacy.text_ = std::string(t.substr(0, 4 * kMaxVersionLength));
  legacy.legacy_key_ = legacy_key(legacy.text_);
  return legacy;
}

std::string Version::str() const {
  if (legacy_) return text_;
  std::string out;
  if (epoch_ != "0") out += epoch_ + "!";
  for (std::size_t i = 0; i < release_.size(); ++i) {
    if (i) out += '.';
    out += release_[i];
  }
  if (pre_kind_) {
    static constexpr std::array<const char*, 3> kNames = {"a", "b", "rc"};
    out += kNames[static_cast<std::size_t>(*pre_kind_)] + pre_number_;
  }
  if (post_) out += ".post" + *post_;
  if (dev_) out += ".dev" + *dev_;
  for (std::size_t i = 0; i < local_.size(); ++i) {
    out += i ? '.' : '+';
    out += local_[i];
  }
  return out;
}

std::string Version::equality_key() const {
  if (legacy_) {
    // '\x01' cannot occur in a PEP 440 string, so legacy and valid keys never collide.
    std::string key = "\x01";
    for (const auto& part : legacy_key_) key += part + '\x01';
    return key;
  }
  Version v = *this;
  v.release_.resize(std::max<std::size_t>(1, significant_release_length(release_)));
  return v.str();
}

Version Version::public_version() const {
  Version v = *this;
  v.local_.clear();
  if (!legacy_) v.text_ = v.str();
  return v;
}

Version Version::base_version() const {
  if (legacy_) return *this;
  Version v;
  v.epoch_ = epoch_;
  v.release_ = release_;
  v.text_ = v.str();
  return v;
}

std::strong_ordering compare_pep440(const Version& a, const Version& b) {
  if (const auto c = compare_numbers(a.epoch_, b.epoch_); c != 0) return c;
  if (const auto c = compare_release(a.release_, b.release_); c != 0) return c;
  // Pre-release: "1.0.dev1" (dev only) precedes "1.0a1"; no pre-release follows every one.
  auto pre_bound = [](const Version& v) {
    if (v.pre_kind_) return Bound::value;
    if (!v.post_ && v.dev_) return Bound::minus_infinity;
    return Bound::plus_infinity;
  };
  const Bound pa = pre_bound(a);
  const Bound pb = pre_bound(b);
  if (pa != pb) return pa <=> pb;
  if (pa == Bound::value) {
    if (*a.pre_kind_ != *b.pre_kind_) return *a.pre_kind_ <=> *b.pre_kind_;
    if (const auto c = compare_numbers(a.pre_number_, b.pre_number_); c != 0) return c;
  }
  const auto post_bound = [](const Version& v) {
    return v.post_ ? Bound::value : Bound::minus_infinity;
  };
  if (const auto c = compare_optional(post_bound(a), a.post_.value_or(""), post_bound(b),
                                      b.post_.value_or(""));
      c != 0) {
    return c;
  }
  const auto dev_bound = [](const Version& v) {
    return v.dev_ ? Bound::value : Bound::plus_infinity;
  };
  if (const auto c =
          compare_optional(dev_bound(a), a.dev_.value_or(""), dev_bound(b), b.dev_.value_or(""));
      c != 0) {
    return c;
  }
  return compare_local(a.local_, b.local_);
}

std::strong_ordering operator<=>(const Version& a, const Version& b) {
  if (a.legacy_ != b.legacy_) {
    return a.legacy_ ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  if (a.legacy_) {
    return std::lexicographical_compare_three_way(a.legacy_key_.begin(), a.legacy_key_.end(),
                                                  b.legacy_key_.begin(), b.legacy_key_.end());
  }
  return compare_pep440(a, b);
}

}  // namespace mlsc::vuln
