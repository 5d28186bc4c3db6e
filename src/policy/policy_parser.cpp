// The policy YAML reader. yaml-cpp builds the node tree; everything else here is a strict
// schema walk: every mapping's keys are checked against the keys its position allows, so a
// misspelt rule ("singature:") is an error naming its line instead of a rule silently skipped.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "mlsc/policy/policy.hpp"

namespace mlsc::policy {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxLinePrefix = 128;  // leading spaces and "- " of one line

class Reader {
 public:
  Reader(std::string_view source, fs::path base) : source_(source), base_(std::move(base)) {}

  Error error(const YAML::Node& at, const std::string& message) const {
    const YAML::Mark m = at.Mark();
    if (m.line < 0) return Error(std::string(source_) + ": " + message);
    return Error::at(static_cast<std::uint64_t>(m.pos),
                     std::string(source_) + ":" + std::to_string(m.line + 1) + ": " + message);
  }

  // A mapping whose keys are all in `allowed`.
  Expected<void> mapping(const YAML::Node& node, std::string_view where,
                         std::initializer_list<std::string_view> allowed) const {
    if (!node.IsMap()) return error(node, std::string(where) + " must be a mapping");
    if (node.size() > kMaxListEntries)
      return error(node, std::string(where) + " has too many keys");
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) return error(kv.first, std::string(where) + ": keys must be text");
      const std::string key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (const auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        return error(kv.first, "unknown key '" + key + "' in " + std::string(where) +
                                   " (expected: " + list + ")");
      }
    }
    return {};
  }

  Expected<std::string> text(const YAML::Node& node, std::string_view where) const {
    if (!node.IsScalar()) return error(node, std::string(where) + " must be text");
    if (node.Scalar().empty()) return error(node, std::string(where) + " must not be empty");
    return node.Scalar();
  }

  Expected<bool> boolean(const YAML::Node& node, std::string_view where) const {
    if (node.IsScalar()) {
      const std::string& s = node.Scalar();
      if (s == "true") return true;
      if (s == "false") return false;
    }
    return error(node, std::string(where) + " must be true or false");
  }

  Expected<Severity> severity(const YAML::Node& node, std::string_view where) const {
    auto s = text(node, where);
    if (!s) return s.error();
    const auto level = parse_severity(*s);
    if (!level || *level == Severity::none) {
      return error(node, std::string(where) + ": unknown severity '" + *s +
                             "' (info, low, medium, high, critical)");
    }
    return *level;
  }

  Expected<std::vector<std::string>> texts(const YAML::Node& node, std::string_view where) const {
    if (!node.IsSequence()) return error(node, std::string(where) + " must be a list");
    if (node.size() > kMaxListEntries) return error(node, std::string(where) + " is too long");
    std::vector<std::string> out;
    for (const auto& item : node) {
      auto t = text(item, where);
      if (!t) return t.error();
      out.push_back(std::move(*t));
    }
    return out;
  }

  fs::path path(const std::string& p) const {
    const fs::path given(p);
    return given.is_absolute() ? given : base_ / given;
  }

 private:
  std::string_view source_;
  fs::path base_;
};

