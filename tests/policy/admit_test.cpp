// Each admission rule against real signed artifacts: models signed with keys made by the
// openssl CLI, provenance statements signed with sign::sign_statement, a malicious pickle, a
// vulnerable pin checked against an OSV record.
#include "mlsc/policy/admit.hpp"

#include <gtest/gtest.h>

#include "mlsc/dataset/manifest.hpp"
#include "mlsc/sign/sign.hpp"
#include "mlsc/sign/statement_bundle.hpp"
#include "sign/pki_fixture.hpp"

namespace mlsc::policy {
namespace {

using sign::testing::make_key;
using sign::testing::public_key_of;
using sign::testing::ScratchDir;
using sign::testing::write_file;
namespace fs = std::filesystem;

// A pickle whose loader calls os.system: the scan rule must reject it.
const std::string kMaliciousPickle = "cos\nsystem\n(S'echo pwned'\ntR.";

class AdmitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    trusted_key_ = make_key(dir(), "P-256", "trusted");
    other_key_ = make_key(dir(), "P-256", "other");
    trusted_pub_ = public_key_of(trusted_key_);
    other_pub_ = public_key_of(other_key_);
  }

  const fs::path& dir() const { return scratch_.path(); }

  Policy policy(const std::string& rules) {
    const std::string text =
        "version: 1\ntrust:\n  keys:\n    trusted: {public_key: " + trusted_pub_.string() +
        "}\n    other: {public_key: " + other_pub_.string() +
        "}\n  builders:\n    ci: {id: https://ci.test/builder, signed_by: "
        "[trusted]}\nrules:\n" +
        rules;
    auto p = parse_policy(text, dir(), "test-policy");
    EXPECT_TRUE(p) << p.error().describe();
    return p ? *p : Policy{};
  }

  // A model folder signed with `key`; returns its model digest ("sha256:<hex>").
  std::string signed_model(const std::string& name, const fs::path& key, const std::string& body) {
    write_file(dir() / name / "weights.bin", body);
    write_file(dir() / name / "config.json", "{\"layers\": 2}");
    sign::SignOptions o;
    o.signature = dir() / (name + ".sig");
    auto r = sign::sign_model(dir() / name, key, o);
    EXPECT_TRUE(r) << r.error().describe();
    return "sha256:" + r->manifest.root_digest()->hex();
  }

  // A SLSA v1 provenance statement for `subject`, signed with `key`.
  fs::path provenance(const std::string& file, const std::string& subject,
                      const std::string& builder, const fs::path& key,
                      nlohmann::ordered_json deps = nlohmann::ordered_json::array()) {
    nlohmann::ordered_json s;
    s["_type"] = sign::kInTotoStatementV1;
    s["subject"] = {{{"name", "model/"}, {"digest", {{"sha256", subject.substr(7)}}}}};
    s["predicateType"] = "https://slsa.dev/provenance/v1";
    s["predicate"] = {{"buildDefinition",
                       {{"buildType", "https://mlsc.dev/ml-step/v1"},
                        {"externalParameters", {{"step", "fine-tune"}}},
                        {"resolvedDependencies", std::move(deps)}}},
                      {"runDetails", {{"builder", {{"id", builder}}}}}};
    auto bundle = sign::sign_statement(s, key);
    EXPECT_TRUE(bundle) << bundle.error().describe();
    EXPECT_TRUE(sign::write_bundle(*bundle, dir() / file));
    return dir() / file;
  }

  // A dataset folder `name` with its signed manifest (the dataset module's statement) recording
  // `source`; returns the manifest bundle and sets `digest` to the dataset's Merkle root.
  fs::path dataset_manifest(const std::string& name, const std::string& source, const fs::path& key,
                            std::string& digest) {
    write_file(dir() / name / "part-0.jsonl", "{\"text\": \"" + name + "\"}\n");
    dataset::ManifestOptions mo;
    mo.source = source;
    auto m = dataset::build_manifest(dir() / name, mo);
    EXPECT_TRUE(m) << m.error().describe();
    digest = "sha256:" + m->merkle_root;
    auto bundle = sign::sign_statement(dataset::to_statement(*m), key);
    EXPECT_TRUE(bundle);
    EXPECT_TRUE(sign::write_bundle(*bundle, dir() / (name + ".manifest.sig")));
    return dir() / (name + ".manifest.sig");
  }

