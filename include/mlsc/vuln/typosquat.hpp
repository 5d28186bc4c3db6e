// Typosquatting: is a package name a near-miss of a popular project's name?
//
// A candidate is compared with the popular list (PEP 503 normalised names) and flagged when it
// is not itself on the list and is one of these away from a listed project:
//   separator   the same name with '-' added or removed ("pythondateutil")
//   affix       a py/python prefix or suffix added or removed ("python-requests", "yaml")
//   confusable  letters that look alike swapped in ("rn"->"m", "l"->"1", "0"->"o", "vv"->"w")
//   transposition, keyboard (a QWERTY neighbour typed instead), doubled, dropped
//   substitution, insertion (any other single edit; weaker evidence, see severity below)
// Names on the popular list are never flagged: they are established projects, and flagging
// "requests" against "request" or "six" against "sip" would bury the real signal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "mlsc/core/severity.hpp"

namespace mlsc::vuln {

enum class SquatKind : std::uint8_t {
  separator,
  affix,
  confusable,
  transposition,
  keyboard,
  doubled,
  dropped,
  substitution,
  insertion
};
std::string_view to_string(SquatKind kind);

struct PopularPackage {
  std::string name;        // normalised
  std::uint32_t rank = 0;  // 1 = most downloaded
};

struct SquatMatch {
  std::string candidate;  // normalised
  std::string target;     // the popular project it imitates (normalised)
  std::uint32_t target_rank = 0;
  SquatKind kind = SquatKind::substitution;
  std::string detail;  // "swapped 'u' and 'e'", "'rn' looks like 'm'", ...
  Severity severity = Severity::low;
};

struct TyposquatOptions {
  // Targets in the top `high_rank` make a pattern match high (else medium); generic single
  // edits are low (medium against the top `high_rank`).
  std::uint32_t high_rank = 1000;
  // Single-character edits against names shorter than this are not reported: nearly every
  // 1-3 letter name is one edit from another.
  std::size_t min_edit_length = 4;
  std::size_t min_generic_edit_length = 5;
};

class TyposquatIndex {
 public:
  // "rank<TAB>name" lines with a header (pypi-top-packages.tsv).
  static Expected<TyposquatIndex> load_tsv(const std::string& path,
                                           const TyposquatOptions& options = {});
  static Expected<TyposquatIndex> parse_tsv(std::string_view text,
                                            const TyposquatOptions& options = {});
  static TyposquatIndex build(std::vector<PopularPackage> packages,
                              const TyposquatOptions& options = {});

  // Matches for one name, strongest first (severity, kind, then target popularity); empty when
  // the name is popular itself or near nothing popular.
  std::vector<SquatMatch> check(std::string_view name) const;
  std::optional<std::uint32_t> rank_of(std::string_view name) const;
  std::size_t size() const { return packages_.size(); }
  std::size_t key_count() const { return keys_.size(); }  // index entries (for the benchmark)

  // The same check without the index: every popular name compared in turn. For tests and the
  // benchmark (it must agree with check()).
  std::vector<SquatMatch> check_linear(std::string_view name) const;

 private:
  // Forms of a name the pairwise test compares; computed once per name.
  struct Derived {
    std::string stripped;            // without '-'
    std::string skeleton;            // confusable_skeleton
    std::vector<std::string> cores;  // the name without one py/python affix
  };
  static Derived derive(const std::string& name);
  bool affix_related(const std::string& c, const Derived& cd, std::uint32_t target) const;
  std::optional<SquatMatch> classify(const std::string& c, const Derived& cd,
                                     std::uint32_t target) const;
  void finish(std::vector<SquatMatch>& matches) const;

  TyposquatOptions options_;
  std::vector<PopularPackage> packages_;
  std::vector<Derived> derived_;  // parallel to packages_
  std::unordered_map<std::string, std::uint32_t> by_name_;
  // (hash of key, name) sorted by hash. Keys: every name and each of its one-character
  // deletions (a symmetric-delete index), and its separator-free, affix and confusable-skeleton
  // forms.
  std::vector<std::pair<std::uint64_t, std::uint32_t>> keys_;
};

// Exposed for tests.
bool keyboard_neighbours(char a, char b);
std::string confusable_skeleton(std::string_view name);

}  // namespace mlsc::vuln
