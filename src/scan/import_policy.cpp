// ImportPolicy: allowlist-first classification of pickle globals.
//
// Entries come from data/pickle/{allowlist,denylist}.txt (compiled in), a YAML config and
// CLI flags. A global is judged the way CPython would reach it: the module is imported, then
// each component of the (possibly dotted) name is an attribute lookup. So besides the entry
// that spells the global, the deny side also looks at every object the lookup passes through:
// `pathlib` + `os.system` passes through `os.system`, `sklearn.utils` + `sys` is the sys module.
#include "mlsc/scan/import_policy.hpp"
#include "mlsc/core/text.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/embedded.hpp"

namespace mlsc::scan {

namespace {

// Dotted names longer than this are judged on their first components only; CPython would
// walk them all, but no real pickle needs more than a handful.
constexpr std::size_t kMaxComponents = 16;

struct Entry {
  std::string module;       // without a trailing ".*"
  bool submodules = false;  // written "pkg.*": the module or any submodule
  std::string name;         // "*" (any undotted name) or an exact, possibly dotted, name
  Severity severity = Severity::critical;
  bool contextual = false;
  std::string reason;
};

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) words.push_back(s.substr(i, j - i));
    i = j;
  }
  return words;
}

std::vector<std::string_view> split_dots(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (parts.size() < kMaxComponents) {
    const auto dot = s.find('.', start);
    parts.push_back(s.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::string join(const std::vector<std::string_view>& parts, std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t i = from; i < to; ++i) {
    if (i > from) out += '.';
    out += parts[i];
  }
  return out;
}

bool is_dunder(std::string_view s) {
  return s.size() > 4 && s.substr(0, 2) == "__" && s.substr(s.size() - 2) == "__";
}

// One line of a list file: `MODULE NAME [marker]... # reason`. An empty/comment line gives
// nullopt with no error.
Expected<std::optional<Entry>> parse_entry(std::string_view line, bool deny) {
  const auto hash = line.find('#');
  const auto body = trim(line.substr(0, hash));
  if (body.empty()) return std::optional<Entry>{};
  const auto words = split_words(body);
  if (words.size() < 2) return Error{"pattern needs MODULE and NAME: '" + std::string(body) + "'"};
  Entry e;
  std::string_view module = words[0];
  if (module.size() > 2 && module.substr(module.size() - 2) == ".*") {
    e.submodules = true;
    module.remove_suffix(2);
  }
  e.module = std::string(module);
  e.name = std::string(words[1]);
  if (hash != std::string_view::npos) e.reason = std::string(trim(line.substr(hash + 1)));
  for (std::size_t i = 2; i < words.size(); ++i) {
    const auto w = words[i];
    if (w == "[contextual]") {
      e.contextual = true;
    } else if (w == "[high]" && deny) {
      e.severity = Severity::high;
    } else if (w == "[medium]" && deny) {
      e.severity = Severity::medium;
    } else if (w == "[low]" && deny) {
      e.severity = Severity::low;
    } else {
      return Error{"unknown marker '" + std::string(w) + "' in '" + std::string(body) + "'"};
    }
  }
  return std::optional<Entry>{std::move(e)};
}

// Entries indexed by module so a lookup touches only the entries of the module's prefixes.
class EntryTable {
 public:
  void add(Entry e) {
    by_module_[e.module].push_back(entries_.size());
    entries_.push_back(std::move(e));
  }

  // Every entry whose module pattern covers `module` and whose name pattern covers `name`.
  // An empty `name` asks for whole-module entries (NAME `*`) only.
  template <class Fn>
  void for_each_match(std::string_view module, std::string_view name, Fn&& fn) const {
    const bool dotted = name.find('.') != std::string_view::npos;
    std::string_view prefix = module;
    while (true) {
      const auto it = by_module_.find(std::string(prefix));
      if (it != by_module_.end()) {
        for (const auto idx : it->second) {
          const Entry& e = entries_[idx];
          if (prefix.size() != module.size() && !e.submodules) continue;
          const bool any = e.name == "*";
          if (name.empty() ? any : (any ? !dotted : e.name == name)) fn(e);
        }
      }
      const auto dot = prefix.rfind('.');
      if (dot == std::string_view::npos) break;
      prefix = prefix.substr(0, dot);
    }
  }

 private:
  std::vector<Entry> entries_;
  std::unordered_map<std::string, std::vector<std::size_t>> by_module_;
};

// The best deny match so far: highest severity wins, contextual only if nothing else hits.
struct DenyHit {
  const Entry* entry = nullptr;
  std::string via;  // how the lookup reached it, when not the global itself

  void offer(const Entry& e, std::string how) {
    const bool better = entry == nullptr || e.severity > entry->severity ||
                        (e.severity == entry->severity && entry->contextual && !e.contextual);
    if (better) {
      entry = &e;
      via = std::move(how);
    }
  }
};

}  // namespace

struct ImportPolicy::Impl {
  EntryTable allow;
  EntryTable deny;
  std::unordered_set<std::string> stdlib;
  std::map<std::pair<std::string, std::string>, std::pair<std::string, std::string>> names_2to3;
  std::unordered_map<std::string, std::string> modules_2to3;

  // 0: no allow entry, 1: a `*` entry covers it, 2: an entry spells the name.
  int allowed(std::string_view module, std::string_view name) const {
    int best = 0;
    allow.for_each_match(module, name,
                         [&](const Entry& e) { best = std::max(best, e.name == "*" ? 1 : 2); });
    return best;
  }

  void deny_pair(std::string_view module, std::string_view name, const std::string& how,
                 DenyHit& hit) const {
    deny.for_each_match(module, name, [&](const Entry& e) { hit.offer(e, how); });
  }

  void deny_module_object(const std::string& module, DenyHit& hit) const {
    deny.for_each_match(module, "", [&](const Entry& e) { hit.offer(e, module); });
  }

  // Every object the attribute lookup `module`.`name` passes through, checked against the
  // denylist: (module, p0), then each later pX on whatever the previous prefix could be (a
  // submodule of `module`, or a module re-exported under that attribute path).
  DenyHit deny_walk(std::string_view module, std::string_view name) const {
    DenyHit hit;
    const auto parts = split_dots(name);
    for (std::size_t j = 0; j < parts.size(); ++j) {
      const std::string shown = std::string(module) + "." + join(parts, 0, j + 1);
      if (j == 0) {
        if (parts.size() > 1) deny_pair(module, parts[0], shown, hit);
      } else {
        deny_pair(std::string(module) + "." + join(parts, 0, j), parts[j], shown, hit);
        for (std::size_t i = 0; i < j; ++i) deny_pair(join(parts, i, j), parts[j], shown, hit);
      }
      deny_module_object(std::string(module) + "." + join(parts, 0, j + 1), hit);
      for (std::size_t i = 0; i <= j; ++i) deny_module_object(join(parts, i, j + 1), hit);
    }
    return hit;
  }
};

ImportPolicy::ImportPolicy() : impl_(std::make_unique<Impl>()) {}
ImportPolicy::ImportPolicy(const ImportPolicy& other)
    : impl_(std::make_unique<Impl>(*other.impl_)) {}
ImportPolicy& ImportPolicy::operator=(const ImportPolicy& other) {
  if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
  return *this;
}
ImportPolicy::ImportPolicy(ImportPolicy&&) noexcept = default;
ImportPolicy& ImportPolicy::operator=(ImportPolicy&&) noexcept = default;
ImportPolicy::~ImportPolicy() = default;

namespace {

void load_list(ImportPolicy& policy, std::string_view text, bool deny) {
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const auto line = text.substr(start, end - start);
    // The built-in lists are tested; a malformed line there is a build-time bug, so it is
    // skipped here rather than failing every scan.
    if (deny) {
      (void)policy.deny(line);
    } else {
      (void)policy.allow(line);
    }
    start = end + 1;
  }
}

}  // namespace

