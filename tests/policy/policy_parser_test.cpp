// The policy reader: the documented shape parses into rules; unknown keys, wrong types, hostile
// YAML (aliases, deep nesting, huge input) are errors that name the line.
#include <gtest/gtest.h>

#include <string>

#include "mlsc/policy/policy.hpp"

namespace mlsc::policy {
namespace {

const char* const kGood = R"(version: 1
trust:
  keys:
    release: {public_key: keys/release.pub}
    corp-ca: {certificate_anchor: /etc/pki/root.pem}
    ci-oidc:
      sigstore:
        identity: https://github.com/org/repo/.github/workflows/train.yml@refs/heads/main
        issuer: https://token.actions.githubusercontent.com
        trusted_root: trusted_root.json
  builders:
    ci: {id: "https://ci.example/builder", signed_by: [release, ci-oidc]}
rules:
  model:
    - signature: {trusted: [release]}
    - scan: {max_severity: low}
    - id: third-party-provenance
      when: {third_party: true}
      provenance: {builders: [ci], inputs_admitted: true, max_depth: 3,
                   build_types: ["https://mlsc.dev/ml-step/v1"]}
    - base_models: {allow: ["sha256:abcd", "meta-llama/*"]}
  dataset:
    - datasets: {allowed_sources: ["https://huggingface.co/datasets/org/*"]}
  environment:
    - dependencies: {osv_db: osv, max_severity: medium}
    - signature: {required: false}
)";

Expected<Policy> parse(const std::string& text) {
  return parse_policy(text, "/base", "p.yaml");
}

// The error message, or a note that there was none.
std::string error_of(const std::string& text) {
  auto p = parse(text);
  return p ? std::string("(parsed)") : p.error().message;
}

TEST(PolicyParser, ParsesTheDocumentedShape) {
  auto p = parse(kGood);
  ASSERT_TRUE(p) << p.error().describe();
  ASSERT_EQ(p->keys.size(), 3U);
  EXPECT_EQ(p->key("release")->material.mode, sign::TrustMode::public_key);
  EXPECT_EQ(p->key("release")->material.file, std::filesystem::path("/base/keys/release.pub"));
  EXPECT_EQ(p->key("corp-ca")->material.file, std::filesystem::path("/etc/pki/root.pem"));
  EXPECT_EQ(p->key("ci-oidc")->material.mode, sign::TrustMode::sigstore);
  EXPECT_EQ(p->key("ci-oidc")->material.issuer, "https://token.actions.githubusercontent.com");
  ASSERT_EQ(p->builders.size(), 1U);
  EXPECT_EQ(p->builders[0].id, "https://ci.example/builder");

  const auto& model = p->rules.at(ArtifactKind::model);
  ASSERT_EQ(model.size(), 4U);
  EXPECT_EQ(model[0].id, "model.signature");
  EXPECT_EQ(std::get<SignatureRule>(model[0].settings).trusted,
            std::vector<std::string>{"release"});
  EXPECT_EQ(std::get<ScanRule>(model[1].settings).max_severity, Severity::low);
  EXPECT_EQ(model[2].id, "third-party-provenance");
  EXPECT_EQ(model[2].line, 17);  // the "- id: third-party-provenance" line
  EXPECT_EQ(model[2].when.at("third_party"), true);
  const auto& prov = std::get<ProvenanceRule>(model[2].settings);
  EXPECT_TRUE(prov.inputs_admitted);
  EXPECT_EQ(prov.max_depth, 3);
  EXPECT_EQ(prov.build_types, std::vector<std::string>{"https://mlsc.dev/ml-step/v1"});
  EXPECT_EQ(check_id(model[3].settings), "policy.base-models");

  const auto& env = p->rules.at(ArtifactKind::environment);
  EXPECT_EQ(std::get<DependencyRule>(env[0].settings).osv_db, std::filesystem::path("/base/osv"));
  EXPECT_FALSE(std::get<SignatureRule>(env[1].settings).required);
  EXPECT_EQ(env[1].id, "environment.signature");
}

TEST(PolicyParser, UnknownKeysNameTheirLine) {
  EXPECT_EQ(error_of("version: 1\nrules:\n  model:\n    - scan: {max_severity: low}\n"
                     "    - singature: {required: true}\n"),
            "p.yaml:5: unknown key 'singature' in rules.model[1] (expected: id, when, signature, "
            "scan, provenance, datasets, base_models, dependencies)");
  EXPECT_EQ(error_of("version: 1\nrules:\n  model:\n    - scan:\n        max_sev: low\n"),
            "p.yaml:5: unknown key 'max_sev' in rules.model[0].scan (expected: max_severity)");
  EXPECT_EQ(error_of("version: 1\ncolour: blue\nrules: {}\n"),
            "p.yaml:2: unknown key 'colour' in the policy (expected: version, trust, rules)");
  EXPECT_EQ(error_of("version: 1\nrules:\n  container:\n    - scan: {}\n"),
            "p.yaml:3: unknown key 'container' in rules (expected: model, dataset, environment)");
}

TEST(PolicyParser, RejectsWrongValuesWithTheirLine) {
  EXPECT_EQ(error_of("version: 2\nrules: {}\n"),
            "p.yaml:1: version: 1 is required (the only version)");
  EXPECT_EQ(error_of("version: 1\n"), "p.yaml:1: the policy has no rules");
  EXPECT_EQ(error_of("version: 1\nrules:\n  model:\n    - scan: {max_severity: severe}\n"),
            "p.yaml:4: rules.model[0].scan.max_severity: unknown severity 'severe' (info, low, "
            "medium, high, critical)");
  EXPECT_EQ(error_of("version: 1\nrules:\n  model:\n    - signature: {required: yes-please}\n"),
            "p.yaml:4: rules.model[0].signature.required must be true or false");
  EXPECT_NE(error_of("version: 1\nrules:\n  model:\n    - signature: {trusted: [nobody]}\n")
                .find("unknown key 'nobody'"),
            std::string::npos);
  EXPECT_NE(error_of("version: 1\ntrust: {keys: {k: {public_key: a.pem}}}\nrules:\n  model:\n"
                     "    - provenance: {builders: [ci]}\n")
                .find("p.yaml:5: rules.model[0].provenance.builders: unknown builder 'ci'"),
            std::string::npos);
  EXPECT_NE(error_of("version: 1\ntrust: {builders: {ci: {id: x, signed_by: []}}}\nrules:\n"
                     "  model:\n    - provenance: {build_types: https://a}\n")
                .find("p.yaml:5: rules.model[0].provenance.build_types"),
            std::string::npos);
  EXPECT_NE(error_of("version: 1\nrules:\n  model:\n    - {scan: {}, signature: {}}\n")
                .find("two rule types"),
            std::string::npos);
  EXPECT_NE(error_of("version: 1\nrules:\n  environment:\n    - datasets: {}\n")
                .find("does not apply to environment"),
            std::string::npos);
  EXPECT_NE(error_of("version: 1\nrules:\n  model:\n    - {id: x, scan: {}}\n    - {id: x, "
                     "scan: {}}\n")
                .find("p.yaml:5: duplicate rule id 'x'"),
            std::string::npos);
  EXPECT_NE(error_of("version: 1\nrules:\n  model:\n    - provenance: {max_depth: 1000}\n")
                .find("no trust.builders"),
            std::string::npos);
}

TEST(PolicyParser, RepeatedRuleTypesGetDistinctIds) {
  auto p = parse(
      "version: 1\nrules:\n  model:\n    - scan: {max_severity: high}\n"
      "    - {when: {third_party: true}, scan: {max_severity: info}}\n");
  ASSERT_TRUE(p) << p.error().describe();
  EXPECT_EQ(p->rules.at(ArtifactKind::model)[0].id, "model.scan");
  EXPECT_EQ(p->rules.at(ArtifactKind::model)[1].id, "model.scan-2");
}

TEST(PolicyParser, HostileYamlIsRefusedWithALine) {
  // Billion laughs: aliases are refused before yaml-cpp sees them.
  EXPECT_EQ(error_of("version: 1\na: &x [1, 2]\nb: [*x, *x]\nrules: {}\n"),
            "p.yaml:2: anchors and aliases are not allowed in a policy");
  std::string deep = "version: 1\nrules: " + std::string(500, '[') + std::string(500, ']') + "\n";
  EXPECT_EQ(error_of(deep), "p.yaml:2: nesting is too deep");
  std::string dashes = "version: 1\nrules:\n";
  for (int i = 0; i < 200; ++i) dashes += "- ";
  dashes += "x\n";
  EXPECT_EQ(error_of(dashes), "p.yaml:3: line is indented too deeply");
  EXPECT_NE(error_of(std::string(kMaxPolicyBytes + 1, ' ')).find("larger than"), std::string::npos);
  EXPECT_NE(error_of("version: 1\nrules: {model: [\n").find("YAML syntax error"),
            std::string::npos);
  EXPECT_EQ(error_of(std::string("version: 1\n\0rules: {}\n", 22)), "p.yaml:2: NUL byte in policy");
  // Quoted text may contain what would otherwise look like aliases or brackets.
  auto quoted =
      parse("version: 1\nrules:\n  model:\n    - base_models: {allow: ['*', \"[[[&x\"]}\n");
  ASSERT_TRUE(quoted) << quoted.error().describe();
}

TEST(PolicyParser, ErrorsCarryTheByteOffset) {
  auto p = parse("version: 1\nrules:\n  model:\n    - scan: {bogus: 1}\n");
  ASSERT_FALSE(p);
  ASSERT_TRUE(p.error().offset.has_value());
  EXPECT_EQ(*p.error().offset, std::string("version: 1\nrules:\n  model:\n    - scan: {").size());
}

}  // namespace
}  // namespace mlsc::policy
