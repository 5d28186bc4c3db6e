#include "mlsc/report/admit_command.hpp"

#include <ostream>

#include "mlsc/policy/admit.hpp"
#include "mlsc/report/verify_report.hpp"

namespace mlsc::report {

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
  } else {
    out << policy::format_text(*decision);
  }
  return decision->admitted() ? kExitOk : kExitFailed;
}

}  // namespace mlsc::report
