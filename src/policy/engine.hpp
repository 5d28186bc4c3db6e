// Internal to the policy module: the state one admission evaluation shares between rules.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mlsc/policy/admit.hpp"
#include "mlsc/sign/verifier.hpp"
#include "mlsc/vuln/osv_db.hpp"

namespace mlsc::policy::detail {

// What is being judged: the artifact on the command line, or an input a provenance named.
struct Subject {
  ArtifactKind kind = ArtifactKind::model;
  std::string display;
  std::string name;  // dependency name or URI (inputs); the path's file name (the artifact)
  std::optional<std::filesystem::path> content;    // on disk, when we have it
  std::set<std::string> digests;                   // "sha256:<hex>"
  std::optional<std::filesystem::path> signature;  // the artifact's own model.sig
  const Evidence* manifest = nullptr;              // dataset manifest
  std::set<std::string> labels;
  bool is_input = false;
};

class Engine {
 public:
  Engine(const Policy& p, const EvidencePool& pool, const AdmitOptions& o)
      : policy_(p), pool_(pool), options_(o) {}

  // `path` holds the digests of the subjects being evaluated above this one (cycle check).
  Decision evaluate(const Subject& s, int depth, std::set<std::string>& path);
  // Set when evaluation hit an I/O or configuration problem (unreadable OSV database).
  const std::optional<Error>& fatal() const { return fatal_; }

  // Model signature verification of the artifact, once per key (cached).
  const sign::VerifyResult& verify_model_with(const TrustKey& key, const Subject& s);

 private:
  RuleResult run(const Rule& rule, const Subject& s, int depth, std::set<std::string>& path,
                 Decision& d);
  RuleResult signature(const SignatureRule& r, const Subject& s);
  RuleResult scan(const ScanRule& r, const Subject& s);
  RuleResult provenance(const ProvenanceRule& r, const Subject& s, int depth,
                        std::set<std::string>& path, Decision& d);
  RuleResult datasets(const DatasetRule& r, const Subject& s);
  RuleResult base_models(const BaseModelRule& r, const Subject& s);
  RuleResult dependencies(const DependencyRule& r, const Subject& s);

  std::string admit_input(const ProvenanceRule& r, const nlohmann::json& dep, const Subject& parent,
                          int depth, std::set<std::string>& path, Decision& d);
  Subject input_subject(const nlohmann::json& dep, ArtifactKind kind, const std::string& digest);
  const vuln::OsvDatabase* database(const std::filesystem::path& p);

  const Policy& policy_;
  const EvidencePool& pool_;
  const AdmitOptions& options_;
  std::map<std::string, sign::VerifyResult> model_checks_;  // key name -> result
  std::map<std::filesystem::path, vuln::OsvDatabase> databases_;
  std::optional<Error> fatal_;
};

// Helpers shared by the rule implementations.
std::vector<std::string> trusted_names(const std::vector<std::string>& listed, const Policy& p);
bool verified_by_any(const Evidence& e, const std::vector<std::string>& names);
std::string join(const std::vector<std::string>& items, std::string_view sep,
                 std::size_t max_items = 5);
// A glob (fnmatch), an exact string, or a prefix when the pattern ends with '/'.
bool matches_pattern(const std::string& pattern, const std::string& value);
std::string file_sha256(const std::filesystem::path& file);  // "sha256:<hex>", empty on error
const nlohmann::json* json_path(const nlohmann::json& j, std::initializer_list<const char*> keys);
std::string json_text(const nlohmann::json* j);
// Empty when the dataset manifest `m` matches the subject: for a folder on disk, its files
// re-hashed against the manifest; for an input known only by digest, the manifest's Merkle
// root equals that digest. Else the differences, in one line.
std::string manifest_matches(const Evidence& m, const Subject& s);
RuleResult pass(std::string reason);
RuleResult fail(std::string reason);

}  // namespace mlsc::policy::detail
