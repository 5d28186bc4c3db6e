// `mlsc admit --format sarif`: a decision becomes one report whose findings are the failed
// rules (the artifact's and its inputs'), which the shared SARIF formatter prints.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mlsc/report/admit_command.hpp"
#include "mlsc/report/sarif.hpp"

namespace mlsc::report {
namespace {

policy::Decision rejected_model() {
  policy::Decision input;
  input.subject = "regression (sha256:b8a8)";
  input.kind = policy::ArtifactKind::dataset;
  input.results = {{"approved-source", "policy.datasets", false, "1 changed (train/part-1.csv)"},
                   {"manifest-signed", "policy.signature", true, "signed by data-team"}};
  policy::Decision d;
  d.subject = "out/model";
  d.results = {{"release-signature", "policy.signature", true, "signed by release"},
               {"attested-training", "policy.provenance", false, "input regression not admitted"}};
  d.inputs = {input};
  return d;
}

TEST(AdmitSarif, FailedRulesOfTheArtifactAndItsInputsBecomeFindings) {
  const FileReport r = decision_report(rejected_model(), "out/model");
  EXPECT_EQ(r.path, "out/model");
  EXPECT_EQ(r.format, "admission-model");
  ASSERT_EQ(r.findings.size(), 2U);
  EXPECT_EQ(r.findings[0].rule, "policy.provenance");
  EXPECT_EQ(r.findings[0].member, "");
  EXPECT_EQ(r.findings[0].message, "attested-training: input regression not admitted");
  EXPECT_EQ(r.findings[0].severity, Severity::high);  // the catalogue's level for the check
  EXPECT_EQ(r.findings[1].rule, "policy.datasets");
  EXPECT_EQ(r.findings[1].member, "input regression (sha256:b8a8)");
}

TEST(AdmitSarif, AnAdmittedArtifactHasNoResults) {
  policy::Decision d;
  d.subject = "m";
  d.results = {{"release-signature", "policy.signature", true, "signed by release"}};
  const auto log = nlohmann::json::parse(format_sarif({decision_report(d, "m")}, {}));
  EXPECT_TRUE(log["runs"][0]["results"].empty());
  const auto rejected =
      nlohmann::json::parse(format_sarif({decision_report(rejected_model(), "out/model")}, {}));
  const auto& results = rejected["runs"][0]["results"];
  ASSERT_EQ(results.size(), 2U);
  EXPECT_EQ(results[0]["ruleId"], "policy.provenance");
  EXPECT_EQ(results[0]["level"], "error");
  EXPECT_EQ(results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "out/model");
}

}  // namespace
}  // namespace mlsc::report
