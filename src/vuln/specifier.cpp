// PEP 440 version specifiers ("~=1.4", "==1.*", "!=2.0", "<3", "===x") and comma-separated
// sets of them, with pip's semantics for the corner cases PEP 440 spells out: `<V` excludes
// pre-releases of V, `>V` excludes post-releases and local builds of V, `==V` without a local
// part ignores the candidate's local part, prefix matching zero-pads the candidate's release.
#include <algorithm>
#include <array>

#include "mlsc/core/text.hpp"
#include "mlsc/vuln/pep440.hpp"

namespace mlsc::vuln {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

struct OpSpelling {
  std::string_view text;
  Specifier::Op op;
};

// Longest spellings first so "===" is not read as "==" and "<=" not as "<".
constexpr std::array<OpSpelling, 8> kOps = {{{"===", Specifier::Op::arbitrary},
                                             {"~=", Specifier::Op::compatible},
                                             {"==", Specifier::Op::equal},
                                             {"!=", Specifier::Op::not_equal},
                                             {"<=", Specifier::Op::less_equal},
                                             {">=", Specifier::Op::greater_equal},
                                             {"<", Specifier::Op::less},
                                             {">", Specifier::Op::greater}}};

std::string_view op_text(Specifier::Op op) {
  for (const auto& o : kOps) {
    if (o.op == op) return o.text;
  }
  return "==";
}

// "==1.2.*": the candidate's epoch must match, and its release, zero-padded to the prefix's
// length, must start with the prefix. Pre/post/dev parts of the candidate do not matter.
bool prefix_match(const Version& candidate, const Version& prefix) {
  if (candidate.is_legacy()) return false;
  if (compare_numbers(candidate.epoch(), prefix.epoch()) != 0) return false;
  const auto& want = prefix.release();
  const auto& have = candidate.release();
  for (std::size_t i = 0; i < want.size(); ++i) {
    const std::string_view part = i < have.size() ? std::string_view(have[i]) : "0";
    if (compare_numbers(part, want[i]) != 0) return false;
  }
  return true;
}

// "~=1.4.5" is ">=1.4.5, ==1.4.*": the prefix is the release without its last number.
Version compatible_prefix(const Version& v) {
  auto release = v.release();
  release.pop_back();
  std::string text = v.epoch() + "!";
  for (std::size_t i = 0; i < release.size(); ++i) {
    if (i) text += '.';
    text += release[i];
  }
  return Version::parse(text);
}

bool equal_clause(const Version& candidate, const Version& spec) {
  // Without a local label in the clause, the candidate's local label is ignored.
  if (!spec.has_local()) return candidate.public_version() == spec;
  return candidate == spec;
}

bool less_clause(const Version& candidate, const Version& spec) {
  if (!(candidate < spec)) return false;
  // "<3.0" must not admit 3.0rc1 (unless the clause itself names a pre-release).
  return spec.is_prerelease() || !candidate.is_prerelease() ||
         candidate.base_version() != spec.base_version();
}

bool greater_clause(const Version& candidate, const Version& spec) {
  if (!(candidate > spec)) return false;
  // ">1.0" must not admit 1.0.post1 or 1.0+local.
  if (!spec.is_postrelease() && candidate.is_postrelease() &&
      candidate.base_version() == spec.base_version()) {
    return false;
  }
  return !(candidate.has_local() && candidate.base_version() == spec.base_version());
}

Expected<Version> clause_version(std::string_view text, Specifier::Op op, bool wildcard) {
  auto parsed = Version::parse_strict(text);
  if (!parsed) return Error("'" + std::string(text) + "' is not a PEP 440 version");
  const Version& v = *parsed;
  const bool ordered = op != Specifier::Op::equal && op != Specifier::Op::not_equal;
  if (ordered && v.has_local()) {
    return Error("a local version is only allowed with == and !=");
  }
  if (wildcard && (v.is_prerelease() || v.is_postrelease() || v.has_local() ||
                   v.str() != v.base_version().str())) {
    return Error("a wildcard may only follow a release number, as in ==1.2.*");
  }
  if (op == Specifier::Op::compatible && v.release().size() < 2) {
    return Error("~= needs at least two release numbers, as in ~=1.4");
  }
  return parsed;
}

}  // namespace