  // One resolvedDependencies entry. Lists of them are spelled ordered_json::array({...}): a
  // braced list of a single json value copies it under clang but wraps it under gcc.
  static nlohmann::ordered_json dependency(const std::string& name, const std::string& kind,
                                           const std::string& digest) {
    return {{"name", name},
            {"digest", {{"sha256", digest.substr(7)}}},
            {"annotations", {{"kind", kind}}}};
  }

  Decision decide(const Policy& p, const Artifact& a, const AdmitOptions& o = {}) {
    auto d = admit(p, a, o);
    EXPECT_TRUE(d) << d.error().describe();
    return d ? *d : Decision{};
  }

  Artifact model(const std::string& name) {
    Artifact a;
    a.path = dir() / name;
    a.signature = dir() / (name + ".sig");
    return a;
  }

  ScratchDir scratch_;
  fs::path trusted_key_, other_key_, trusted_pub_, other_pub_;
};

const RuleResult& only_result(const Decision& d) {
  EXPECT_EQ(d.results.size(), 1U) << format_text(d);
  return d.results.at(0);
}

TEST_F(AdmitTest, SignatureRuleAcceptsOnlyTrustedKeys) {
  signed_model("good", trusted_key_, "weights");
  signed_model("bad", other_key_, "weights");
  const auto p = policy("  model:\n    - signature: {trusted: [trusted]}\n");
  const auto good = decide(p, model("good"));
  EXPECT_TRUE(good.admitted()) << format_text(good);
  EXPECT_EQ(only_result(good).check, "policy.signature");

  const auto bad = decide(p, model("bad"));
  EXPECT_FALSE(bad.admitted());
  EXPECT_NE(only_result(bad).reason.find("does not verify with a trusted key: trusted:"),
            std::string::npos)
      << only_result(bad).reason;

  Artifact unsigned_model = model("good");
  unsigned_model.signature.reset();
  const auto none = decide(p, unsigned_model);
  EXPECT_FALSE(none.admitted());
  EXPECT_NE(only_result(none).reason.find("no signature by a trusted key"), std::string::npos);

  // A tampered file: the trusted key verifies the bundle, but the model no longer matches it.
  write_file(dir() / "good" / "weights.bin", "tampered");
  const auto tampered = decide(p, model("good"));
  EXPECT_FALSE(tampered.admitted());
  EXPECT_NE(only_result(tampered).reason.find("weights.bin"), std::string::npos)
      << only_result(tampered).reason;
}

TEST_F(AdmitTest, CertificateAnchorsTrustACertificateIdentity) {
  sign::testing::TestPki pki(dir() / "pki");
  const auto leaf = pki.leaf("release-signer", "intermediate", "code_signing", "20200101000000Z",
                             "20390101000000Z");
  write_file(dir() / "m" / "weights.bin", "weights");
  sign::SignOptions o;
  o.signature = dir() / "m.sig";
  o.cert_chain = {leaf.cert, pki.intermediate};
  ASSERT_TRUE(sign::sign_model(dir() / "m", leaf.key, o));
  auto parse = [&](const fs::path& anchor) {
    auto p = parse_policy("version: 1\ntrust:\n  keys:\n    corp-ca: {certificate_anchor: " +
                              anchor.string() + "}\nrules:\n  model:\n    - signature: {}\n",
                          dir(), "cert-policy");
    EXPECT_TRUE(p) << p.error().describe();
    return *p;
  };
  const auto d = decide(parse(pki.root), model("m"));
  EXPECT_TRUE(d.admitted()) << format_text(d);
  EXPECT_NE(only_result(d).reason.find("release-signer"), std::string::npos)
      << only_result(d).reason;
  EXPECT_FALSE(decide(parse(pki.other_root), model("m")).admitted());
}

TEST_F(AdmitTest, ScanRuleRejectsAMaliciousPickle) {
  write_file(dir() / "clean" / "config.json", "{\"a\": 1}");
  write_file(dir() / "evil" / "model.pkl", kMaliciousPickle);
  const auto p = policy("  model:\n    - scan: {max_severity: medium}\n");
  Artifact clean;
  clean.path = dir() / "clean";
  EXPECT_TRUE(decide(p, clean).admitted());
  Artifact evil;
  evil.path = dir() / "evil";
  const auto d = decide(p, evil);
  EXPECT_FALSE(d.admitted());
  EXPECT_NE(only_result(d).reason.find("model.pkl"), std::string::npos) << only_result(d).reason;
  EXPECT_NE(only_result(d).reason.find("critical"), std::string::npos);
}