// Checks what yaml-cpp would otherwise accept without bound: flow nesting, deep block nesting
// (long indentation or "- - - -" prefixes) and anchors/aliases (billion laughs). Quoted text
// and comments are skipped.
Expected<void> precheck(std::string_view text, std::string_view source) {
  std::size_t depth = 0;
  std::size_t line = 1;
  std::size_t prefix = 0;
  bool at_line_start = true;
  char quote = 0;
  char prev = '\n';
  auto fail = [&](std::size_t off, const std::string& msg) -> Expected<void> {
    return Error::at(off, std::string(source) + ":" + std::to_string(line) + ": " + msg);
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\0') return fail(i, "NUL byte in policy");
    if (c == '\n') {
      ++line;
      at_line_start = true;
      prefix = 0;
      prev = c;
      continue;
    }
    if (quote != 0) {
      if (c == '\\' && quote == '"') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      prev = c;
      continue;
    }
    if (at_line_start) {
      if (c == ' ' || c == '-' || c == '\t') {
        if (++prefix > kMaxLinePrefix) return fail(i, "line is indented too deeply");
      } else {
        at_line_start = false;
      }
    }
    const bool token_start = prev == ' ' || prev == '\n' || prev == '\t' || prev == '[' ||
                             prev == '{' || prev == ',' || prev == ':';
    if (c == '#' && (prev == ' ' || prev == '\n' || prev == '\t')) {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if ((c == '\'' || c == '"') && token_start) {
      quote = c;
    } else if ((c == '&' || c == '*') && token_start) {
      return fail(i, "anchors and aliases are not allowed in a policy");
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNesting) return fail(i, "nesting is too deep");
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
    prev = c;
  }
  return {};
}

Expected<sign::TrustMaterial> trust_material(const Reader& r, const YAML::Node& node,
                                             const std::string& where) {
  auto ok = r.mapping(node, where, {"public_key", "certificate_anchor", "sigstore"});
  if (!ok) return ok.error();
  if (node.size() != 1) {
    return r.error(node, where + " needs exactly one of public_key, certificate_anchor, sigstore");
  }
  const auto kv = *node.begin();
  const std::string kind = kv.first.Scalar();
  sign::TrustMaterial m;
  if (kind == "sigstore") {
    auto s = r.mapping(kv.second, where + ".sigstore", {"identity", "issuer", "trusted_root"});
    if (!s) return s.error();
    for (const char* required : {"identity", "issuer", "trusted_root"}) {
      if (!kv.second[required]) return r.error(kv.second, where + ".sigstore needs " + required);
    }
    auto identity = r.text(kv.second["identity"], where + ".sigstore.identity");
    auto issuer = r.text(kv.second["issuer"], where + ".sigstore.issuer");
    auto root = r.text(kv.second["trusted_root"], where + ".sigstore.trusted_root");
    if (!identity) return identity.error();
    if (!issuer) return issuer.error();
    if (!root) return root.error();
    m.mode = sign::TrustMode::sigstore;
    m.identity = *identity;
    m.issuer = *issuer;
    m.file = r.path(*root);
    return m;
  }
  auto file = r.text(kv.second, where + "." + kind);
  if (!file) return file.error();
  m.mode = kind == "public_key" ? sign::TrustMode::public_key : sign::TrustMode::certificate;
  m.file = r.path(*file);
  return m;
}

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
  });
}

Expected<void> parse_trust(const Reader& r, const YAML::Node& node, Policy& p) {
  auto ok = r.mapping(node, "trust", {"keys", "builders"});
  if (!ok) return ok.error();
  if (const auto keys = node["keys"]) {
    if (!keys.IsMap()) return r.error(keys, "trust.keys must be a mapping");
    if (keys.size() > kMaxListEntries) return r.error(keys, "trust.keys has too many entries");
    for (const auto& kv : keys) {
      const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
      if (!valid_name(name)) return r.error(kv.first, "trust.keys: invalid key name");
      if (p.key(name)) return r.error(kv.first, "trust.keys: duplicate key '" + name + "'");
      auto material = trust_material(r, kv.second, "trust.keys." + name);
      if (!material) return material.error();
      p.keys.push_back({name, std::move(*material)});
    }
  }
  if (const auto builders = node["builders"]) {
    if (!builders.IsMap()) return r.error(builders, "trust.builders must be a mapping");
    if (builders.size() > kMaxListEntries) return r.error(builders, "trust.builders is too long");
    for (const auto& kv : builders) {
      const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
      if (!valid_name(name)) return r.error(kv.first, "trust.builders: invalid builder name");
      if (p.builder(name)) return r.error(kv.first, "trust.builders: duplicate '" + name + "'");
      const std::string where = "trust.builders." + name;
      auto m = r.mapping(kv.second, where, {"id", "signed_by"});
      if (!m) return m.error();
      if (!kv.second["id"] || !kv.second["signed_by"]) {
        return r.error(kv.second, where + " needs id and signed_by");
      }
      auto id = r.text(kv.second["id"], where + ".id");
      if (!id) return id.error();
      auto keys = r.texts(kv.second["signed_by"], where + ".signed_by");
      if (!keys) return keys.error();
      for (const auto& k : *keys) {
        if (!p.key(k)) return r.error(kv.second["signed_by"], where + ": unknown key '" + k + "'");
      }
      p.builders.push_back({name, std::move(*id), std::move(*keys)});
    }
  }
  return {};
}

