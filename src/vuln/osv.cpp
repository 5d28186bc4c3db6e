// OSV records: JSON or YAML text to OsvRecord, and the schema's evaluation of ranges.
// YAML is converted to the JSON data model first (every scalar as a string, which is what OSV
// fields are), so one reader serves both; the conversion has a node budget because YAML
// aliases can make a small document expand exponentially.
#include "mlsc/vuln/osv.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "mlsc/core/json_depth.hpp"
#include "mlsc/vuln/cvss.hpp"
#include "mlsc/vuln/package_name.hpp"

namespace mlsc::vuln {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxYamlDepth = 64;

struct YamlBudget {
  std::size_t nodes_left;
};

Expected<json> yaml_to_json(const YAML::Node& node, std::size_t depth, YamlBudget& budget) {
  if (budget.nodes_left == 0) return Error("YAML document expands to too many nodes (aliases?)");
  --budget.nodes_left;
  if (depth > kMaxYamlDepth) return Error("YAML nested deeper than 64 levels");
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return json(node.Scalar());
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) {
        auto value = yaml_to_json(item, depth + 1, budget);
        if (!value) return value.error();
        out.push_back(std::move(*value));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& item : node) {
        if (!item.first.IsScalar()) return Error("YAML map key is not a scalar");
        auto value = yaml_to_json(item.second, depth + 1, budget);
        if (!value) return value.error();
        out[item.first.Scalar()] = std::move(*value);
      }
      return out;
    }
    default:
      return json(nullptr);
  }
}

