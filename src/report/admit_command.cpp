#include "mlsc/report/admit_command.hpp"

#include <ostream>

#include "mlsc/policy/admit.hpp"
#include "mlsc/report/sarif.hpp"
#include "mlsc/report/verify_report.hpp"

namespace mlsc::report {

namespace {

// Each failed rule of `d` and of the inputs it recursed into, as a finding at the catalogue
// severity of its check; an input's findings name the input as their member, since an input
// has no file of its own on the command line.
void collect_failures(const policy::Decision& d, const std::string& member,
                      const RuleCatalog& catalog, std::vector<Finding>& out) {
  for (const auto& r : d.results) {
    if (r.passed) continue;
    const RuleInfo* info = catalog.find(r.check);
    out.push_back(Finding{info != nullptr ? info->severity : Severity::high, r.check,
                          r.id + ": " + r.reason, member, std::nullopt});
  }
  for (const auto& input : d.inputs) {
    collect_failures(input, "input " + input.subject, catalog, out);
  }
}

}  // namespace

FileReport decision_report(const policy::Decision& d, const std::string& artifact_path) {
  FileReport report;
  report.path = artifact_path;
  report.format = "admission-" + std::string(policy::to_string(d.kind));
  collect_failures(d, "", RuleCatalog::builtin(), report.findings);
  return report;
}

int run_admit(const AdmitArgs& a, std::ostream& out, std::ostream& err) {
  const auto kind = policy::parse_artifact_kind(a.kind);
  if (!kind) {
    err << "mlsc admit: unknown --kind '" << a.kind << "' (model, dataset, environment)\n";
    return kExitUsage;
  }
  auto loaded = policy::load_policy(a.policy);
  if (!loaded) {
    err << "mlsc admit: " << loaded.error().message << "\n";
    return kExitUsage;
  }
  policy::Artifact artifact;
  artifact.path = a.artifact;
  artifact.kind = *kind;
  artifact.labels.insert(a.labels.begin(), a.labels.end());
  if (!a.signature.empty()) artifact.signature = a.signature;
  if (!a.manifest.empty()) artifact.manifest = a.manifest;
  policy::AdmitOptions options;
  options.evidence.assign(a.provenance.begin(), a.provenance.end());
  options.evidence.insert(options.evidence.end(), a.evidence.begin(), a.evidence.end());
  options.input_paths.assign(a.inputs.begin(), a.inputs.end());
  auto decision = policy::admit(*loaded, artifact, options);
  if (!decision) {
    err << "mlsc admit: " << decision.error().describe() << "\n";
    return kExitUsage;
  }
  if (a.format == "json") {
    out << policy::to_json(*decision).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
  } else if (a.format == "sarif") {
    SarifOptions sarif;
    sarif.min_severity = Severity::info;
    sarif.tool_version = MLSC_VERSION;
    out << format_sarif({decision_report(*decision, a.artifact)}, sarif);
  } else {
    out << policy::format_text(*decision);
  }
  return decision->admitted() ? kExitOk : kExitFailed;
}

}  // namespace mlsc::report