// Each rule type: its settings from the mapping under its key.
class RuleParser {
 public:
  RuleParser(const Reader& r, const Policy& p) : r_(r), p_(p) {}

  Expected<RuleSettings> parse(const std::string& type, const YAML::Node& n,
                               const std::string& where) const {
    if (type == "signature") return signature(n, where);
    if (type == "scan") return scan(n, where);
    if (type == "provenance") return provenance(n, where);
    if (type == "datasets") return datasets(n, where);
    if (type == "base_models") return base_models(n, where);
    return dependencies(n, where);
  }

 private:
  Expected<std::vector<std::string>> names(const YAML::Node& n, const std::string& where,
                                           bool builders) const {
    auto list = r_.texts(n, where);
    if (!list) return list.error();
    for (const auto& name : *list) {
      if (builders ? !p_.builder(name) : !p_.key(name)) {
        return r_.error(n, where + ": unknown " + (builders ? "builder" : "key") + " '" + name +
                               "' (define it under trust." + (builders ? "builders" : "keys") +
                               ")");
      }
    }
    return list;
  }

  Expected<RuleSettings> signature(const YAML::Node& n, const std::string& where) const {
    auto ok = r_.mapping(n, where, {"required", "trusted"});
    if (!ok) return ok.error();
    SignatureRule rule;
    if (n["required"]) {
      auto b = r_.boolean(n["required"], where + ".required");
      if (!b) return b.error();
      rule.required = *b;
    }
    if (n["trusted"]) {
      auto t = names(n["trusted"], where + ".trusted", false);
      if (!t) return t.error();
      rule.trusted = std::move(*t);
    }
    if (rule.trusted.empty() && p_.keys.empty()) {
      return r_.error(n, where + ": the policy defines no trust.keys to check signatures with");
    }
    return RuleSettings{rule};
  }

  Expected<RuleSettings> scan(const YAML::Node& n, const std::string& where) const {
    auto ok = r_.mapping(n, where, {"max_severity"});
    if (!ok) return ok.error();
    ScanRule rule;
    if (n["max_severity"]) {
      auto s = r_.severity(n["max_severity"], where + ".max_severity");
      if (!s) return s.error();
      rule.max_severity = *s;
    }
    return RuleSettings{rule};
  }

  Expected<RuleSettings> provenance(const YAML::Node& n, const std::string& where) const {
    auto ok = r_.mapping(
        n, where,
        {"required", "builders", "build_types", "inputs_admitted", "input_kinds", "max_depth"});
    if (!ok) return ok.error();
    ProvenanceRule rule;
    for (auto [key, field] : {std::pair{"required", &rule.required},
                              std::pair{"inputs_admitted", &rule.inputs_admitted}}) {
      if (!n[key]) continue;
      auto b = r_.boolean(n[key], where + "." + key);
      if (!b) return b.error();
      *field = *b;
    }
    if (n["builders"]) {
      auto b = names(n["builders"], where + ".builders", true);
      if (!b) return b.error();
      rule.builders = std::move(*b);
    }
    if (rule.builders.empty() && p_.builders.empty()) {
      return r_.error(n, where + ": the policy defines no trust.builders");
    }
    if (n["build_types"]) {
      auto t = r_.texts(n["build_types"], where + ".build_types");
      if (!t) return t.error();
      rule.build_types = std::move(*t);
    }
    if (n["input_kinds"]) {
      auto k = r_.texts(n["input_kinds"], where + ".input_kinds");
      if (!k) return k.error();
      rule.input_kinds = std::move(*k);
    }
    if (n["max_depth"]) {
      int depth = 0;
      if (!n["max_depth"].IsScalar() || !YAML::convert<int>::decode(n["max_depth"], depth) ||
          depth < 1 || depth > kMaxInputDepth) {
        return r_.error(n["max_depth"],
                        where + ".max_depth must be 1.." + std::to_string(kMaxInputDepth));
      }
      rule.max_depth = depth;
    }
    return RuleSettings{rule};
  }