std::string string_field(const json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

Expected<std::vector<std::string>> string_list(const json& obj, const char* key) {
  std::vector<std::string> out;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) return Error(std::string("'") + key + "' is not a list");
  for (const auto& item : *it) {
    if (!item.is_string()) return Error(std::string("'") + key + "' has a non-string entry");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::string first_sentence(std::string_view details) {
  constexpr std::size_t kMax = 200;
  std::string out;
  bool space = false;
  std::size_t i = 0;
  for (; i < details.size() && out.size() < kMax; ++i) {
    const char c = details[i];
    if (c == '\n' && i + 1 < details.size() && details[i + 1] == '\n' && !out.empty()) break;
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    // Stop at the end of a sentence once there is enough to go on ("X is a library." is not).
    if (c == '.' && out.size() >= 60 &&
        (i + 1 == details.size() || details[i + 1] == ' ' || details[i + 1] == '\n')) {
      return out;
    }
  }
  if (out.size() >= kMax && i < details.size()) out += "...";
  return out;
}

Expected<std::vector<OsvSeverity>> severity_list(const json& obj) {
  std::vector<OsvSeverity> out;
  const auto it = obj.find("severity");
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) return Error("'severity' is not a list");
  for (const auto& item : *it) {
    if (!item.is_object()) return Error("'severity' entry is not an object");
    out.push_back({string_field(item, "type"), string_field(item, "score")});
  }
  return out;
}

std::string database_severity(const json& obj) {
  const auto it = obj.find("database_specific");
  if (it == obj.end() || !it->is_object()) return {};
  return string_field(*it, "severity");
}

Expected<OsvEvent> parse_event(const json& item) {
  if (!item.is_object()) return Error("range event is not an object");
  static constexpr std::pair<const char*, OsvEvent::Kind> kKinds[] = {
      {"introduced", OsvEvent::Kind::introduced},
      {"fixed", OsvEvent::Kind::fixed},
      {"last_affected", OsvEvent::Kind::last_affected},
      {"limit", OsvEvent::Kind::limit}};
  OsvEvent event;
  int found = 0;
  for (const auto& [key, kind] : kKinds) {
    const auto it = item.find(key);
    if (it == item.end()) continue;
    if (!it->is_string()) return Error(std::string("event '") + key + "' is not a string");
    event.kind = kind;
    event.text = it->get<std::string>();
    ++found;
  }
  if (found != 1) return Error("range event must have exactly one of introduced/fixed/...");
  event.minus_infinity = event.kind == OsvEvent::Kind::introduced && event.text == "0";
  event.plus_infinity =
      event.kind == OsvEvent::Kind::limit && event.text.find('*') != std::string::npos;
  event.version = Version::parse(event.text);
  if (auto sv = SemVer::parse(event.text)) event.semver = std::move(*sv);
  return event;
}

bool semver_usable(const OsvRange& range) {
  return range.type == OsvRange::Type::semver &&
         std::all_of(range.events.begin(), range.events.end(), [](const OsvEvent& e) {
           return e.minus_infinity || e.plus_infinity || e.semver.has_value();
         });
}

// Event order of the evaluation: "0" first, "*" last, otherwise by the range's version order.
bool event_before(const OsvEvent& a, const OsvEvent& b, bool semver) {
  if (a.minus_infinity || b.plus_infinity) return !(b.minus_infinity || a.plus_infinity);
  if (b.minus_infinity || a.plus_infinity) return false;
  return semver ? *a.semver < *b.semver : a.version < b.version;
}

Expected<OsvRange> parse_range(const json& item, std::vector<std::string>& notes) {
  if (!item.is_object()) return Error("range is not an object");
  OsvRange range;
  range.type_name = string_field(item, "type");
  if (range.type_name == "ECOSYSTEM") range.type = OsvRange::Type::ecosystem;
  if (range.type_name == "SEMVER") range.type = OsvRange::Type::semver;
  if (range.type_name == "GIT") range.type = OsvRange::Type::git;
  const auto events = item.find("events");
  if (events == item.end() || !events->is_array()) return Error("range has no 'events' list");
  for (const auto& e : *events) {
    auto event = parse_event(e);
    if (!event) return event.error();
    range.events.push_back(std::move(*event));
  }
  if (range.type == OsvRange::Type::git) {
    notes.push_back("GIT range ignored (needs the repository's commit graph)");
  } else if (range.type == OsvRange::Type::other) {
    notes.push_back("range of unknown type '" + range.type_name + "' ignored");
  } else {
    const bool semver = semver_usable(range);
    std::stable_sort(
        range.events.begin(), range.events.end(),
        [semver](const OsvEvent& a, const OsvEvent& b) { return event_before(a, b, semver); });
  }
  return range;
}

bool ecosystem_matches(std::string_view ecosystem, std::string_view wanted) {
  if (wanted.empty()) return true;
  return ecosystem.substr(0, ecosystem.find(':')) == wanted;
}

Expected<std::optional<OsvAffected>> parse_affected(const json& item, const OsvParseOptions& opt,
                                                    std::vector<std::string>& notes) {
  if (!item.is_object()) return Error("'affected' entry is not an object");
  const auto package = item.find("package");
  OsvAffected affected;
  if (package != item.end() && package->is_object()) {
    affected.ecosystem = string_field(*package, "ecosystem");
    affected.name = string_field(*package, "name");
    affected.purl = string_field(*package, "purl");
  }
  if (!ecosystem_matches(affected.ecosystem, opt.ecosystem)) return std::optional<OsvAffected>{};
  if (affected.name.empty()) return Error("'affected' entry has no package name");
  affected.normalized_name = normalize_name(affected.name);
  const auto ranges = item.find("ranges");
  if (ranges != item.end() && !ranges->is_null()) {
    if (!ranges->is_array()) return Error("'ranges' is not a list");
    for (const auto& r : *ranges) {
      auto range = parse_range(r, notes);
      if (!range) return range.error();
      affected.ranges.push_back(std::move(*range));
    }
  }
  auto versions = string_list(item, "versions");
  if (!versions) return versions.error();
  affected.version_keys.reserve(versions->size());
  for (const auto& v : *versions) affected.version_keys.push_back(Version::parse(v).equality_key());
  std::sort(affected.version_keys.begin(), affected.version_keys.end());
  auto severity = severity_list(item);
  if (!severity) return severity.error();
  affected.severity = std::move(*severity);
  affected.database_severity = database_severity(item);
  return std::optional<OsvAffected>(std::move(affected));
}

Expected<OsvRecord> record_from_json(const json& doc, const OsvParseOptions& options) {
  if (!doc.is_object()) return Error("OSV record is not an object");
  OsvRecord record;
  record.id = string_field(doc, "id");
  if (record.id.empty()) return Error("OSV record has no 'id'");
  record.summary = string_field(doc, "summary");
  if (record.summary.empty()) record.summary = first_sentence(string_field(doc, "details"));
  record.modified = string_field(doc, "modified");
  record.published = string_field(doc, "published");
  record.withdrawn = string_field(doc, "withdrawn");
  auto aliases = string_list(doc, "aliases");
  if (!aliases) return Error(record.id + ": " + aliases.error().message);
  record.aliases = std::move(*aliases);
  auto severity = severity_list(doc);
  if (!severity) return Error(record.id + ": " + severity.error().message);
  record.severity = std::move(*severity);
  record.database_severity = database_severity(doc);
  const auto affected = doc.find("affected");
  if (affected != doc.end() && !affected->is_null()) {
    if (!affected->is_array()) return Error(record.id + ": 'affected' is not a list");
    for (const auto& item : *affected) {
      auto entry = parse_affected(item, options, record.notes);
      if (!entry) return Error(record.id + ": " + entry.error().message);
      if (*entry) record.affected.push_back(std::move(**entry));
    }
  }
  return record;
}

// Compares an event's version with the installed one under the range's ordering.
std::strong_ordering compare_event(const OsvEvent& e, const Version& v,
                                   const std::optional<SemVer>& sv, bool semver) {
  if (e.minus_infinity) return std::strong_ordering::less;
  if (e.plus_infinity) return std::strong_ordering::greater;
  if (semver && sv) return *e.semver <=> *sv;
  return e.version <=> v;
}

bool evaluable(const OsvRange& range) {
  return range.type == OsvRange::Type::ecosystem || range.type == OsvRange::Type::semver;
}

}  // namespace

