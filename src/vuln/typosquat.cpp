// Typosquat detection against a popular-package list. Lookup goes through one sorted vector of
// hashed keys, so a name costs a few dozen binary searches instead of a pass over 15,000 names.
// Each popular name contributes
//  - itself and all of its one-character deletions (a symmetric-delete index): any name within
//    one insertion, deletion, substitution or adjacent transposition shares a key with it;
//  - its separator-free form, py/python affix forms and cores, and confusable skeleton.
// Every target found is then classified by the same pairwise test the linear scan uses, so the
// index changes the speed, never the answer (a unit test compares the two).
#include "mlsc/vuln/typosquat.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <sstream>

#include "mlsc/vuln/package_name.hpp"

namespace mlsc::vuln {

namespace {

constexpr std::array<std::string_view, 4> kPrefixes = {"python-", "python", "py-", "py"};
constexpr std::array<std::string_view, 4> kSuffixes = {"-python", "python", "-py", "py"};
constexpr std::size_t kMinCoreLength = 3;
constexpr std::size_t kMaxNameLength = 256;

// Characters and pairs that read alike in many fonts.
struct Confusable {
  std::string_view from;
  std::string_view to;
};
constexpr std::array<Confusable, 7> kConfusables = {
    {{"rn", "m"}, {"vv", "w"}, {"cl", "d"}, {"0", "o"}, {"1", "l"}, {"i", "l"}, {"5", "s"}}};

std::string without_separators(std::string_view name) {
  std::string out;
  for (const char c : name) {
    if (c != '-') out += c;
  }
  return out;
}

// Names a py/python affix turns `name` into, and the cores left when one is removed.
std::vector<std::string> affix_forms(std::string_view name) {
  std::vector<std::string> out;
  for (const auto p : kPrefixes) out.push_back(std::string(p) + std::string(name));
  for (const auto s : kSuffixes) out.push_back(std::string(name) + std::string(s));
  return out;
}

std::vector<std::string> affix_cores(std::string_view name) {
  std::vector<std::string> out;
  for (const auto p : kPrefixes) {
    if (name.size() >= p.size() + kMinCoreLength && name.substr(0, p.size()) == p) {
      out.emplace_back(name.substr(p.size()));
    }
  }
  for (const auto s : kSuffixes) {
    if (name.size() >= s.size() + kMinCoreLength && name.substr(name.size() - s.size()) == s) {
      out.emplace_back(name.substr(0, name.size() - s.size()));
    }
  }
  return out;
}

// `x` is `y` with one py/python prefix or suffix added.
bool is_affix_form(std::string_view x, std::string_view y) {
  for (const auto p : kPrefixes) {
    if (x.size() == p.size() + y.size() && x.substr(0, p.size()) == p && x.substr(p.size()) == y) {
      return true;
    }
  }
  for (const auto s : kSuffixes) {
    if (x.size() == y.size() + s.size() && x.substr(0, y.size()) == y && x.substr(y.size()) == s) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> single_confusable(char a, char b) {
  for (const auto& cf : kConfusables) {
    if (cf.from.size() != 1) continue;
    if ((cf.from[0] == a && cf.to[0] == b) || (cf.from[0] == b && cf.to[0] == a)) {
      return "'" + std::string(1, a) + "' looks like '" + std::string(1, b) + "'";
    }
  }
  return std::nullopt;
}

struct Edit {
  SquatKind kind;
  std::string detail;
};

std::string quoted(char c) {
  return "'" + std::string(1, c) + "'";
}

std::optional<Edit> same_length_edit(const std::string& c, const std::string& t) {
  std::size_t first = std::string::npos;
  std::size_t count = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (c[i] == t[i]) continue;
    if (first == std::string::npos) first = i;
    if (++count > 2) return std::nullopt;
  }
  if (count == 1) {
    const char typed = c[first];
    const char meant = t[first];
    if (auto d = single_confusable(typed, meant)) return Edit{SquatKind::confusable, *d};
    if (keyboard_neighbours(typed, meant)) {
      return Edit{SquatKind::keyboard,
                  quoted(typed) + " typed for its keyboard neighbour " + quoted(meant)};
    }
    return Edit{SquatKind::substitution, quoted(typed) + " instead of " + quoted(meant)};
  }
  if (count == 2 && first + 1 < c.size() && c[first] == t[first + 1] && c[first + 1] == t[first] &&
      c.compare(first + 2, std::string::npos, t, first + 2) == 0) {
    return Edit{SquatKind::transposition,
                "swapped " + quoted(t[first]) + " and " + quoted(t[first + 1])};
  }
  return std::nullopt;
}

// `longer` is `shorter` with one character added: which one, and what kind of slip it is.
std::optional<std::pair<std::size_t, char>> added_character(const std::string& longer,
                                                            const std::string& shorter) {
  std::size_t i = 0;
  while (i < shorter.size() && longer[i] == shorter[i]) ++i;
  if (longer.compare(i + 1, std::string::npos, shorter, i) != 0) return std::nullopt;
  return std::pair{i, longer[i]};
}

std::optional<Edit> length_edit(const std::string& c, const std::string& t) {
  if (c.size() == t.size() + 1) {
    const auto added = added_character(c, t);
    if (!added) return std::nullopt;
    const auto [i, ch] = *added;
    if (ch == '-') return Edit{SquatKind::separator, "'-' added"};
    if ((i > 0 && c[i - 1] == ch) || (i + 1 < c.size() && c[i + 1] == ch)) {
      return Edit{SquatKind::doubled, quoted(ch) + " doubled"};
    }
    return Edit{SquatKind::insertion, quoted(ch) + " inserted"};
  }
  if (c.size() + 1 == t.size()) {
    const auto removed = added_character(t, c);
    if (!removed) return std::nullopt;
    const char ch = removed->second;
    if (ch == '-') return Edit{SquatKind::separator, "'-' removed"};
    return Edit{SquatKind::dropped, quoted(ch) + " dropped"};
  }
  return std::nullopt;
}

bool is_pattern(SquatKind kind) {
  return kind != SquatKind::substitution && kind != SquatKind::insertion;
}

std::vector<std::string> deletions(const std::string& name) {
  std::vector<std::string> out;
  out.reserve(name.size() + 1);
  out.push_back(name);
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (i > 0 && name[i] == name[i - 1]) continue;  // same string as the previous deletion
    std::string d = name;
    d.erase(i, 1);
    out.push_back(std::move(d));
  }
  return out;
}

// Index keys: a tag ('d' deletion, 's' separator-free, 'k' skeleton, 'a' affix) and a string,
// hashed. A collision only makes check() classify one more target, which then fails.
std::uint64_t key_hash(std::string_view tagged) {
  return std::hash<std::string_view>{}(tagged);
}

std::vector<std::string> deletion_keys(const std::string& name) {
  std::vector<std::string> out = deletions(name);
  for (auto& d : out) d.insert(0, "d:");
  return out;
}

std::vector<std::string> forms_of_target(const std::string& name) {
  std::vector<std::string> out = {"s:" + without_separators(name),
                                  "k:" + confusable_skeleton(name)};
  for (auto& f : affix_forms(name)) out.push_back("a:" + f);
  for (auto& f : affix_cores(name)) out.push_back("a:" + f);
  return out;
}

std::vector<std::string> forms_of_candidate(const std::string& name) {
  std::vector<std::string> out = {"s:" + without_separators(name), "k:" + confusable_skeleton(name),
                                  "a:" + name};
  for (auto& f : affix_cores(name)) out.push_back("a:" + f);
  return out;
}

}  // namespace

std::string_view to_string(SquatKind kind) {
  static constexpr std::array<std::string_view, 9> kNames = {
      "separator", "affix",   "confusable",   "transposition", "keyboard",
      "doubled",   "dropped", "substitution", "insertion"};
  return kNames[static_cast<std::size_t>(kind)];
}

bool keyboard_neighbours(char a, char b) {
  // Rows of a US QWERTY keyboard with their horizontal stagger, in key widths.
  struct Row {
    std::string_view keys;
    double offset;
  };
  static constexpr std::array<Row, 4> kRows = {
      {{"1234567890", 0.0}, {"qwertyuiop", 0.5}, {"asdfghjkl", 0.75}, {"zxcvbnm", 1.25}}};
  auto locate = [](char c) -> std::optional<std::pair<int, double>> {
    for (int r = 0; r < 4; ++r) {
      const auto col = kRows[r].keys.find(c);
      if (col != std::string_view::npos) {
        return std::pair{r, static_cast<double>(col) + kRows[r].offset};
      }
    }
    return std::nullopt;
  };
  const auto pa = locate(a);
  const auto pb = locate(b);
  if (!pa || !pb || a == b) return false;
  const int dr = pa->first - pb->first;
  const double dx = pa->second - pb->second;
  if (dr == 0) return dx == 1.0 || dx == -1.0;
  return (dr == 1 || dr == -1) && dx < 1.0 && dx > -1.0;
}

std::string confusable_skeleton(std::string_view name) {
  // Single look-alike characters first, so that "c1ick" and "click" both reach "cllck" before
  // the two-letter rules turn "cl" into "d".
  std::string single;
  for (const char c : name) {
    char out = c;
    for (const auto& cf : kConfusables) {
      if (cf.from.size() == 1 && cf.from[0] == c) out = cf.to[0];
    }
    single += out;
  }
  std::string out;
  std::size_t i = 0;
  while (i < single.size()) {
    bool replaced = false;
    for (const auto& cf : kConfusables) {
      if (cf.from.size() == 2 && std::string_view(single).substr(i, 2) == cf.from) {
        out += cf.to;
        i += 2;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += single[i++];
  }
  return out;
}

TyposquatIndex::Derived TyposquatIndex::derive(const std::string& name) {
  return Derived{without_separators(name), confusable_skeleton(name), affix_cores(name)};
}

// Related by affixes when the candidate or one of its cores equals the target, an affix form of
// it, or one of its cores ("python-yaml" and "pyyaml" share the core "yaml").
bool TyposquatIndex::affix_related(const std::string& c, const Derived& cd,
                                   std::uint32_t target) const {
  const std::string& t = packages_[target].name;
  const auto& t_cores = derived_[target].cores;
  auto matches = [&](std::string_view l) {
    return is_affix_form(l, t) || std::find(t_cores.begin(), t_cores.end(), l) != t_cores.end();
  };
  if (matches(c)) return true;
  return std::any_of(cd.cores.begin(), cd.cores.end(),
                     [&](const std::string& core) { return matches(core); });
}

std::optional<SquatMatch> TyposquatIndex::classify(const std::string& c, const Derived& cd,
                                                   std::uint32_t target) const {
  const PopularPackage& t = packages_[target];
  const Derived& td = derived_[target];
  if (c == t.name || t.name.size() < options_.min_edit_length) return std::nullopt;
  std::optional<Edit> edit;
  if (cd.stripped == td.stripped) {
    edit = Edit{SquatKind::separator, "differs only in '-' separators"};
  } else if (affix_related(c, cd, target)) {
    edit = Edit{SquatKind::affix, "adds or drops a py/python prefix or suffix"};
  } else if (c.size() == t.name.size()) {
    edit = same_length_edit(c, t.name);
  } else {
    edit = length_edit(c, t.name);
  }
  if (!edit && cd.skeleton == td.skeleton) {
    edit = Edit{SquatKind::confusable, "look-alike letters (rn/m, vv/w, cl/d, 0/o, 1/l/i, 5/s)"};
  }
  if (!edit) return std::nullopt;
  if (!is_pattern(edit->kind) && t.name.size() < options_.min_generic_edit_length) {
    return std::nullopt;
  }
  const bool top = t.rank <= options_.high_rank;
  Severity severity = Severity::low;
  if (is_pattern(edit->kind)) {
    severity = top ? Severity::high : Severity::medium;
  } else if (top) {
    severity = Severity::medium;
  }
  return SquatMatch{c, t.name, t.rank, edit->kind, std::move(edit->detail), severity};
}

void TyposquatIndex::finish(std::vector<SquatMatch>& matches) const {
  std::sort(matches.begin(), matches.end(), [](const SquatMatch& a, const SquatMatch& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.kind != b.kind) return a.kind < b.kind;
    return a.target_rank < b.target_rank;
  });
}

std::vector<SquatMatch> TyposquatIndex::check(std::string_view name) const {
  std::vector<SquatMatch> out;
  const std::string c = normalize_name(name);
  if (c.empty() || c.size() > kMaxNameLength || by_name_.count(c) > 0) return out;
  std::vector<std::uint32_t> targets;
  auto collect = [&](const std::vector<std::string>& keys) {
    for (const auto& k : keys) {
      const std::uint64_t h = key_hash(k);
      auto it = std::lower_bound(keys_.begin(), keys_.end(),
                                 std::pair<std::uint64_t, std::uint32_t>{h, 0});
      for (; it != keys_.end() && it->first == h; ++it) targets.push_back(it->second);
    }
  };
  collect(deletion_keys(c));
  collect(forms_of_candidate(c));
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  const Derived cd = derive(c);
  for (const auto t : targets) {
    if (auto m = classify(c, cd, t)) out.push_back(std::move(*m));
  }
  finish(out);
  return out;
}

std::vector<SquatMatch> TyposquatIndex::check_linear(std::string_view name) const {
  std::vector<SquatMatch> out;
  const std::string c = normalize_name(name);
  if (c.empty() || c.size() > kMaxNameLength || by_name_.count(c) > 0) return out;
  const Derived cd = derive(c);
  for (std::uint32_t t = 0; t < packages_.size(); ++t) {
    if (auto m = classify(c, cd, t)) out.push_back(std::move(*m));
  }
  finish(out);
  return out;
}

std::optional<std::uint32_t> TyposquatIndex::rank_of(std::string_view name) const {
  const auto it = by_name_.find(normalize_name(name));
  if (it == by_name_.end()) return std::nullopt;
  return packages_[it->second].rank;
}

TyposquatIndex TyposquatIndex::build(std::vector<PopularPackage> packages,
                                     const TyposquatOptions& options) {
  TyposquatIndex index;
  index.options_ = options;
  for (auto& p : packages) p.name = normalize_name(p.name);
  // Best rank wins when two spellings normalise to one name.
  std::sort(packages.begin(), packages.end(),
            [](const PopularPackage& a, const PopularPackage& b) { return a.rank < b.rank; });
  for (auto& p : packages) {
    if (p.name.empty() || p.name.size() > kMaxNameLength) continue;
    const auto id = static_cast<std::uint32_t>(index.packages_.size());
    if (!index.by_name_.emplace(p.name, id).second) continue;
    index.packages_.push_back(std::move(p));
  }
  for (std::uint32_t id = 0; id < index.packages_.size(); ++id) {
    const std::string& name = index.packages_[id].name;
    index.derived_.push_back(derive(name));
    for (const auto& k : deletion_keys(name)) index.keys_.emplace_back(key_hash(k), id);
    for (const auto& k : forms_of_target(name)) index.keys_.emplace_back(key_hash(k), id);
  }
  std::sort(index.keys_.begin(), index.keys_.end());
  index.keys_.erase(std::unique(index.keys_.begin(), index.keys_.end()), index.keys_.end());
  return index;
}

Expected<TyposquatIndex> TyposquatIndex::parse_tsv(std::string_view text,
                                                   const TyposquatOptions& options) {
  std::vector<PopularPackage> packages;
  std::size_t start = 0;
  std::size_t line_no = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos) {
      return Error::at(start, "line " + std::to_string(line_no) + " is not RANK<TAB>NAME");
    }
    std::uint32_t rank = 0;
    const auto [ptr, ec] = std::from_chars(line.data(), line.data() + tab, rank);
    if (ec != std::errc() || ptr != line.data() + tab) {
      if (line_no == 1) continue;  // header
      return Error("line " + std::to_string(line_no) + ": rank is not a number");
    }
    std::string_view name = line.substr(tab + 1);
    name = name.substr(0, name.find('\t'));
    if (!is_valid_name(name)) {
      return Error("line " + std::to_string(line_no) + ": '" + std::string(name.substr(0, 80)) +
                   "' is not a package name");
    }
    packages.push_back({std::string(name), rank});
  }
  if (packages.empty()) return Error("no packages in the popular-package list");
  return build(std::move(packages), options);
}

Expected<TyposquatIndex> TyposquatIndex::load_tsv(const std::string& path,
                                                  const TyposquatOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  auto index = parse_tsv(text.str(), options);
  if (!index) return Error(path + ": " + index.error().message);
  return index;
}

}  // namespace mlsc::vuln
