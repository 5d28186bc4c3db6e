// The OSV database loader (folder, zip, single file; withdrawn, duplicate and broken records),
// the audit built on it, and a load of the whole shared PyPI advisory database.
#include "mlsc/vuln/osv_db.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "mlsc/report/rules.hpp"
#include "mlsc/vuln/audit.hpp"

namespace mlsc::vuln {
namespace {

namespace fs = std::filesystem;

const char* kYamlRecord = R"(id: PYSEC-TEST-1
summary: Remote code execution in demo before 2.0 when loading untrusted input files.
aliases: [CVE-2099-0001]
modified: '2024-01-01T00:00:00Z'
affected:
- package: {name: Demo-Pkg, ecosystem: PyPI}
  ranges:
  - type: ECOSYSTEM
    events: [{introduced: '0'}, {fixed: '1.5'}, {introduced: '1.8'}, {fixed: '2.0'}]
)";

const char* kJsonRecord = R"({"id": "GHSA-test-0002", "modified": "2024-02-01T00:00:00Z",
  "aliases": ["CVE-2099-0002"], "summary": "Denial of service.",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
  "affected": [{"package": {"ecosystem": "PyPI", "name": "demo_pkg"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"},
                                                            {"last_affected": "1.9"}]}]}]})";

const char* kWithdrawn = R"({"id": "GHSA-gone", "withdrawn": "2024-03-01T00:00:00Z",
  "affected": [{"package": {"ecosystem": "PyPI", "name": "demo-pkg"}, "versions": ["1.0"]}]})";

const char* kNpmOnly = R"({"id": "GHSA-npm", "affected": [{"package": {"ecosystem": "npm",
  "name": "demo-pkg"}, "versions": ["1.0"]}]})";

class OsvFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("mlsc_osv_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    write("vulns/demo-pkg/PYSEC-TEST-1.yaml", kYamlRecord);
    write("vulns/demo-pkg/nested/GHSA-test-0002.json", kJsonRecord);
    write("vulns/demo-pkg/GHSA-gone.json", kWithdrawn);
    write("vulns/other/GHSA-npm.json", kNpmOnly);
    write("vulns/broken/BAD-1.json", "{\"id\": ");
    write("vulns/README.md", "not a record");
  }
  void TearDown() override { fs::remove_all(root_); }
  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  fs::path root_;
};

TEST_F(OsvFolder, LoadsRecursivelyAndSkipsWhatItShould) {
  auto db = OsvDatabase::load(root_.string());
  ASSERT_TRUE(db.has_value()) << db.error().describe();
  const auto& st = db->stats();
  EXPECT_EQ(st.files, 5U);
  EXPECT_EQ(st.records, 2U);
  EXPECT_EQ(st.withdrawn, 1U);
  EXPECT_EQ(st.other_ecosystem, 1U);
  EXPECT_EQ(st.errors, 1U);
  ASSERT_EQ(st.error_samples.size(), 1U);
  EXPECT_NE(st.error_samples[0].find("BAD-1.json"), std::string::npos);
  EXPECT_TRUE(db->knows("Demo.Pkg"));

  const auto hits = db->query("DEMO_pkg", Version::parse("1.2"));
  ASSERT_EQ(hits.size(), 2U);
  EXPECT_EQ(hits[0].record->id, "GHSA-test-0002");
  EXPECT_FALSE(hits[0].fixed.has_value());            // last_affected only
  EXPECT_EQ(hits[0].severity.level, Severity::high);  // 7.5
  EXPECT_EQ(hits[1].record->id, "PYSEC-TEST-1");
  EXPECT_EQ(hits[1].fixed, "1.5");
  EXPECT_EQ(db->query("demo-pkg", Version::parse("1.6")).size(), 1U);  // only last_affected 1.9
  EXPECT_EQ(db->query("demo-pkg", Version::parse("1.9.1"))[0].fixed, "2.0");
  EXPECT_TRUE(db->query("demo-pkg", Version::parse("2.0")).empty());
  EXPECT_TRUE(db->query("unknown", Version::parse("1.0")).empty());
}

TEST_F(OsvFolder, ZipExportAndSingleFile) {
  const fs::path zip = root_ / "all.zip";
  {
    std::unique_ptr<archive, decltype(&archive_write_free)> a(archive_write_new(),
                                                              archive_write_free);
    archive_write_set_format_zip(a.get());
    ASSERT_EQ(archive_write_open_filename(a.get(), zip.c_str()), ARCHIVE_OK);
    for (const auto& [name, text] :
         std::vector<std::pair<std::string, std::string>>{{"PYSEC-TEST-1.yaml", kYamlRecord},
                                                          {"GHSA-test-0002.json", kJsonRecord},
                                                          {"GHSA-gone.json", kWithdrawn},
                                                          {"notes.txt", "x"}}) {
      std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(),
                                                                      archive_entry_free);
      archive_entry_set_pathname(e.get(), name.c_str());
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_perm(e.get(), 0644);
      archive_entry_set_size(e.get(), static_cast<la_int64_t>(text.size()));
      archive_write_header(a.get(), e.get());
      archive_write_data(a.get(), text.data(), text.size());
    }
  }
  auto db = OsvDatabase::load(zip.string());
  ASSERT_TRUE(db.has_value()) << db.error().describe();
  EXPECT_EQ(db->size(), 2U);
  EXPECT_EQ(db->stats().withdrawn, 1U);
  auto single = OsvDatabase::load((root_ / "vulns/demo-pkg/PYSEC-TEST-1.yaml").string());
  ASSERT_TRUE(single.has_value());
  EXPECT_EQ(single->size(), 1U);
  EXPECT_FALSE(OsvDatabase::load((root_ / "missing").string()).has_value());
  EXPECT_FALSE(OsvDatabase::load((root_ / "vulns/README.md").string()).has_value());
}

