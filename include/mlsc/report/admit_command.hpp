// `mlsc admit --policy P.yaml ARTIFACT`: its options (filled in by the CLI front end), running
// it, and its output. Exit codes: 0 admitted, 1 rejected, 2 usage, I/O or policy error.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "mlsc/core/finding.hpp"
#include "mlsc/policy/admit.hpp"

namespace mlsc::report {

struct AdmitArgs {
  std::string policy;
  std::string artifact;
  std::string kind = "model";
  std::string signature;                // the artifact's model.sig
  std::string manifest;                 // the artifact's dataset manifest bundle
  std::vector<std::string> provenance;  // provenance bundles (the artifact's and its inputs')
  std::vector<std::string> evidence;    // other bundles: inputs' signatures and manifests
  std::vector<std::string> inputs;      // local copies of inputs, for content rules
  std::vector<std::string> labels;      // e.g. third_party
  std::string format = "text";          // text, json or sarif
};

int run_admit(const AdmitArgs& args, std::ostream& out, std::ostream& err);

// A decision as one report for the SARIF formatter: every failed rule (the artifact's and its
// inputs') is a finding whose rule is the check id (policy.signature, ...). An admitted
// artifact has no findings.
FileReport decision_report(const policy::Decision& d, const std::string& artifact_path);

}  // namespace mlsc::report