TEST_F(AdmitTest, ProvenanceMustComeFromATrustedBuilder) {
  const auto digest = signed_model("m", trusted_key_, "weights");
  const auto p = policy("  model:\n    - provenance: {builders: [ci]}\n");
  Artifact a = model("m");
  const auto missing = decide(p, a);
  EXPECT_FALSE(missing.admitted());
  EXPECT_NE(only_result(missing).reason.find("no provenance names"), std::string::npos);

  AdmitOptions good;
  good.evidence = {provenance("good.prov", digest, "https://ci.test/builder", trusted_key_)};
  EXPECT_TRUE(decide(p, a, good).admitted());

  AdmitOptions forged;
  forged.evidence = {provenance("forged.prov", digest, "https://ci.test/builder", other_key_)};
  const auto f = decide(p, a, forged);
  EXPECT_FALSE(f.admitted());
  EXPECT_NE(only_result(f).reason.find("not signed by a key of builder ci"), std::string::npos)
      << only_result(f).reason;

  AdmitOptions stranger;
  stranger.evidence = {provenance("s.prov", digest, "https://laptop.test", trusted_key_)};
  const auto s = decide(p, a, stranger);
  EXPECT_FALSE(s.admitted());
  EXPECT_NE(only_result(s).reason.find("'https://laptop.test' is not a trusted builder"),
            std::string::npos);
}

TEST_F(AdmitTest, ProvenanceBuildTypeMustBeListedWhenTheRuleNamesSome) {
  const auto digest = signed_model("m", trusted_key_, "weights");
  AdmitOptions o;
  o.evidence = {provenance("m.prov", digest, "https://ci.test/builder", trusted_key_)};
  const Artifact a = model("m");
  const auto ours = policy(
      "  model:\n    - provenance: {builders: [ci], build_types: "
      "[\"https://mlsc.dev/ml-step/v1\"]}\n");
  EXPECT_TRUE(decide(ours, a, o).admitted());

  // The same trusted builder and key, but a build the policy does not know how to read.
  const auto other = policy(
      "  model:\n    - provenance: {builders: [ci], build_types: "
      "[\"https://slsa-framework.test/generic/v1\"]}\n");
  const auto d = decide(other, a, o);
  EXPECT_FALSE(d.admitted());
  EXPECT_NE(only_result(d).reason.find("buildType 'https://mlsc.dev/ml-step/v1' is not one of "
                                       "https://slsa-framework.test/generic/v1"),
            std::string::npos)
      << only_result(d).reason;
}

TEST_F(AdmitTest, EveryInputMustItselfBeAdmitted) {
  const auto base = signed_model("base", trusted_key_, "base weights");
  const auto tuned = signed_model("tuned", trusted_key_, "tuned weights");
  const auto p = policy(
      "  model:\n    - signature: {trusted: [trusted]}\n"
      "    - provenance: {builders: [ci], inputs_admitted: true}\n");
  const auto prov = provenance("tuned.prov", tuned, "https://ci.test/builder", trusted_key_,
                               {dependency("base", "base_model", base),
                                {{"uri", "git+https://git.test/r@abc"},
                                 {"digest", {{"gitCommit", std::string(40, 'a')}}},
                                 {"annotations", {{"kind", "code"}}}}});
  const auto base_prov = provenance("base.prov", base, "https://ci.test/builder", trusted_key_);
  AdmitOptions o;
  o.evidence = {prov, base_prov, dir() / "base.sig"};
  const auto ok = decide(p, model("tuned"), o);
  EXPECT_TRUE(ok.admitted()) << format_text(ok);
  ASSERT_EQ(ok.inputs.size(), 1U);  // code is not an admission kind by default
  EXPECT_EQ(ok.inputs[0].subject, "base (" + base + ")");

  // Without the base model's signature the input cannot be admitted; the reason names it.
  o.evidence = {prov, base_prov};
  const auto no_sig = decide(p, model("tuned"), o);
  EXPECT_FALSE(no_sig.admitted());
  EXPECT_NE(no_sig.results[1].reason.find("input base (base_model, " + base + ") not admitted"),
            std::string::npos)
      << no_sig.results[1].reason;

  // A provenance that names the artifact itself as its input: a cycle, not endless recursion.
  const auto loop =
      provenance("loop.prov", tuned, "https://ci.test/builder", trusted_key_,
                 nlohmann::ordered_json::array({dependency("self", "base_model", tuned)}));
  o.evidence = {loop};
  const auto cyclic = decide(p, model("tuned"), o);
  EXPECT_FALSE(cyclic.admitted());
  EXPECT_NE(cyclic.results[1].reason.find("forms a cycle"), std::string::npos);
}

