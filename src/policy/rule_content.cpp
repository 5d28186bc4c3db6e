// Rules about what an artifact holds: its scan verdict, its dependencies' advisories, where a
// dataset came from, which base models a model was made from.
#include <algorithm>

#include "engine.hpp"
#include "mlsc/scan/scan_tree.hpp"
#include "mlsc/vuln/audit.hpp"
#include "mlsc/vuln/inventory.hpp"

namespace mlsc::policy::detail {
namespace fs = std::filesystem;

namespace {

std::string no_content(const Subject& s, const char* what) {
  return "content of " + s.display + " not supplied (--input PATH); cannot " + what;
}

}  // namespace

RuleResult Engine::scan(const ScanRule& r, const Subject& s) {
  if (!s.content) return fail(no_content(s, "scan it"));
  auto targets = scan::collect_targets({s.content->string()});
  if (!targets) return fail("cannot scan " + s.display + ": " + targets.error().describe());
  scan::TreeScanOptions tree;
  tree.jobs = options_.jobs;
  const auto reports = scan::scan_targets(*targets, scan::ScanOptions{}, tree);
  std::vector<std::string> over;
  Severity worst = Severity::none;
  for (const auto& report : reports) {
    if (!report.io_error.empty()) {
      over.push_back(report.path + ": unreadable: " + report.io_error);
      continue;
    }
    worst = std::max(worst, report.max_severity());
    for (const auto& f : report.findings) {
      if (f.severity <= r.max_severity) continue;
      over.push_back(report.path + (f.member.empty() ? "" : "!" + f.member) + ": " +
                     std::string(to_string(f.severity)) + " " + f.rule + ": " + f.message);
    }
  }
  if (!over.empty()) {
    return fail(std::to_string(over.size()) + " finding(s) above " +
                std::string(to_string(r.max_severity)) + ": " + join(over, "; ", 2));
  }
  return pass(std::to_string(reports.size()) + " file(s) scanned, worst severity " +
              std::string(to_string(worst)));
}

const vuln::OsvDatabase* Engine::database(const fs::path& p) {
  auto it = databases_.find(p);
  if (it != databases_.end()) return &it->second;
  auto db = vuln::OsvDatabase::load(p.string());
  if (!db) {
    if (!fatal_) fatal_ = Error("osv_db " + p.string() + ": " + db.error().describe());
    return nullptr;
  }
  return &databases_.emplace(p, std::move(*db)).first->second;
}

RuleResult Engine::dependencies(const DependencyRule& r, const Subject& s) {
  if (!s.content) return fail(no_content(s, "audit its dependencies"));
  const auto* db = database(r.osv_db);
  if (db == nullptr) return fail("the OSV database " + r.osv_db.string() + " could not be read");
  auto inventory = vuln::read_inventory(s.content->string());
  if (!inventory) return fail("cannot read dependencies: " + inventory.error().describe());
  const auto result = vuln::audit(*inventory, *db, nullptr);
  std::vector<std::string> over;
  for (const auto& pkg : result.packages) {
    for (const auto& hit : pkg.vulnerabilities) {
      if (hit.severity <= r.max_severity) continue;
      over.push_back(pkg.package.name + " " + pkg.package.version + ": " + hit.match.record->id +
                     " (" + std::string(to_string(hit.severity)) +
                     (hit.match.fixed ? ", fixed in " + *hit.match.fixed : std::string()) + ")");
    }
  }
  if (!over.empty()) {
    return fail(std::to_string(over.size()) + " advisory(ies) above " +
                std::string(to_string(r.max_severity)) + ": " + join(over, "; ", 4));
  }
  return pass(std::to_string(result.packages.size()) + " package(s) audited, none above " +
              std::string(to_string(r.max_severity)));
}

RuleResult Engine::datasets(const DatasetRule& r, const Subject& s) {
  const Evidence* m = s.manifest;
  if (m == nullptr) {
    if (r.manifest_required) return fail("no dataset manifest for " + s.display);
    if (r.allowed_sources.empty()) return pass("no manifest; none required");
    return fail("no dataset manifest to take the source of " + s.display + " from");
  }
  if (m->verified_by.empty()) {
    return fail("manifest " + m->file.string() +
                " is not signed by any key of the policy; its source claim is untrusted");
  }
  std::vector<std::string> problems;
  const std::string source = json_text(json_path(m->statement, {"predicate", "source"}));
  if (!r.allowed_sources.empty() &&
      std::none_of(r.allowed_sources.begin(), r.allowed_sources.end(),
                   [&](const std::string& p) { return matches_pattern(p, source); })) {
    problems.push_back("source '" + source + "' is not an allowed source (" +
                       join(r.allowed_sources, ", ") + ")");
  }
  auto match = manifest_matches(*m, s);
  if (!match.empty()) problems.push_back(std::move(match));
  if (!problems.empty()) return fail(join(problems, "; "));
  return pass("manifest " + m->file.string() + " (source '" + source + "') " +
              (s.is_input && !s.content ? "names the digest the provenance recorded"
                                        : "matches the dataset"));
}

RuleResult Engine::base_models(const BaseModelRule& r, const Subject& s) {
  auto allowed = [&](const std::string& digest, const std::string& name, const std::string& uri) {
    return std::any_of(r.allow.begin(), r.allow.end(), [&](const std::string& a) {
      return (!digest.empty() && a == digest) || (!name.empty() && matches_pattern(a, name)) ||
             (!uri.empty() && matches_pattern(a, uri));
    });
  };
  std::vector<const Evidence*> provenance;
  for (const auto* e : pool_.about(kSlsaProvenanceV1, s.digests)) {
    if (!e->verified_by.empty()) provenance.push_back(e);
  }
  if (provenance.empty()) {
    // No signed provenance: the model is its own base (a downloaded pretrained model).
    const bool listed = allowed({}, s.name, {}) ||
                        std::any_of(s.digests.begin(), s.digests.end(),
                                    [&](const std::string& d) { return allowed(d, {}, {}); });
    if (listed) return pass(s.display + " is on the base model allowlist");
    return fail(s.display +
                " has no signed provenance naming its base models and is not itself "
                "on the allowlist");
  }
  std::vector<std::string> bases;
  std::vector<std::string> refused;
  for (const auto* e : provenance) {
    const auto* deps =
        json_path(e->statement, {"predicate", "buildDefinition", "resolvedDependencies"});
    if (deps == nullptr || !deps->is_array()) continue;
    for (const auto& dep : *deps) {
      if (json_text(json_path(dep, {"annotations", "kind"})) != "base_model") continue;
      const std::string hex = json_text(json_path(dep, {"digest", "sha256"}));
      const std::string name = json_text(json_path(dep, {"name"}));
      const std::string uri = json_text(json_path(dep, {"uri"}));
      const std::string label = name.empty() ? (uri.empty() ? "sha256:" + hex : uri) : name;
      bases.push_back(label);
      if (!allowed(hex.empty() ? std::string() : "sha256:" + hex, name, uri)) {
        refused.push_back(label + (hex.empty() ? "" : " (sha256:" + hex + ")"));
      }
    }
  }
  if (!refused.empty()) return fail("base model(s) not on the allowlist: " + join(refused, ", "));
  if (bases.empty()) return pass("the provenance names no base model");
  return pass("base model(s) allowed: " + join(bases, ", "));
}

}  // namespace mlsc::policy::detail
