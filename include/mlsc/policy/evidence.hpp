// The signed documents an admission decision rests on: model signatures, dataset manifests and
// step provenance, each a Sigstore bundle holding an in-toto statement. Every bundle is checked
// once against every trust key of the policy; what a rule later asks is "which of my trusted
// keys verified this statement", never "was it signed at all".
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlsc/core/expected.hpp"
#include "mlsc/policy/policy.hpp"

namespace mlsc::policy {

inline constexpr std::string_view kSlsaProvenanceV1 = "https://slsa.dev/provenance/v1";
inline constexpr std::string_view kDatasetManifestV1 = "https://mlsc.dev/dataset-manifest/v1";
inline constexpr std::string_view kModelSignatureV1 = "https://model_signing/signature/v1.0";
inline constexpr std::size_t kMaxEvidenceBundles = 4096;

struct EvidenceSubject {
  std::string name;
  std::string digest;  // "sha256:<hex>" (lowercase), or "<alg>:<hex>" for other algorithms
};

struct Evidence {
  std::filesystem::path file;
  std::string predicate_type;
  // Parsed from the signed payload. Set whether or not any key verified it, so a rule can say
  // "provenance present but not signed by a trusted builder" rather than "no provenance".
  nlohmann::json statement;
  std::vector<EvidenceSubject> subjects;
  std::set<std::string> verified_by;  // names of the policy's keys that verified it
  std::string signer;                 // as the first verifying key reported it

  bool names_digest(std::string_view digest) const;
};

class EvidencePool {
 public:
  // Reads every bundle and verifies it against every key of `policy`. An unreadable bundle or
  // one whose payload is not an in-toto statement is an error (the user named it explicitly).
  static Expected<EvidencePool> load(const Policy& policy,
                                     const std::vector<std::filesystem::path>& bundles);

  // Evidence of `predicate_type` whose subjects include any of `digests`.
  std::vector<const Evidence*> about(std::string_view predicate_type,
                                     const std::set<std::string>& digests) const;
  const Evidence* by_file(const std::filesystem::path& file) const;
  const std::vector<Evidence>& all() const { return items_; }

 private:
  std::vector<Evidence> items_;
};

// "sha256:<hex>" for each subject digest of an in-toto statement (sha256 first if present).
std::vector<EvidenceSubject> statement_subjects(const nlohmann::json& statement);

}  // namespace mlsc::policy