TEST_F(AdmitTest, DatasetInputsComeFromAllowedSources) {
  const auto tuned = signed_model("tuned", trusted_key_, "tuned weights");
  const auto p = policy(
      "  model:\n    - provenance: {builders: [ci], inputs_admitted: true}\n"
      "  dataset:\n    - signature: {trusted: [trusted]}\n"
      "    - datasets: {allowed_sources: [\"https://data.test/approved/*\"]}\n");
  std::string approved;
  std::string scraped;
  const auto approved_manifest =
      dataset_manifest("approved", "https://data.test/approved/c4", trusted_key_, approved);
  const auto scraped_manifest =
      dataset_manifest("scraped", "https://scrape.test/dump", trusted_key_, scraped);

  const auto good =
      provenance("good.prov", tuned, "https://ci.test/builder", trusted_key_,
                 nlohmann::ordered_json::array({dependency("corpus", "dataset", approved)}));
  AdmitOptions o;
  o.evidence = {good, approved_manifest, scraped_manifest};
  const auto ok = decide(p, model("tuned"), o);
  EXPECT_TRUE(ok.admitted()) << format_text(ok);

  const auto bad =
      provenance("bad.prov", tuned, "https://ci.test/builder", trusted_key_,
                 nlohmann::ordered_json::array({dependency("corpus", "dataset", scraped)}));
  o.evidence = {bad, approved_manifest, scraped_manifest};
  const auto rejected = decide(p, model("tuned"), o);
  EXPECT_FALSE(rejected.admitted());
  ASSERT_EQ(rejected.inputs.size(), 1U);
  EXPECT_NE(
      rejected.inputs[0].results[1].reason.find("'https://scrape.test/dump' is not an allowed"),
      std::string::npos)
      << format_text(rejected);

  o.evidence = {good};
  const auto none = decide(p, model("tuned"), o);
  EXPECT_FALSE(none.admitted());
  EXPECT_NE(format_text(none).find("no signed dataset manifest"), std::string::npos);

  // With the folder supplied, the input's files are compared with its manifest too.
  o.evidence = {good, approved_manifest};
  o.input_paths = {dir() / "approved"};
  EXPECT_TRUE(decide(p, model("tuned"), o).admitted());

  // A supplied folder named like the dataset that no longer matches its manifest is that
  // dataset's changed copy: rejected, not quietly replaced by the digest-only match.
  write_file(dir() / "approved" / "part-0.jsonl", "{\"text\": \"poisoned\"}\n");
  const auto changed = decide(p, model("tuned"), o);
  EXPECT_FALSE(changed.admitted()) << format_text(changed);
  EXPECT_NE(format_text(changed).find("differs from its manifest"), std::string::npos)
      << format_text(changed);
}

TEST_F(AdmitTest, DatasetFolderMustMatchItsSignedManifest) {
  write_file(dir() / "corpus" / "train" / "a.txt", "first record\n");
  write_file(dir() / "corpus" / "train" / "b.txt", "second record\n");
  dataset::ManifestOptions mo;
  mo.source = "https://data.test/approved/corpus";
  auto manifest = dataset::build_manifest(dir() / "corpus", mo);
  ASSERT_TRUE(manifest) << manifest.error().describe();
  auto bundle = sign::sign_statement(dataset::to_statement(*manifest), trusted_key_);
  ASSERT_TRUE(bundle);
  ASSERT_TRUE(sign::write_bundle(*bundle, dir() / "corpus.manifest.sig"));
  const auto p = policy(
      "  dataset:\n    - signature: {trusted: [trusted]}\n"
      "    - datasets: {allowed_sources: [\"https://data.test/approved/\"]}\n");
  Artifact a;
  a.kind = ArtifactKind::dataset;
  a.path = dir() / "corpus";
  a.manifest = dir() / "corpus.manifest.sig";
  const auto ok = decide(p, a);
  EXPECT_TRUE(ok.admitted()) << format_text(ok);
  EXPECT_EQ(ok.digests.count("sha256:" + manifest->merkle_root), 1U);

  write_file(dir() / "corpus" / "train" / "b.txt", "poisoned record\n");
  write_file(dir() / "corpus" / "extra.txt", "injected\n");
  const auto changed = decide(p, a);
  EXPECT_FALSE(changed.admitted());
  EXPECT_NE(changed.results[1].reason.find("1 added (extra.txt), 1 changed (train/b.txt)"),
            std::string::npos)
      << changed.results[1].reason;
}

