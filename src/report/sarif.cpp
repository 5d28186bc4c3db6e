// SARIF 2.1.0 output of scan results, in the subset GitHub code scanning ingests: every rule
// the run can report with its metadata, one result per finding, a region on every location
// (GitHub needs startLine even for binary files; the byte offset goes in byteOffset), and
// stable partialFingerprints so re-uploads do not duplicate alerts.
#include "mlsc/report/sarif.hpp"

#include "mlsc/core/text.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>

namespace mlsc::report {

namespace {

using nlohmann::ordered_json;

// GitHub's security-severity bands: critical > 9.0, high 7.0-8.9, medium 4.0-6.9, low < 4.
const char* security_severity(Severity s) {
  switch (s) {
    case Severity::critical:
      return "9.5";
    case Severity::high:
      return "8.0";
    case Severity::medium:
      return "5.5";
    case Severity::low:
      return "3.0";
    default:
      return "1.0";
  }
}

const char* sarif_level(Severity s) {
  if (s >= Severity::high) return "error";
  if (s == Severity::medium) return "warning";
  return "note";
}

// RFC 3986 path characters stay; everything else (spaces, '%', '#', '?', non-ASCII) is
// percent-encoded, so any file name becomes a valid URI reference.
std::string uri_encode(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    const bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        std::string_view("-._~/!$&'()*+,;=:@").find(static_cast<char>(c)) != std::string_view::npos;
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string artifact_uri(std::string_view path) {
  while (path.substr(0, 2) == "./") path.remove_prefix(2);
  if (!path.empty() && path.front() == '/') return "file://" + uri_encode(path);
  return uri_encode(path);
}

std::string fingerprint(const FileReport& file, const Finding& f) {
  const std::string key = f.rule + '\n' + file.path + '\n' + f.member + '\n' + f.message;
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), md.data(), &len, EVP_sha256(), nullptr);
  return hex_encode({reinterpret_cast<const char*>(md.data()), std::min<std::size_t>(len, 16)});
}

ordered_json rule_descriptor(const RuleInfo& r) {
  return ordered_json{{"id", r.id},
                      {"name", r.name},
                      {"shortDescription", {{"text", r.short_description}}},
                      {"fullDescription", {{"text", r.full_description}}},
                      {"help", {{"text", r.help}}},
                      {"defaultConfiguration", {{"level", sarif_level(r.severity)}}},
                      {"properties",
                       {{"security-severity", security_severity(r.severity)},
                        {"tags", ordered_json::array({"security", "ml-supply-chain"})},
                        {"precision", "high"}}}};
}

// A finding whose rule the catalogue lacks still gets a descriptor, so the log stays valid; a
// unit test keeps the catalogue complete.
RuleInfo undocumented_rule(const Finding& f) {
  return RuleInfo{
      f.rule, f.rule, f.severity, "Finding " + f.rule, "Finding " + f.rule, "See docs/rules.md."};
}

ordered_json result(const FileReport& file, const Finding& f, std::size_t rule_index) {
  ordered_json region = {{"startLine", 1}};
  if (f.offset) region["byteOffset"] = *f.offset;
  ordered_json location = {
      {"physicalLocation",
       {{"artifactLocation", {{"uri", artifact_uri(file.path)}}}, {"region", region}}}};
  if (!f.member.empty()) {
    location["logicalLocations"] =
        ordered_json::array({{{"fullyQualifiedName", f.member}, {"kind", "member"}}});
  }
  const std::string text = f.member.empty() ? f.message : f.member + ": " + f.message;
  return ordered_json{{"ruleId", f.rule},
                      {"ruleIndex", rule_index},
                      {"level", sarif_level(f.severity)},
                      {"message", {{"text", text}}},
                      {"locations", ordered_json::array({location})},
                      {"partialFingerprints", {{"mlscFinding/v1", fingerprint(file, f)}}},
                      {"properties", {{"severity", std::string(to_string(f.severity))}}}};
}

}  // namespace

std::string format_sarif(const std::vector<FileReport>& files, const SarifOptions& options,
                         const RuleCatalog& catalog) {
  std::vector<RuleInfo> rules = catalog.rules();
  std::map<std::string, std::size_t, std::less<>> index;
  for (std::size_t i = 0; i < rules.size(); ++i) index.emplace(rules[i].id, i);

  ordered_json results = ordered_json::array();
  ordered_json notifications = ordered_json::array();
  for (const auto& file : files) {
    if (!file.io_error.empty()) {
      notifications.push_back(
          {{"level", "error"},
           {"message", {{"text", file.path + ": " + file.io_error}}},
           {"locations", ordered_json::array(
                             {{{"physicalLocation",
                                {{"artifactLocation", {{"uri", artifact_uri(file.path)}}}}}}})}});
    }
    for (const auto& f : file.findings) {
      if (f.severity < options.min_severity) continue;
      auto it = index.find(f.rule);
      if (it == index.end()) {
        rules.push_back(undocumented_rule(f));
        it = index.emplace(f.rule, rules.size() - 1).first;
      }
      results.push_back(result(file, f, it->second));
    }
  }

  ordered_json descriptors = ordered_json::array();
  for (const auto& r : rules) descriptors.push_back(rule_descriptor(r));
  ordered_json run = {
      {"tool",
       {{"driver",
         {{"name", "mlsc"}, {"semanticVersion", options.tool_version}, {"rules", descriptors}}}}},
      {"invocations", ordered_json::array({{{"executionSuccessful", notifications.empty()},
                                            {"toolExecutionNotifications", notifications}}})},
      {"results", results}};
  const ordered_json log = {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
                            {"version", "2.1.0"},
                            {"runs", ordered_json::array({run})}};
  return log.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace mlsc::report