TEST_F(OsvFolder, DuplicateIdsKeepTheNewest) {
  OsvDatabase db;
  auto older = parse_osv_json(kJsonRecord);
  ASSERT_TRUE(older.has_value());
  auto newer = *older;
  newer.modified = "2025-01-01T00:00:00Z";
  newer.summary = "newer";
  db.add(std::move(newer));
  db.add(std::move(*older));
  EXPECT_EQ(db.size(), 1U);
  EXPECT_EQ(db.records()[0].summary, "newer");
  EXPECT_EQ(db.stats().duplicates, 1U);
}

TEST_F(OsvFolder, AuditFindingsUseCataloguedRules) {
  auto db = OsvDatabase::load(root_.string());
  ASSERT_TRUE(db.has_value());
  const auto inv =
      inventory_from_requirements("demo-pkg==1.2\nrequests>=2\nreqeusts==1.0\n", "r.txt");
  const auto squats = TyposquatIndex::build({{"requests", 6}});
  const auto result = audit(inv, *db, &squats);
  EXPECT_EQ(result.vulnerability_count(), 2U);
  EXPECT_EQ(result.vulnerable_packages(), 1U);
  const auto report = to_file_report(result);
  EXPECT_EQ(report.path, "r.txt");
  std::size_t unpinned = 0, vulns = 0, typos = 0;
  for (const auto& f : report.findings) {
    EXPECT_NE(report::RuleCatalog::builtin().find(f.rule), nullptr) << f.rule;
    unpinned += f.rule == "vuln.unpinned-requirement";
    vulns += f.rule == "vuln.known-vulnerability";
    typos += f.rule == "vuln.typosquat";
  }
  EXPECT_EQ(unpinned, 1U);
  EXPECT_EQ(vulns, 2U);
  EXPECT_EQ(typos, 1U);
  // The unscored advisory is reported at the documented default level.
  EXPECT_EQ(result.packages[0].vulnerabilities[1].severity, kUnscoredSeverity);
  EXPECT_EQ(result.max_severity(), Severity::high);
  const auto json = format_audit_json(result, *db, {});
  EXPECT_NE(json.find("\"fixed\": \"1.5\""), std::string::npos);
  const auto text = format_audit_text(result, *db, {});
  EXPECT_NE(text.find("PYSEC-TEST-1"), std::string::npos);
}

TEST(OsvDatabaseShared, LoadsTheWholePypiAdvisoryDatabase) {
  const std::string path = std::string(MLSC_SHARED_DIR) + "/data/osv-pypi";
  if (!fs::exists(path)) GTEST_SKIP() << "no " << path;
  auto db = OsvDatabase::load(path);
  ASSERT_TRUE(db.has_value()) << db.error().describe();
  const auto& st = db->stats();
  EXPECT_EQ(st.files, 2661U);
  EXPECT_EQ(st.errors, 0U) << (st.error_samples.empty() ? "" : st.error_samples[0]);
  EXPECT_EQ(st.records + st.withdrawn, 2661U);
  // PyYAML 5.3: PYSEC-2020-96 (fixed 5.3.1) and PYSEC-2021-142 (fixed 5.4), checked by hand
  // against vulns/pyyaml/*.yaml.
  const auto hits = db->query("PyYAML", Version::parse("5.3"));
  ASSERT_EQ(hits.size(), 2U);
  EXPECT_EQ(hits[0].record->id, "PYSEC-2020-96");
  EXPECT_EQ(hits[0].fixed, "5.3.1");
  EXPECT_EQ(hits[1].record->id, "PYSEC-2021-142");
  EXPECT_EQ(hits[1].fixed, "5.4");
  EXPECT_TRUE(db->query("pyyaml", Version::parse("5.4")).empty());
  // py 1.11.0 is the last affected version of PYSEC-2022-42969.
  EXPECT_EQ(db->query("py", Version::parse("1.11.0")).size(), 1U);
  EXPECT_TRUE(db->query("py", Version::parse("1.11.1")).empty());
  std::printf("loaded %zu records from %zu files (%.1f MB) in %.3f s\n", st.records, st.files,
              static_cast<double>(st.bytes) / 1e6, st.seconds);
}

}  // namespace
}  // namespace mlsc::vuln
