// PEP 440 versions and specifiers, ordered exactly as pip (the `packaging` library) orders them.
//
// Every string parses: text that is not a PEP 440 version becomes a *legacy* version, ordered by
// the old setuptools LegacyVersion rules, and every legacy version sorts before every valid one
// (LegacyVersion used epoch -1). That is what osv.dev and older pip did with advisory ranges and
// installed versions such as "2004d" or "0.8.0-alpha2-xyz"; refusing them instead would drop
// real installed packages from an audit. See docs/deps.md.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/expected.hpp"

namespace mlsc::vuln {

// Version strings longer than this are rejected by parse_strict and kept as legacy (opaque)
// by parse: no real version is that long, and it bounds the work per comparison.
inline constexpr std::size_t kMaxVersionLength = 256;

enum class PreRelease : std::uint8_t { alpha, beta, rc };  // a < b < rc

class Version {
 public:
  // Never fails: a PEP 440 version, else a legacy version.
  static Version parse(std::string_view text);
  // PEP 440 only; the error names the offset where the text stopped being a version.
  static Expected<Version> parse_strict(std::string_view text);

  bool is_legacy() const { return legacy_; }
  // The text as given (trimmed), for readers with other rules (SEMVER ranges).
  const std::string& original() const { return text_; }
  // Normalised PEP 440 form ("1!2.0rc1.post0.dev3+ubuntu.1"); a legacy version's own text.
  std::string str() const;
  // A string that is equal for two versions exactly when they compare equal ("1.0.0" and "1"
  // share one): lets version lists be matched by hashing or binary search.
  std::string equality_key() const;
  // Without the local part ("1.13.0+cu117" -> "1.13.0").
  Version public_version() const;
  // Epoch and release only ("1!2.0.post1" -> "1!2.0").
  Version base_version() const;
  bool is_prerelease() const { return !legacy_ && (pre_kind_.has_value() || dev_.has_value()); }
  bool is_postrelease() const { return !legacy_ && post_.has_value(); }
  bool has_local() const { return !local_.empty(); }
  // Release numbers as decimal digit strings without leading zeros; any length.
  const std::vector<std::string>& release() const { return release_; }
  const std::string& epoch() const { return epoch_; }

  friend std::strong_ordering operator<=>(const Version& a, const Version& b);
  friend bool operator==(const Version& a, const Version& b) { return (a <=> b) == 0; }

 private:
  bool legacy_ = false;
  std::string text_;  // the original text, trimmed
  std::vector<std::string> legacy_key_;
  std::string epoch_ = "0";
  std::vector<std::string> release_;
  std::optional<PreRelease> pre_kind_;
  std::string pre_number_;
  std::optional<std::string> post_;
  std::optional<std::string> dev_;
  std::vector<std::string> local_;  // lowercase; all-digit segments without leading zeros

  friend class VersionParser;
  friend std::strong_ordering compare_pep440(const Version& a, const Version& b);
};

// Decimal digit strings of any length, compared by value ("010" is not produced by the parser).
std::strong_ordering compare_numbers(std::string_view a, std::string_view b);

// One clause of a requirement: "~=1.4.2", "==1.*", "!=2.0", "===foo", ...
class Specifier {
 public:
  enum class Op : std::uint8_t {
    compatible,     // ~=
    equal,          // ==
    not_equal,      // !=
    less_equal,     // <=
    greater_equal,  // >=
    less,           // <
    greater,        // >
    arbitrary       // ===
  };

  static Expected<Specifier> parse(std::string_view text);

  // Whether `v` satisfies this clause (pre-release policy is the set's business).
  bool contains(const Version& v) const;
  // True when the clause itself names a pre-release (then pre-releases are acceptable).
  bool allows_prereleases() const;
  Op op() const { return op_; }
  bool wildcard() const { return wildcard_; }
  const std::string& version_text() const { return text_; }
  std::string str() const;

 private:
  Op op_ = Op::equal;
  bool wildcard_ = false;  // "==1.2.*" / "!=1.2.*"
  std::string text_;       // the version part as written (trimmed)
  Version version_;        // parsed; for a wildcard: the prefix
};

// A comma-separated set of clauses; an empty set admits every version.
class SpecifierSet {
 public:
  static Expected<SpecifierSet> parse(std::string_view text);

  // pip's rule: pre-releases are admitted when `prereleases` says so, or, when unset, when a
  // clause names one. Legacy versions only match `===`.
  bool contains(const Version& v, std::optional<bool> prereleases = std::nullopt) const;
  // The version pinned by a single "==X" clause (no wildcard) or "===X", if that is all it says.
  std::optional<std::string> pinned() const;
  const std::vector<Specifier>& clauses() const { return clauses_; }
  bool empty() const { return clauses_.empty(); }
  std::string str() const;

 private:
  std::vector<Specifier> clauses_;
};

}  // namespace mlsc::vuln
