// `mlsc attest verify`: the signature, the step statement's shape and buildType, and that each
// artifact the user names is one of its subjects.
#include <ostream>

#include "mlsc/report/attest_command.hpp"
#include "mlsc/report/verify_report.hpp"
#include "mlsc/sign/statement_bundle.hpp"

namespace mlsc::report {

using nlohmann::ordered_json;
namespace prov = mlsc::provenance;

namespace {

struct ArtifactMatch {
  std::string path;
  std::string sha256;   // empty: could not be hashed
  std::string subject;  // the matching subject's name; empty: none
  std::string error;
};

ArtifactMatch match_artifact(const std::string& path, const prov::StepProvenance& p) {
  ArtifactMatch m{path, "", "", ""};
  auto subject = prov::output_subject(path);
  if (!subject) {
    m.error = subject.error().describe();
    return m;
  }
  m.sha256 = (*subject)["digest"]["sha256"].get<std::string>();
  for (const auto& s : p.subjects) {
    if (s.sha256 == m.sha256) {
      m.subject = s.name;
      break;
    }
  }
  return m;
}

ordered_json to_json(const sign::StatementCheck& check, const prov::StepProvenance* p,
                     const std::vector<ArtifactMatch>& matches, const std::string& problem) {
  ordered_json failures = ordered_json::array();
  for (const auto& f : check.failures)
    failures.push_back({{"code", f.code}, {"message", f.message}});
  if (!problem.empty()) failures.push_back({{"code", "provenance.invalid"}, {"message", problem}});
  for (const auto& m : matches) {
    if (m.subject.empty())
      failures.push_back(
          {{"code", "artifact.mismatch"},
           {"message", m.path + ": " + (m.error.empty() ? "not a subject" : m.error)}});
  }
  ordered_json out = {
      {"ok", failures.empty()}, {"signer", check.verified.signer}, {"failures", failures}};
  if (p != nullptr) {
    out["step"] = prov::to_string(p->step);
    out["builder"] = p->builder_id;
    ordered_json subjects = ordered_json::array();
    for (const auto& s : p->subjects) subjects.push_back({{"name", s.name}, {"sha256", s.sha256}});
    out["subjects"] = subjects;
    ordered_json deps = ordered_json::array();
    for (const auto& d : p->dependencies)
      deps.push_back({{"kind", d.kind}, {"name", d.name}, {"uri", d.uri}, {"digest", d.digest}});
    out["dependencies"] = deps;
  }
  return out;
}

void print_text(const ordered_json& r, const std::string& bundle, std::ostream& out) {
  out << bundle << ": " << (r["ok"].get<bool>() ? "OK" : "FAILED");
  if (!r["signer"].get<std::string>().empty())
    out << " (signed by " << r["signer"].get<std::string>() << ")";
  out << "\n";
  if (r.contains("step")) {
    out << "  step: " << r["step"].get<std::string>() << ", builder "
        << r["builder"].get<std::string>() << "\n";
    for (const auto& s : r["subjects"])
      out << "  output      " << s["name"].get<std::string>()
          << "  sha256:" << s["sha256"].get<std::string>() << "\n";
    for (const auto& d : r["dependencies"]) {
      const std::string label = d["name"].get<std::string>().empty() ? d["uri"].get<std::string>()
                                                                     : d["name"].get<std::string>();
      out << "  " << d["kind"].get<std::string>()
          << std::string(12 - std::min<std::size_t>(11, d["kind"].get<std::string>().size()), ' ')
          << label << "  " << d["digest"].get<std::string>() << "\n";
    }
  }
  for (const auto& f : r["failures"])
    out << "  FAIL " << f["code"].get<std::string>() << ": " << f["message"].get<std::string>()
        << "\n";
}

}  // namespace

int run_attest_verify(const AttestVerifyArgs& a, std::ostream& out, std::ostream& err) {
  auto trust = trust_material(a.trust);
  if (!trust) {
    err << "mlsc attest verify: " << trust.error().describe() << "\n";
    return kExitUsage;
  }
  const auto check = sign::verify_statement_file(a.bundle, *trust, prov::kSlsaProvenanceV1);
  if (check.input_error) {
    for (const auto& f : check.failures) err << "mlsc attest verify: " << f.message << "\n";
    return kExitUsage;
  }
  std::optional<prov::StepProvenance> parsed;
  std::string problem;
  std::vector<ArtifactMatch> matches;
  if (check.ok()) {
    auto p = prov::parse_step_provenance(check.verified.statement);
    if (p) {
      parsed = std::move(*p);
      for (const auto& artifact : a.artifacts) matches.push_back(match_artifact(artifact, *parsed));
    } else {
      problem = p.error().describe();
    }
  }
  const auto report = to_json(check, parsed ? &*parsed : nullptr, matches, problem);
  if (a.format == "json") {
    out << report.dump(2) << "\n";
  } else {
    print_text(report, a.bundle, out);
  }
  return report["ok"].get<bool>() ? kExitOk : kExitFailed;
}

}  // namespace mlsc::report
