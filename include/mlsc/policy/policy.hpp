// An admission policy: rules as data (like yara rules), read from a small YAML document.
//
//   version: 1
//   trust:
//     keys:      {NAME: {public_key: PEM} | {certificate_anchor: PEM} |
//                       {sigstore: {identity, issuer, trusted_root}}}
//     builders:  {NAME: {id: URI, signed_by: [KEY...]}}
//   rules:
//     model|dataset|environment:
//       - {id?, when?: {LABEL: bool}, <one of signature|scan|provenance|datasets|
//                                        base_models|dependencies>: {...}}
//
// docs/policy.md describes every key. Policy files are input too: the parser bounds size,
// nesting and list lengths, rejects unknown keys and aliases, and names the line of every error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "mlsc/core/severity.hpp"
#include "mlsc/sign/verifier.hpp"

namespace mlsc::policy {

inline constexpr std::size_t kMaxPolicyBytes = 1U << 20;
inline constexpr std::size_t kMaxListEntries = 1024;  // any one sequence or mapping
inline constexpr std::size_t kMaxNesting = 16;        // flow/block nesting of the document
inline constexpr int kDefaultInputDepth = 8;          // provenance recursion
inline constexpr int kMaxInputDepth = 64;

enum class ArtifactKind : std::uint8_t { model, dataset, environment };
std::string_view to_string(ArtifactKind k);
std::optional<ArtifactKind> parse_artifact_kind(std::string_view text);

// A named trust root: how a signature by "release-key" is checked.
struct TrustKey {
  std::string name;
  sign::TrustMaterial material;
};

// A named builder: the provenance's runDetails.builder.id, and the keys that may sign for it.
struct Builder {
  std::string name;
  std::string id;
  std::vector<std::string> signed_by;  // TrustKey names
};

struct SignatureRule {
  bool required = true;
  std::vector<std::string> trusted;  // TrustKey names; empty: any key of the policy
};

struct ScanRule {
  Severity max_severity = Severity::medium;  // findings above this reject
};

struct ProvenanceRule {
  bool required = true;
  std::vector<std::string> builders;  // Builder names; empty: any builder of the policy
  // Accepted buildDefinition.buildType URIs; empty: any. A trusted builder may run many kinds
  // of build, and the buildType says how to read the rest of the provenance (SLSA's
  // verification steps check it alongside builder.id).
  std::vector<std::string> build_types;
  bool inputs_admitted = false;
  // resolvedDependencies annotations.kind values that must themselves be admitted.
  std::vector<std::string> input_kinds = {"dataset", "base_model", "environment"};
  int max_depth = kDefaultInputDepth;
};

struct DatasetRule {
  std::vector<std::string> allowed_sources;  // globs (fnmatch) or prefixes
  bool manifest_required = true;
};

struct BaseModelRule {
  std::vector<std::string> allow;  // "sha256:<hex>" digests, or names / URIs (globs)
};

struct DependencyRule {
  std::filesystem::path osv_db;
  Severity max_severity = Severity::high;  // advisories above this reject
};

using RuleSettings = std::variant<SignatureRule, ScanRule, ProvenanceRule, DatasetRule,
                                  BaseModelRule, DependencyRule>;

struct Rule {
  std::string id;                    // given, or "<kind>.<type>" (suffixed when repeated)
  std::map<std::string, bool> when;  // label -> must be present (true) / absent (false)
  RuleSettings settings;
  int line = 0;  // 1-based line of the rule in the policy file
};

// The catalogue id of a rule's type ("policy.signature", ...; data/rules/policy.yaml).
std::string_view check_id(const RuleSettings& s);

struct Policy {
  int version = 1;
  std::vector<TrustKey> keys;
  std::vector<Builder> builders;
  std::map<ArtifactKind, std::vector<Rule>> rules;

  const TrustKey* key(std::string_view name) const;
  const Builder* builder(std::string_view name) const;
};

// Parses a policy document. Relative paths in it resolve against `base_dir`; `source_name`
// prefixes error messages ("policy.yaml:12: ..."). Errors carry the byte offset of the line.
Expected<Policy> parse_policy(std::string_view text, const std::filesystem::path& base_dir,
                              std::string_view source_name = "policy");
Expected<Policy> load_policy(const std::filesystem::path& file);

}  // namespace mlsc::policy