ImportPolicy ImportPolicy::builtin() {
  static const ImportPolicy kBuiltin = [] {
    ImportPolicy p;
    load_list(p, embedded::pickle_allowlist, false);
    load_list(p, embedded::pickle_denylist, true);
    std::size_t start = 0;
    const auto& stdlib = embedded::python_stdlib;
    while (start < stdlib.size()) {
      auto end = stdlib.find('\n', start);
      if (end == std::string_view::npos) end = stdlib.size();
      const auto name = trim(stdlib.substr(start, end - start));
      if (!name.empty() && name[0] != '#') p.impl_->stdlib.insert(std::string(name));
      start = end + 1;
    }
    start = 0;
    const auto& mapping = embedded::python2_mapping;
    while (start < mapping.size()) {
      auto end = mapping.find('\n', start);
      if (end == std::string_view::npos) end = mapping.size();
      const auto w = split_words(mapping.substr(start, end - start));
      if (w.size() == 5 && w[0] == "name") {
        p.impl_->names_2to3[{std::string(w[1]), std::string(w[2])}] = {std::string(w[3]),
                                                                       std::string(w[4])};
      } else if (w.size() == 3 && w[0] == "import") {
        p.impl_->modules_2to3[std::string(w[1])] = std::string(w[2]);
      }
      start = end + 1;
    }
    return p;
  }();
  return kBuiltin;
}

