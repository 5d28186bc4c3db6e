// Step provenance: dependencies read from real signed inputs (a dataset manifest bundle, a
// model signed by mlsc's signer), the statement's shape, and reading it back.
#include "mlsc/provenance/step_provenance.hpp"

#include <gtest/gtest.h>

#include "mlsc/dataset/manifest.hpp"

#include "mlsc/sign/hashing.hpp"
#include "mlsc/sign/sign.hpp"
#include "mlsc/sign/statement_bundle.hpp"
#include "sign/pki_fixture.hpp"

namespace mlsc::provenance {
namespace {

using nlohmann::ordered_json;
using sign::testing::make_key;
using sign::testing::ScratchDir;
using sign::testing::write_file;
namespace fs = std::filesystem;

// A signed dataset manifest written by the dataset module over a one-file folder; `root` gets
// its Merkle root.
fs::path dataset_bundle(const fs::path& dir, const fs::path& key, const std::string& name,
                        std::string& root) {
  write_file(dir / name / "part-0.jsonl", "{\"text\": \"" + name + "\"}\n");
  dataset::ManifestOptions options;
  options.name = name;
  auto manifest = dataset::build_manifest(dir / name, options);
  EXPECT_TRUE(manifest) << manifest.error().describe();
  root = manifest->merkle_root;
  auto bundle = sign::sign_statement(dataset::to_statement(*manifest), key);
  EXPECT_TRUE(bundle);
  const fs::path file = dir / (name + ".manifest.sig");
  EXPECT_TRUE(sign::write_bundle(*bundle, file));
  return file;
}

TEST(StepProvenance, DatasetDependencyCarriesRootWeightAndBundleDigest) {
  ScratchDir dir;
  const auto key = make_key(dir.path(), "P-256", "k");
  std::string root;
  const auto file = dataset_bundle(dir.path(), key, "wiki", root);
  auto dep = dataset_dependency("wiki", file, 0.25);
  ASSERT_TRUE(dep) << dep.error().describe();
  EXPECT_EQ((*dep)["name"], "wiki");
  EXPECT_EQ((*dep)["digest"]["sha256"], root);
  EXPECT_EQ((*dep)["annotations"]["kind"], "dataset");
  EXPECT_DOUBLE_EQ((*dep)["annotations"]["mixtureWeight"].get<double>(), 0.25);
  auto bundle_digest = sign::hash_file(file, sign::HashType::sha256);
  EXPECT_EQ((*dep)["annotations"]["manifest"]["sha256"], bundle_digest->hex());
  // The name on the command line must be the manifest's dataset.
  EXPECT_FALSE(dataset_dependency("books", file, 1.0));
}

TEST(StepProvenance, DatasetDependencyRefusesOtherStatements) {
  ScratchDir dir;
  const auto key = make_key(dir.path(), "P-256", "k");
  write_file(dir.path() / "m/w.bin", "weights");
  sign::SignOptions options;
  options.signature = dir.path() / "model.sig";
  ASSERT_TRUE(sign::sign_model(dir.path() / "m", key, options));
  auto dep = dataset_dependency("m", dir.path() / "model.sig", 1.0);
  ASSERT_FALSE(dep);
  EXPECT_NE(dep.error().message.find("not a dataset manifest"), std::string::npos);
}

TEST(StepProvenance, BaseModelIsRehashedAgainstItsSignature) {
  ScratchDir dir;
  const auto key = make_key(dir.path(), "P-256", "k");
  write_file(dir.path() / "base/config.json", "{}");
  write_file(dir.path() / "base/w.bin", "weights");
  sign::SignOptions options;
  options.signature = dir.path() / "base.sig";
  auto signed_model = sign::sign_model(dir.path() / "base", key, options);
  ASSERT_TRUE(signed_model) << signed_model.error().describe();
  const BaseModelSpec spec{dir.path() / "base", dir.path() / "base.sig"};
  auto dep = base_model_dependency(spec);
  ASSERT_TRUE(dep) << dep.error().describe();
  EXPECT_EQ((*dep)["digest"]["sha256"], signed_model->manifest.root_digest()->hex());
  EXPECT_EQ((*dep)["annotations"]["kind"], "base_model");
  EXPECT_EQ((*dep)["annotations"]["signature"]["mediaType"],
            "application/vnd.dev.sigstore.bundle.v0.3+json");
  // The same digest output_subject gives the folder: lineage links up in the graph.
  EXPECT_EQ((*output_subject(dir.path() / "base"))["digest"]["sha256"], (*dep)["digest"]["sha256"]);
  write_file(dir.path() / "base/w.bin", "tampered");
  auto tampered = base_model_dependency(spec);
  ASSERT_FALSE(tampered);
  EXPECT_NE(tampered.error().message.find("does not match"), std::string::npos);
}

TEST(StepProvenance, OutputSubjectsAreFilesOrModelFolders) {
  ScratchDir dir;
  write_file(dir.path() / "out/model.pt", "abc");
  auto file = output_subject(dir.path() / "out/model.pt");
  ASSERT_TRUE(file);
  EXPECT_EQ((*file)["digest"]["sha256"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto folder = output_subject(dir.path() / "out");
  ASSERT_TRUE(folder);
  EXPECT_TRUE((*folder)["name"].get<std::string>().ends_with("out/"));
  EXPECT_FALSE(output_subject(dir.path() / "missing"));
}

TEST(StepProvenance, EnvironmentMustBeCycloneDx) {
  ScratchDir dir;
  write_file(dir.path() / "bom.json", R"({"bomFormat": "CycloneDX", "specVersion": "1.6"})");
  write_file(dir.path() / "spdx.json", R"({"spdxVersion": "SPDX-2.3"})");
  auto env = environment_dependency(dir.path() / "bom.json");
  ASSERT_TRUE(env);
  EXPECT_EQ((*env)["name"], "bom.cdx.json");
  EXPECT_EQ((*env)["mediaType"], kCycloneDxMediaType);
  EXPECT_EQ((*env)["annotations"]["kind"], "environment");
  EXPECT_FALSE(environment_dependency(dir.path() / "spdx.json"));
}

StepDescription example_step() {
  StepDescription d;
  d.step = StepKind::fine_tune;
  d.subjects.push_back({{"name", "model.pt"}, {"digest", {{"sha256", std::string(64, 'a')}}}});
  GitState g;
  g.workdir = "/src/code";
  g.commit = std::string(40, 'b');
  g.dirty_paths = {"train.py"};
  d.dependencies.push_back(code_dependency(g));
  d.command = {"python3", "train.py", "--epochs", "3"};
  d.hyperparameters = {{"lr", 0.001}};
  d.byproducts.push_back({{"name", "metrics.json"},
                          {"digest", {{"sha256", std::string(64, 'd')}}},
                          {"annotations", {{"accuracy", 0.9}}}});
  d.invocation_id = "run-7";
  d.finished_on = "2026-05-01T12:00:00Z";
  return d;
}

TEST(StepProvenance, StatementFollowsTheBuildTypeLayout) {
  auto s = build_step_statement(example_step());
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ((*s)["_type"], "https://in-toto.io/Statement/v1");
  EXPECT_EQ((*s)["predicateType"], "https://slsa.dev/provenance/v1");
  const auto& build = (*s)["predicate"]["buildDefinition"];
  EXPECT_EQ(build["buildType"], "https://mlsc.dev/ml-step/v1");
  EXPECT_EQ(build["externalParameters"]["step"], "fine-tune");
  EXPECT_EQ(build["externalParameters"]["command"][1], "train.py");
  EXPECT_EQ(build["externalParameters"]["hyperparameters"]["lr"], 0.001);
  const auto& code = build["resolvedDependencies"][0];
  EXPECT_EQ(code["uri"], "git+file:///src/code@" + std::string(40, 'b'));
  EXPECT_EQ(code["digest"]["gitCommit"], std::string(40, 'b'));
  EXPECT_EQ(code["annotations"]["dirty"], true);
  EXPECT_EQ(code["annotations"]["dirtyPaths"][0], "train.py");
  const auto& run = (*s)["predicate"]["runDetails"];
  EXPECT_EQ(run["builder"]["id"], "https://mlsc.dev/builder/local");
  EXPECT_EQ(run["metadata"]["invocationId"], "run-7");
  EXPECT_FALSE(run["metadata"].contains("startedOn"));
  EXPECT_EQ(run["byproducts"][0]["annotations"]["accuracy"], 0.9);

  auto parsed = parse_step_provenance(nlohmann::json(*s));
  ASSERT_TRUE(parsed) << parsed.error().describe();
  EXPECT_EQ(parsed->step, StepKind::fine_tune);
  ASSERT_EQ(parsed->dependencies.size(), 1u);
  EXPECT_EQ(parsed->dependencies[0].kind, "code");
  EXPECT_EQ(parsed->dependencies[0].digest, "gitCommit:" + std::string(40, 'b'));
}

TEST(StepProvenance, RefusesIncompleteSteps) {
  auto d = example_step();
  d.command.clear();
  EXPECT_FALSE(build_step_statement(d));
  d = example_step();
  d.subjects.clear();
  EXPECT_FALSE(build_step_statement(d));
  d = example_step();
  d.builder_id = "not a uri";
  EXPECT_FALSE(build_step_statement(d));
  d = example_step();
  d.subjects.push_back(d.subjects.front());
  EXPECT_FALSE(build_step_statement(d));
  EXPECT_EQ(
      build_step_statement(example_step())->at("predicate").at("runDetails").at("metadata").size(),
      2u);
  d = example_step();
  d.invocation_id.clear();
  const auto a = (*build_step_statement(d))["predicate"]["runDetails"]["metadata"]["invocationId"];
  const auto b = (*build_step_statement(d))["predicate"]["runDetails"]["metadata"]["invocationId"];
  EXPECT_EQ(a.get<std::string>().size(), 36u);
  EXPECT_NE(a, b);
}

TEST(StepProvenance, ReaderRefusesOtherBuildTypesAndMalformedFields) {
  const nlohmann::json good = *build_step_statement(example_step());
  auto with = [&](const std::string& pointer, const nlohmann::json& value) {
    nlohmann::json s = good;
    s[nlohmann::json::json_pointer(pointer)] = value;
    return parse_step_provenance(s);
  };
  EXPECT_TRUE(parse_step_provenance(good));
  EXPECT_FALSE(with("/predicate/buildDefinition/buildType", "https://example.test/other"));
  EXPECT_FALSE(with("/predicate/buildDefinition/externalParameters/step", "deploy"));
  EXPECT_FALSE(
      with("/predicate/buildDefinition/externalParameters/command", nlohmann::json::array()));
  EXPECT_FALSE(with("/predicate/buildDefinition/externalParameters/command/0", 7));
  EXPECT_FALSE(
      with("/predicate/buildDefinition/resolvedDependencies/0/digest", {{"sha256", "xyz"}}));
  EXPECT_FALSE(with("/predicate/buildDefinition/resolvedDependencies/0/annotations",
                    nlohmann::json::object()));
  EXPECT_FALSE(with("/subject/0/digest", {{"sha512", std::string(128, 'a')}}));
  EXPECT_FALSE(with("/predicate/runDetails", nlohmann::json::object()));
  EXPECT_FALSE(with("/predicateType", "https://slsa.dev/provenance/v0.2"));
  EXPECT_FALSE(parse_step_provenance(nlohmann::json::array()));
}

TEST(StepProvenance, TimesAreRfc3339) {
  EXPECT_TRUE(is_rfc3339("2026-05-01T12:00:00Z"));
  EXPECT_TRUE(is_rfc3339("2026-05-01T12:00:00.123+02:00"));
  EXPECT_FALSE(is_rfc3339("2026-05-01 12:00:00Z"));
  EXPECT_FALSE(is_rfc3339("2026-05-01T12:00:00"));
  EXPECT_FALSE(is_rfc3339("2026-05-01T12:00:00.Z"));
  EXPECT_EQ(rfc3339_utc(std::chrono::system_clock::from_time_t(0)), "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace mlsc::provenance