constexpr std::size_t kMaxOsvJsonDepth = 64;

Expected<OsvRecord> parse_osv_json(std::string_view text, const OsvParseOptions& options) {
  // Advisory databases are downloaded input: bound the parser's recursion first.
  if (const auto at = json_too_deep_at(text, kMaxOsvJsonDepth)) {
    return Error::at(*at,
                     "JSON nested deeper than " + std::to_string(kMaxOsvJsonDepth) + " levels");
  }
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return Error::at(e.byte, std::string("invalid JSON: ") + e.what());
  } catch (const json::exception& e) {  // out_of_range: a number too large for a double
    return Error(std::string("invalid JSON: ") + e.what());
  }
  return record_from_json(doc, options);
}

Expected<OsvRecord> parse_osv_yaml(std::string_view text, const OsvParseOptions& options) {
  YAML::Node node;
  try {
    node = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Error::at(e.mark.pos < 0 ? 0 : static_cast<std::uint64_t>(e.mark.pos),
                     std::string("invalid YAML: ") + e.msg);
  }
  YamlBudget budget{16 * text.size() + 1024};
  auto doc = yaml_to_json(node, 0, budget);
  if (!doc) return doc.error();
  return record_from_json(*doc, options);
}

bool range_affects(const OsvRange& range, const Version& version) {
  if (!evaluable(range)) return false;
  const bool semver = semver_usable(range);
  std::optional<SemVer> sv;
  if (semver) {
    if (auto parsed = SemVer::parse(version.original())) sv = std::move(*parsed);
  }
  // BeforeLimits: with limit events, the version must be below at least one of them.
  bool has_limit = false;
  bool below_a_limit = false;
  for (const auto& e : range.events) {
    if (e.kind != OsvEvent::Kind::limit) continue;
    has_limit = true;
    if (compare_event(e, version, sv, semver) > 0) below_a_limit = true;
  }
  if (has_limit && !below_a_limit) return false;
  bool vulnerable = false;
  for (const auto& e : range.events) {
    const auto c = compare_event(e, version, sv, semver);  // event <=> installed
    if (e.kind == OsvEvent::Kind::introduced && c <= 0) {
      vulnerable = true;
    } else if (e.kind == OsvEvent::Kind::fixed && c <= 0) {
      vulnerable = false;
    } else if (e.kind == OsvEvent::Kind::last_affected && c < 0) {
      vulnerable = false;
    }
  }
  return vulnerable;
}

bool affects(const OsvAffected& affected, const Version& version) {
  if (std::binary_search(affected.version_keys.begin(), affected.version_keys.end(),
                         version.equality_key())) {
    return true;
  }
  return std::any_of(affected.ranges.begin(), affected.ranges.end(),
                     [&version](const OsvRange& r) { return range_affects(r, version); });
}

std::optional<std::string> lowest_fix_above(const OsvAffected& affected, const Version& version) {
  const OsvEvent* best = nullptr;
  for (const auto& range : affected.ranges) {
    if (!evaluable(range)) continue;
    for (const auto& e : range.events) {
      if (e.kind != OsvEvent::Kind::fixed || !(e.version > version)) continue;
      if (best == nullptr || e.version < best->version) best = &e;
    }
  }
  if (best == nullptr) return std::nullopt;
  return best->text;
}

SeverityAssessment assess_severity(const OsvRecord& record, const OsvAffected& affected) {
  SeverityAssessment out;
  const auto& list = affected.severity.empty() ? record.severity : affected.severity;
  for (const std::string_view type : {"CVSS_V3", "CVSS_V2"}) {
    for (const auto& s : list) {
      if (s.type != type) continue;
      auto cvss = parse_cvss(s.score);
      if (!cvss || !cvss->base_score) continue;
      if (!out.score || *cvss->base_score > *out.score) {
        out.score = cvss->base_score;
        out.vector = s.score;
        out.source = s.type;
      }
    }
    if (out.score) {
      out.level = cvss_severity(*out.score);
      return out;
    }
  }
  for (const auto& s : list) {
    if (s.type == "CVSS_V4" && parse_cvss(s.score)) out.vector = s.score;
  }
  std::string text =
      affected.database_severity.empty() ? record.database_severity : affected.database_severity;
  for (const auto& s : list) {
    if (text.empty() && s.type == "Ubuntu") text = s.score;
  }
  std::transform(text.begin(), text.end(), text.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  if (text == "moderate") text = "medium";
  if (text == "negligible") text = "low";
  if (const auto level = parse_severity(text); level && *level != Severity::none) {
    out.level = level;
    out.source = "database_specific";
  }
  return out;
}

}  // namespace mlsc::vuln