  Expected<RuleSettings> datasets(const YAML::Node& n, const std::string& where) const {
    auto ok = r_.mapping(n, where, {"allowed_sources", "manifest_required"});
    if (!ok) return ok.error();
    DatasetRule rule;
    if (n["allowed_sources"]) {
      auto s = r_.texts(n["allowed_sources"], where + ".allowed_sources");
      if (!s) return s.error();
      rule.allowed_sources = std::move(*s);
    }
    if (n["manifest_required"]) {
      auto b = r_.boolean(n["manifest_required"], where + ".manifest_required");
      if (!b) return b.error();
      rule.manifest_required = *b;
    }
    return RuleSettings{rule};
  }

  Expected<RuleSettings> base_models(const YAML::Node& n, const std::string& where) const {
    auto ok = r_.mapping(n, where, {"allow"});
    if (!ok) return ok.error();
    if (!n["allow"]) return r_.error(n, where + " needs allow");
    auto allow = r_.texts(n["allow"], where + ".allow");
    if (!allow) return allow.error();
    return RuleSettings{BaseModelRule{std::move(*allow)}};
  }

  Expected<RuleSettings> dependencies(const YAML::Node& n, const std::string& where) const {
    auto ok = r_.mapping(n, where, {"osv_db", "max_severity"});
    if (!ok) return ok.error();
    if (!n["osv_db"]) return r_.error(n, where + " needs osv_db");
    auto db = r_.text(n["osv_db"], where + ".osv_db");
    if (!db) return db.error();
    DependencyRule rule;
    rule.osv_db = r_.path(*db);
    if (n["max_severity"]) {
      auto s = r_.severity(n["max_severity"], where + ".max_severity");
      if (!s) return s.error();
      rule.max_severity = *s;
    }
    return RuleSettings{rule};
  }

  const Reader& r_;
  const Policy& p_;
};

bool rule_fits_kind(const RuleSettings& s, ArtifactKind kind) {
  if (std::holds_alternative<DatasetRule>(s)) return kind == ArtifactKind::dataset;
  if (std::holds_alternative<BaseModelRule>(s)) return kind == ArtifactKind::model;
  return true;
}

Expected<Rule> parse_rule(const Reader& r, const Policy& p, const YAML::Node& n, ArtifactKind kind,
                          std::size_t index) {
  const std::string where =
      "rules." + std::string(to_string(kind)) + "[" + std::to_string(index) + "]";
  auto ok = r.mapping(
      n, where,
      {"id", "when", "signature", "scan", "provenance", "datasets", "base_models", "dependencies"});
  if (!ok) return ok.error();
  Rule rule;
  rule.line = n.Mark().line + 1;
  std::string type;
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    if (key == "id" || key == "when") continue;
    if (!type.empty()) {
      return r.error(kv.first, where + " has two rule types ('" + type + "' and '" + key +
                                   "'); write one rule per list entry");
    }
    type = key;
    auto settings = RuleParser(r, p).parse(key, kv.second, where + "." + key);
    if (!settings) return settings.error();
    if (!rule_fits_kind(*settings, kind)) {
      return r.error(kv.first, "rule type '" + key + "' does not apply to " +
                                   std::string(to_string(kind)) + " artifacts");
    }
    rule.settings = std::move(*settings);
  }
  if (type.empty()) return r.error(n, where + " names no rule type");
  if (n["id"]) {
    auto id = r.text(n["id"], where + ".id");
    if (!id) return id.error();
    if (!valid_name(*id)) return r.error(n["id"], where + ".id: use letters, digits, - _ .");
    rule.id = *id;
  } else {
    rule.id = std::string(to_string(kind)) + "." + type;
  }
  if (const auto when = n["when"]) {
    if (!when.IsMap() || when.size() > kMaxListEntries) {
      return r.error(when, where + ".when must be a mapping of label: true|false");
    }
    for (const auto& kv : when) {
      const std::string label = kv.first.IsScalar() ? kv.first.Scalar() : "";
      if (!valid_name(label)) return r.error(kv.first, where + ".when: invalid label");
      auto b = r.boolean(kv.second, where + ".when." + label);
      if (!b) return b.error();
      rule.when[label] = *b;
    }
  }
  return rule;
}