Expected<Specifier> Specifier::parse(std::string_view text) {
  text = trim(text);
  Specifier spec;
  bool found = false;
  for (const auto& o : kOps) {
    if (text.substr(0, o.text.size()) == o.text) {
      spec.op_ = o.op;
      text.remove_prefix(o.text.size());
      found = true;
      break;
    }
  }
  if (!found) return Error("specifier '" + std::string(text) + "' has no operator");
  text = trim(text);
  if (text.empty())
    return Error("specifier has no version after " + std::string(op_text(spec.op_)));
  spec.text_ = std::string(text);
  if (spec.op_ == Op::arbitrary) {
    if (std::any_of(text.begin(), text.end(), [](char c) { return is_space(c) || c == ','; })) {
      return Error("=== takes a single word");
    }
    spec.version_ = Version::parse(text);
    return spec;
  }
  if ((spec.op_ == Op::equal || spec.op_ == Op::not_equal) && text.size() > 2 &&
      text.substr(text.size() - 2) == ".*") {
    spec.wildcard_ = true;
    text.remove_suffix(2);
  }
  auto v = clause_version(text, spec.op_, spec.wildcard_);
  if (!v) return v.error();
  spec.version_ = std::move(*v);
  return spec;
}

bool Specifier::contains(const Version& v) const {
  if (op_ == Op::arbitrary) return ascii_lower(v.str()) == ascii_lower(text_);
  if (v.is_legacy()) return op_ == Op::not_equal;
  switch (op_) {
    case Op::compatible:
      return v >= version_ && prefix_match(v, compatible_prefix(version_));
    case Op::equal:
      return wildcard_ ? prefix_match(v, version_) : equal_clause(v, version_);
    case Op::not_equal:
      return wildcard_ ? !prefix_match(v, version_) : !equal_clause(v, version_);
    case Op::less_equal:
      return v.public_version() <= version_;
    case Op::greater_equal:
      return v.public_version() >= version_;
    case Op::less:
      return less_clause(v, version_);
    case Op::greater:
      return greater_clause(v, version_);
    case Op::arbitrary:
      break;
  }
  return false;
}

bool Specifier::allows_prereleases() const {
  switch (op_) {
    case Op::compatible:
    case Op::equal:
    case Op::less_equal:
    case Op::greater_equal:
    case Op::arbitrary:
      return !wildcard_ && version_.is_prerelease();
    default:
      return false;
  }
}

std::string Specifier::str() const {
  return std::string(op_text(op_)) + text_;
}

Expected<SpecifierSet> SpecifierSet::parse(std::string_view text) {
  SpecifierSet set;
  text = trim(text);
  if (text.empty()) return set;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    auto clause = Specifier::parse(text.substr(start, comma - start));
    if (!clause) return Error::at(start, clause.error().message);
    set.clauses_.push_back(std::move(*clause));
    start = comma + 1;
  }
  return set;
}

bool SpecifierSet::contains(const Version& v, std::optional<bool> prereleases) const {
  const bool allow_pre = prereleases.value_or(std::any_of(
      clauses_.begin(), clauses_.end(), [](const Specifier& s) { return s.allows_prereleases(); }));
  if (v.is_prerelease() && !allow_pre) return false;
  return std::all_of(clauses_.begin(), clauses_.end(),
                     [&v](const Specifier& s) { return s.contains(v); });
}

std::optional<std::string> SpecifierSet::pinned() const {
  if (clauses_.size() != 1) return std::nullopt;
  const Specifier& s = clauses_.front();
  if ((s.op() == Specifier::Op::equal && !s.wildcard()) || s.op() == Specifier::Op::arbitrary) {
    return s.version_text();
  }
  return std::nullopt;
}

std::string SpecifierSet::str() const {
  std::string out;
  for (const auto& c : clauses_) {
    if (!out.empty()) out += ',';
    out += c.str();
  }
  return out;
}

}  // namespace mlsc::vuln