TEST_F(AdmitTest, ConditionsSelectRulesByLabel) {
  signed_model("m", trusted_key_, "weights");
  const auto p = policy(
      "  model:\n    - when: {third_party: true}\n      provenance: {builders: [ci]}\n"
      "    - signature: {}\n");
  Artifact in_house = model("m");
  const auto d = decide(p, in_house);
  EXPECT_TRUE(d.admitted());
  EXPECT_EQ(d.results.size(), 1U);
  Artifact third_party = model("m");
  third_party.labels = {"third_party"};
  const auto t = decide(p, third_party);
  EXPECT_FALSE(t.admitted());
  EXPECT_EQ(t.results.size(), 2U);
}

TEST_F(AdmitTest, BaseModelsMustBeOnTheAllowlist) {
  const auto base = signed_model("base", trusted_key_, "base");
  const auto tuned = signed_model("tuned", trusted_key_, "tuned");
  const auto prov =
      provenance("p", tuned, "https://ci.test/builder", trusted_key_,
                 nlohmann::ordered_json::array({dependency("org/base-7b", "base_model", base)}));
  AdmitOptions o;
  o.evidence = {prov};
  const auto allowed = policy("  model:\n    - base_models: {allow: [\"org/*\"]}\n");
  EXPECT_TRUE(decide(allowed, model("tuned"), o).admitted());
  const auto by_digest = policy("  model:\n    - base_models: {allow: [\"" + base + "\"]}\n");
  EXPECT_TRUE(decide(by_digest, model("tuned"), o).admitted());
  const auto other = policy("  model:\n    - base_models: {allow: [\"meta/*\"]}\n");
  const auto d = decide(other, model("tuned"), o);
  EXPECT_FALSE(d.admitted());
  EXPECT_NE(only_result(d).reason.find("org/base-7b (" + base + ")"), std::string::npos);
  // Without provenance the model is its own base: the base itself is on the digest list.
  EXPECT_TRUE(decide(by_digest, model("base")).admitted());
  EXPECT_FALSE(decide(other, model("base")).admitted());
}

TEST_F(AdmitTest, DependencyRuleRejectsAVulnerablePin) {
  write_file(dir() / "osv" / "PYSEC-TEST-1.json", R"({
    "id": "PYSEC-TEST-1", "modified": "2024-01-01T00:00:00Z",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "badpkg"},
                  "ranges": [{"type": "ECOSYSTEM",
                              "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}],
    "severity": [{"type": "CVSS_V3",
                  "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]})");
  write_file(dir() / "vulnerable.txt", "badpkg==1.5\nnumpy==1.26.0\n");
  write_file(dir() / "fixed.txt", "badpkg==2.0\n");
  const auto p = policy("  environment:\n    - dependencies: {osv_db: osv, max_severity: high}\n");
  Artifact env;
  env.kind = ArtifactKind::environment;
  env.path = dir() / "vulnerable.txt";
  const auto d = decide(p, env);
  EXPECT_FALSE(d.admitted());
  EXPECT_NE(only_result(d).reason.find("badpkg 1.5: PYSEC-TEST-1 (critical, fixed in 2.0)"),
            std::string::npos)
      << only_result(d).reason;
  env.path = dir() / "fixed.txt";
  EXPECT_TRUE(decide(p, env).admitted());

  const auto missing_db =
      policy("  environment:\n    - dependencies: {osv_db: no-such-db, max_severity: high}\n");
  EXPECT_FALSE(admit(missing_db, env));  // an unreadable database is an error, not a verdict
}

TEST_F(AdmitTest, UnreadableEvidenceIsAnErrorNotARejection) {
  signed_model("m", trusted_key_, "weights");
  const auto p = policy("  model:\n    - signature: {}\n");
  write_file(dir() / "junk.sig", "{not json");
  AdmitOptions o;
  o.evidence = {dir() / "junk.sig"};
  EXPECT_FALSE(admit(p, model("m"), o));
  Artifact missing;
  missing.path = dir() / "nowhere";
  EXPECT_FALSE(admit(p, missing));
}

TEST_F(AdmitTest, JsonListsEveryResult) {
  signed_model("m", trusted_key_, "weights");
  const auto p = policy("  model:\n    - signature: {}\n    - scan: {}\n");
  const auto j = to_json(decide(p, model("m")));
  EXPECT_EQ(j["admitted"], true);
  ASSERT_EQ(j["results"].size(), 2U);
  EXPECT_EQ(j["results"][1]["id"], "model.scan");
  EXPECT_EQ(j["results"][1]["check"], "policy.scan");
  EXPECT_EQ(j["kind"], "model");
}

}  // namespace
}  // namespace mlsc::policy