Expected<void> ImportPolicy::allow(std::string_view pattern) {
  auto parsed = parse_entry(pattern, false);
  if (!parsed) return parsed.error();
  if (*parsed) impl_->allow.add(std::move(**parsed));
  return {};
}

Expected<void> ImportPolicy::deny(std::string_view pattern, std::string_view reason) {
  auto parsed = parse_entry(pattern, true);
  if (!parsed) return parsed.error();
  if (!*parsed) return {};
  Entry e = std::move(**parsed);
  if (!reason.empty()) e.reason = std::string(reason);
  impl_->deny.add(std::move(e));
  return {};
}

namespace {

// A YAML list item: "MODULE NAME" or {pattern: "MODULE NAME", reason: "..."}.
Expected<void> apply_config_item(ImportPolicy& policy, const YAML::Node& item, bool deny) {
  std::string pattern;
  std::string reason;
  if (item.IsScalar()) {
    pattern = item.as<std::string>();
  } else if (item.IsMap() && item["pattern"]) {
    pattern = item["pattern"].as<std::string>();
    if (item["reason"]) reason = item["reason"].as<std::string>();
  } else {
    return Error{"pickle allow/deny entries must be strings or {pattern, reason} maps"};
  }
  auto added = deny ? policy.deny(pattern, reason) : policy.allow(pattern);
  return added;
}

}  // namespace

Expected<void> ImportPolicy::load_config(const std::string& path) {
  try {
    const YAML::Node root = YAML::LoadFile(path);
    const YAML::Node section = root["pickle"];
    if (!section) return {};
    if (!section.IsMap()) return Error{path + ": 'pickle' must be a map"};
    for (const auto* key : {"allow", "deny"}) {
      const YAML::Node list = section[key];
      if (!list) continue;
      if (!list.IsSequence()) return Error{path + ": pickle." + key + " must be a list"};
      for (const auto& item : list) {
        auto added = apply_config_item(*this, item, std::string_view(key) == "deny");
        if (!added) return Error{path + ": " + added.error().message};
      }
    }
  } catch (const YAML::Exception& e) {
    return Error{path + ": " + e.what()};
  }
  return {};
}

bool ImportPolicy::is_stdlib(std::string_view module) const {
  const auto top = module.substr(0, module.find('.'));
  return impl_->stdlib.count(std::string(top)) != 0;
}

namespace {

ImportClass denied(const DenyHit& hit) {
  ImportClass out;
  out.verdict = ImportVerdict::dangerous;
  out.severity = hit.entry->severity;
  out.contextual = hit.entry->contextual;
  out.reason = hit.entry->reason.empty()
                   ? "denied by '" + hit.entry->module + (hit.entry->submodules ? ".* " : " ") +
                         hit.entry->name + "'"
                   : hit.entry->reason;
  if (!hit.via.empty()) out.reason += " (reached as " + hit.via + ")";
  return out;
}

}  // namespace

// Order matters: an entry that names the global decides; then the objects the lookup passes
// through (denied modules, dunder attributes) outrank a `*` allow entry, which would otherwise
// wave through `sklearn.utils os` as "some sklearn name".
ImportClass ImportPolicy::classify(std::string_view module, std::string_view name) const {
  DenyHit direct;
  impl_->deny_pair(module, name, "", direct);
  if (direct.entry != nullptr) return denied(direct);
  const int allowed = impl_->allowed(module, name);
  ImportClass out;
  if (allowed == 2) {
    out.verdict = ImportVerdict::safe;
    out.severity = Severity::none;
    return out;
  }
  const DenyHit walked = impl_->deny_walk(module, name);
  if (walked.entry != nullptr) return denied(walked);
  for (const auto part : split_dots(name)) {
    if (is_dunder(part)) {
      out.verdict = ImportVerdict::dangerous;
      out.severity = Severity::critical;
      out.reason = "reaches the special attribute " + std::string(part);
      return out;
    }
  }
  if (allowed == 1) {
    out.verdict = ImportVerdict::safe;
    out.severity = Severity::none;
    return out;
  }
  const bool stdlib = is_stdlib(module);
  out.verdict = ImportVerdict::unknown;
  out.severity = stdlib ? Severity::high : Severity::medium;
  out.reason = stdlib ? "standard-library global not on the allowlist" : "not on the allowlist";
  return out;
}

std::pair<std::string, std::string> ImportPolicy::map_python2(std::string_view module,
                                                              std::string_view name) const {
  const auto named = impl_->names_2to3.find({std::string(module), std::string(name)});
  if (named != impl_->names_2to3.end()) return named->second;
  const auto moved = impl_->modules_2to3.find(std::string(module));
  if (moved != impl_->modules_2to3.end()) return {moved->second, std::string(name)};
  return {std::string(module), std::string(name)};
}

}  // namespace mlsc::scan
