#include "mlsc/report/scan_report.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace mlsc::report {
namespace {

std::vector<FileReport> sample() {
  FileReport bad;
  bad.path = "models/evil.pt";
  bad.format = "pytorch-zip";
  bad.size = 10;
  bad.findings.push_back(
      {Severity::critical, "pickle.dangerous-global", "os.system called", "archive/data.pkl", 42});
  bad.findings.push_back({Severity::low, "zip.note", "minor", "", std::nullopt});
  bad.imports.push_back({"os", "system", "dangerous", "archive/data.pkl", 40});
  FileReport ok;
  ok.path = "models/ok.npy";
  ok.format = "numpy";
  ok.size = 5;
  return {bad, ok};
}

TEST(ScanReport, JsonHasTheDocumentedShape) {
  const auto files = sample();
  const auto doc = nlohmann::json::parse(format_json(files, summarize(files, 0.5)));
  ASSERT_EQ(doc["files"].size(), 2U);
  const auto& f = doc["files"][0];
  EXPECT_EQ(f["path"], "models/evil.pt");
  EXPECT_EQ(f["format"], "pytorch-zip");
  EXPECT_EQ(f["max_severity"], "critical");
  EXPECT_EQ(f["findings"][0]["rule"], "pickle.dangerous-global");
  EXPECT_EQ(f["findings"][0]["member"], "archive/data.pkl");
  EXPECT_EQ(f["findings"][0]["offset"], 42);
  EXPECT_TRUE(f["findings"][1]["offset"].is_null());
  EXPECT_EQ(f["imports"][0]["verdict"], "dangerous");
  EXPECT_EQ(doc["files"][1]["max_severity"], "none");
  EXPECT_EQ(doc["summary"]["files"], 2);
  EXPECT_EQ(doc["summary"]["findings_by_severity"]["critical"], 1);
}

TEST(ScanReport, JsonSurvivesInvalidUtf8FromHostileFiles) {
  auto files = sample();
  files[0].findings[0].message = std::string("bad \xff\xfe name");
  nlohmann::json doc;
  EXPECT_NO_THROW(doc = nlohmann::json::parse(format_json(files, summarize(files, 0))));
  EXPECT_EQ(doc["files"].size(), 2U);
}

TEST(ScanReport, ExitCodes) {
  auto files = sample();
  EXPECT_EQ(exit_code(summarize(files, 0), Severity::high), 1);
  files[0].findings.resize(1);
  files[0].findings[0].severity = Severity::medium;
  EXPECT_EQ(exit_code(summarize(files, 0), Severity::high), 0);
  EXPECT_EQ(exit_code(summarize(files, 0), Severity::medium), 1);
  files[1].io_error = "permission denied";
  EXPECT_EQ(exit_code(summarize(files, 0), Severity::high), 2);
}

TEST(ScanReport, TextHidesCleanFilesAndLowFindingsByDefault) {
  const auto files = sample();
  TextOptions opt;
  opt.min_severity = Severity::medium;
  const auto text = format_text(files, summarize(files, 0), opt);
  EXPECT_NE(text.find("models/evil.pt [pytorch-zip] CRITICAL"), std::string::npos);
  EXPECT_NE(text.find("archive/data.pkl@42: os.system called"), std::string::npos);
  EXPECT_EQ(text.find("zip.note"), std::string::npos);
  EXPECT_EQ(text.find("models/ok.npy"), std::string::npos);
  EXPECT_NE(text.find("Scanned 2 files"), std::string::npos);
}

}  // namespace
}  // namespace mlsc::report