Expected<void> parse_rules(const Reader& r, const YAML::Node& node, Policy& p) {
  auto ok = r.mapping(node, "rules", {"model", "dataset", "environment"});
  if (!ok) return ok.error();
  std::set<std::string> ids;
  for (const auto& kv : node) {
    const auto kind = parse_artifact_kind(kv.first.Scalar());
    if (!kv.second.IsSequence()) {
      return r.error(kv.second, "rules." + kv.first.Scalar() + " must be a list of rules");
    }
    if (kv.second.size() > kMaxListEntries) return r.error(kv.second, "too many rules");
    auto& list = p.rules[*kind];
    for (std::size_t i = 0; i < kv.second.size(); ++i) {
      auto rule = parse_rule(r, p, kv.second[i], *kind, i);
      if (!rule) return rule.error();
      const std::string base = rule->id;
      for (int n = 2; ids.count(rule->id) != 0; ++n) {
        if (kv.second[i]["id"])
          return r.error(kv.second[i]["id"], "duplicate rule id '" + base + "'");
        rule->id = base + "-" + std::to_string(n);
      }
      ids.insert(rule->id);
      list.push_back(std::move(*rule));
    }
  }
  return {};
}

Expected<YAML::Node> load_yaml(std::string_view text, std::string_view source) {
  if (text.size() > kMaxPolicyBytes) {
    return Error(std::string(source) + ": policy larger than " + std::to_string(kMaxPolicyBytes) +
                 " bytes");
  }
  auto pre = precheck(text, source);
  if (!pre) return pre.error();
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Error::at(e.mark.pos < 0 ? 0 : static_cast<std::uint64_t>(e.mark.pos),
                     std::string(source) + ":" + std::to_string(e.mark.line + 1) +
                         ": YAML syntax error: " + e.msg);
  }
}

}  // namespace

std::string_view to_string(ArtifactKind k) {
  switch (k) {
    case ArtifactKind::model:
      return "model";
    case ArtifactKind::dataset:
      return "dataset";
    case ArtifactKind::environment:
      return "environment";
  }
  return "model";
}

std::optional<ArtifactKind> parse_artifact_kind(std::string_view text) {
  if (text == "model") return ArtifactKind::model;
  if (text == "dataset") return ArtifactKind::dataset;
  if (text == "environment") return ArtifactKind::environment;
  return std::nullopt;
}

std::string_view check_id(const RuleSettings& s) {
  static constexpr std::string_view kIds[] = {"policy.signature",   "policy.scan",
                                              "policy.provenance",  "policy.datasets",
                                              "policy.base-models", "policy.dependencies"};
  return kIds[s.index()];
}

const TrustKey* Policy::key(std::string_view name) const {
  for (const auto& k : keys) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

const Builder* Policy::builder(std::string_view name) const {
  for (const auto& b : builders) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

Expected<Policy> parse_policy(std::string_view text, const fs::path& base_dir,
                              std::string_view source_name) {
  auto doc = load_yaml(text, source_name);
  if (!doc) return doc.error();
  const Reader r(source_name, base_dir);
  try {
    auto top = r.mapping(*doc, "the policy", {"version", "trust", "rules"});
    if (!top) return top.error();
    Policy p;
    const auto version = (*doc)["version"];
    if (!version || !version.IsScalar() || version.Scalar() != "1") {
      return r.error(version ? version : *doc, "version: 1 is required (the only version)");
    }
    if (const auto trust = (*doc)["trust"]) {
      auto t = parse_trust(r, trust, p);
      if (!t) return t.error();
    }
    const auto rules = (*doc)["rules"];
    if (!rules) return r.error(*doc, "the policy has no rules");
    auto parsed = parse_rules(r, rules, p);
    if (!parsed) return parsed.error();
    return p;
  } catch (const YAML::Exception& e) {
    return Error(std::string(source_name) + ": " + e.what());
  }
}

Expected<Policy> load_policy(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return Error(file.string() + ": not a readable file");
  const auto size = fs::file_size(file, ec);
  if (ec || size > kMaxPolicyBytes) {
    return Error(file.string() + ": unreadable or larger than " + std::to_string(kMaxPolicyBytes) +
                 " bytes");
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) return Error(file.string() + ": read error");
  const fs::path base = file.has_parent_path() ? file.parent_path() : fs::path(".");
  return parse_policy(text.str(), base, file.filename().string());
}

}  // namespace mlsc::policy
