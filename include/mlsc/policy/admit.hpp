// Evaluating a policy for one artifact: every applicable rule yields a result {rule id, passed,
// reason}; the artifact is admitted when every result passed. Provenance rules with
// `inputs_admitted` evaluate the policy again for each input the provenance names (its
// resolvedDependencies), found by digest among the supplied evidence, cycle-safe and
// depth-bounded.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlsc/core/expected.hpp"
#include "mlsc/policy/evidence.hpp"
#include "mlsc/policy/policy.hpp"

namespace mlsc::policy {

struct Artifact {
  std::filesystem::path path;  // a model file or folder, a dataset folder, an environment
  ArtifactKind kind = ArtifactKind::model;
  std::set<std::string> labels;                    // e.g. third_party
  std::optional<std::filesystem::path> signature;  // model.sig (model signing bundle)
  std::optional<std::filesystem::path> manifest;   // dataset manifest bundle
};

struct RuleResult {
  std::string id;     // the policy's rule id
  std::string check;  // the catalogue id, e.g. policy.signature
  bool passed = false;
  std::string reason;  // why it failed; for a passed rule, what satisfied it
};

// One artifact's verdict; `inputs` holds the verdicts of the inputs its provenance named.
struct Decision {
  std::string subject;  // the artifact path, or "<name> (sha256:...)" for an input
  ArtifactKind kind = ArtifactKind::model;
  std::set<std::string> digests;
  std::vector<RuleResult> results;
  std::vector<Decision> inputs;

  bool admitted() const;
};

struct AdmitOptions {
  // Every bundle that may serve as evidence (the artifact's own signature, manifest and
  // provenance are added by admit()); inputs are matched against these by digest.
  std::vector<std::filesystem::path> evidence;
  // Local copies of inputs (files, model or dataset folders): content-level rules (scan,
  // dependencies, manifest match) run on an input only when its content is found here.
  std::vector<std::filesystem::path> input_paths;
  unsigned jobs = 0;  // scanning threads, 0: all cores
};

// Errors are usage / I/O problems (unreadable evidence, a missing artifact), not rejections.
Expected<Decision> admit(const Policy& policy, const Artifact& artifact,
                         const AdmitOptions& options = {});

nlohmann::ordered_json to_json(const Decision& d);
std::string format_text(const Decision& d);

}  // namespace mlsc::policy
