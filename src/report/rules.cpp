#include "mlsc/report/rules.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "core/embedded.hpp"

namespace mlsc::report {

namespace {

Expected<std::string> required_text(const YAML::Node& entry, const char* key, std::size_t index) {
  const YAML::Node value = entry[key];
  if (!value || !value.IsScalar() || value.Scalar().empty()) {
    return Error("rule catalogue entry " + std::to_string(index) + " has no '" + key + "'");
  }
  return value.Scalar();
}

Expected<RuleInfo> parse_rule(const YAML::Node& entry, std::size_t index) {
  if (!entry.IsMap())
    return Error("rule catalogue entry " + std::to_string(index) + " is not a map");
  RuleInfo rule;
  std::string severity;
  for (auto [key, field] : {std::pair{"id", &rule.id},
                            {"name", &rule.name},
                            {"severity", &severity},
                            {"short", &rule.short_description},
                            {"full", &rule.full_description},
                            {"help", &rule.help}}) {
    auto text = required_text(entry, key, index);
    if (!text) return text.error();
    *field = std::move(*text);
  }
  const auto level = parse_severity(severity);
  if (!level || *level == Severity::none) {
    return Error("rule " + rule.id + " has an unknown severity '" + severity + "'");
  }
  rule.severity = *level;
  return rule;
}

}  // namespace

Expected<RuleCatalog> RuleCatalog::parse(std::string_view yaml) {
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Error(std::string("rule catalogue is not valid YAML: ") + e.what());
  }
  if (!doc.IsSequence()) return Error("rule catalogue is not a YAML sequence");
  RuleCatalog catalog;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    auto rule = parse_rule(doc[i], i);
    if (!rule) return rule.error();
    catalog.rules_.push_back(std::move(*rule));
  }
  std::sort(catalog.rules_.begin(), catalog.rules_.end(),
            [](const RuleInfo& a, const RuleInfo& b) { return a.id < b.id; });
  const auto dup =
      std::adjacent_find(catalog.rules_.begin(), catalog.rules_.end(),
                         [](const RuleInfo& a, const RuleInfo& b) { return a.id == b.id; });
  if (dup != catalog.rules_.end()) return Error("rule " + dup->id + " is described twice");
  return catalog;
}

const RuleInfo* RuleCatalog::find(std::string_view id) const {
  const auto it =
      std::lower_bound(rules_.begin(), rules_.end(), id,
                       [](const RuleInfo& r, std::string_view key) { return r.id < key; });
  return it != rules_.end() && it->id == id ? &*it : nullptr;
}

const RuleCatalog& RuleCatalog::builtin() {
  static const RuleCatalog catalog = [] {
    auto parsed = parse(embedded::rule_catalog);
    if (!parsed) {
      std::fprintf(stderr, "mlsc: built-in rule catalogue is broken: %s\n",
                   parsed.error().message.c_str());
      std::abort();
    }
    return std::move(*parsed);
  }();
  return catalog;
}

}  // namespace mlsc::report
