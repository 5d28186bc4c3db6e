#include "mlsc/report/sarif.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace mlsc::report {
namespace {

RuleCatalog two_rules() {
  return *RuleCatalog::parse(
      "- {id: pickle.dangerous-global, name: DangerousPickleGlobal, severity: critical, short: s, "
      "full: f, help: h}\n"
      "- {id: zip.encrypted, name: ZipEncrypted, severity: medium, short: s2, full: f2, help: "
      "h2}\n");
}

std::vector<FileReport> reports() {
  FileReport a;
  a.path = "models/my model.pt";
  a.findings.push_back(
      {Severity::critical, "pickle.dangerous-global", "imports os.system", "archive/data.pkl", 42});
  a.findings.push_back({Severity::low, "zip.encrypted", "low one", "", std::nullopt});
  FileReport b;
  b.path = "/abs/x.bin";
  b.findings.push_back({Severity::high, "brand.new-rule", "not catalogued", "", 7});
  FileReport c;
  c.path = "missing.pt";
  c.io_error = "No such file";
  return {a, b, c};
}

TEST(Sarif, ResultsPointAtTheirRulesWithGithubRequiredFields) {
  SarifOptions opt;
  opt.tool_version = "1.2.3";
  const auto doc = nlohmann::json::parse(format_sarif(reports(), opt, two_rules()));
  EXPECT_EQ(doc["version"], "2.1.0");
  const auto& run = doc["runs"][0];
  const auto& rules = run["tool"]["driver"]["rules"];
  ASSERT_EQ(rules.size(), 3U);  // two catalogued + one synthesised for the unknown rule
  EXPECT_EQ(run["tool"]["driver"]["semanticVersion"], "1.2.3");
  const auto& results = run["results"];
  ASSERT_EQ(results.size(), 3U);
  for (const auto& r : results) {
    EXPECT_EQ(rules[r["ruleIndex"].get<std::size_t>()]["id"], r["ruleId"]);
    EXPECT_EQ(r["locations"][0]["physicalLocation"]["region"]["startLine"], 1);
    EXPECT_FALSE(r["partialFingerprints"]["mlscFinding/v1"].get<std::string>().empty());
  }
  EXPECT_EQ(results[0]["level"], "error");
  EXPECT_EQ(results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "models/my%20model.pt");
  EXPECT_EQ(results[0]["locations"][0]["physicalLocation"]["region"]["byteOffset"], 42);
  EXPECT_EQ(results[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "archive/data.pkl");
  EXPECT_EQ(results[1]["level"], "note");
  EXPECT_EQ(results[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "file:///abs/x.bin");
  EXPECT_EQ(rules[0]["properties"]["security-severity"], "9.5");
  EXPECT_EQ(rules[0]["defaultConfiguration"]["level"], "error");
  const auto& inv = run["invocations"][0];
  EXPECT_FALSE(inv["executionSuccessful"].get<bool>());
  EXPECT_EQ(inv["toolExecutionNotifications"].size(), 1U);
}

TEST(Sarif, MinSeverityFiltersAndFingerprintsAreStable) {
  SarifOptions opt;
  opt.min_severity = Severity::high;
  const auto first = format_sarif(reports(), opt, two_rules());
  const auto doc = nlohmann::json::parse(first);
  EXPECT_EQ(doc["runs"][0]["results"].size(), 2U);
  EXPECT_EQ(first, format_sarif(reports(), opt, two_rules()));
}

}  // namespace
}  // namespace mlsc::report
