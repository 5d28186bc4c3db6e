// Dependency confusion: config parsing, public-name lookups, pip.conf/.env parsing and the
// findings for mixed-index setups.
#include "mlsc/vuln/confusion.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace mlsc::vuln {
namespace {

namespace fs = std::filesystem;

ConfusionConfig config() {
  auto c = ConfusionConfig::parse_yaml(
      "internal: [acme-utils, Acme_Core, 'acme-secret-*']\n"
      "private_index: https://pypi.acme.internal/simple/\n");
  EXPECT_TRUE(c.has_value());
  return c ? *c : ConfusionConfig{};
}

const Finding* find(const std::vector<FileReport>& reports, const std::string& rule,
                    const std::string& member) {
  for (const auto& r : reports) {
    for (const auto& f : r.findings) {
      if (f.rule == rule && f.member == member) return &f;
    }
  }
  return nullptr;
}

TEST(Confusion, ConfigAndInternalNames) {
  const auto c = config();
  EXPECT_EQ(c.internal_names, (std::vector<std::string>{"acme-utils", "acme-core"}));
  EXPECT_EQ(c.internal_prefixes, (std::vector<std::string>{"acme-secret-"}));
  EXPECT_TRUE(c.is_internal("acme-core"));
  EXPECT_TRUE(c.is_internal("acme-secret-sauce"));
  EXPECT_FALSE(c.is_internal("acme"));
  EXPECT_FALSE(ConfusionConfig::parse_yaml("internal: acme").has_value());
  EXPECT_FALSE(ConfusionConfig::parse_yaml("[1, 2]").has_value());
  EXPECT_FALSE(ConfusionConfig::parse_yaml("internal: ['bad name']").has_value());
}

TEST(Confusion, PublicIndexLookups) {
  const auto index = PublicIndex::from_names(
      {"Requests", "acme_utils", "acme-secret-x", "acme-secret-y", "zzz", "acme-secret-x"});
  EXPECT_EQ(index.size(), 5U);  // duplicates merged
  EXPECT_TRUE(index.contains("requests"));
  EXPECT_TRUE(index.contains("ACME.utils"));
  EXPECT_FALSE(index.contains("acme-core"));
  std::size_t total = 0;
  const auto examples = index.with_prefix("acme-secret-", 1, &total);
  EXPECT_EQ(total, 2U);
  EXPECT_EQ(examples, (std::vector<std::string>{"acme-secret-x"}));
}

TEST(Confusion, IndexClassification) {
  const auto c = config();
  EXPECT_EQ(classify_index("https://pypi.org/simple", c), IndexKind::public_index);
  EXPECT_EQ(classify_index("https://user:pw@pypi.org/simple/", c), IndexKind::public_index);
  EXPECT_EQ(classify_index("https://files.pythonhosted.org/packages", c), IndexKind::public_index);
  EXPECT_EQ(classify_index("https://pypi.acme.internal/simple", c), IndexKind::private_index);
  EXPECT_EQ(classify_index("https://pypi.org.evil.example/simple", c), IndexKind::private_index);
  EXPECT_EQ(classify_index("http://10.0.0.5:8080/simple", c), IndexKind::private_index);
}

TEST(Confusion, PipConfAndEnvFiles) {
  const auto conf = parse_pip_conf(
      "[global]\n"
      "index-url = https://pypi.acme.internal/simple\n"
      "extra-index-url =\n"
      "    https://pypi.org/simple\n"
      "    https://other.example/simple\n"
      "timeout = 60\n"
      "[freeze]\n"
      "extra_index_url = https://ignored.example/simple\n"
      "[install]\n"
      "no_index = true\n");
  ASSERT_EQ(conf.size(), 4U);
  EXPECT_EQ(conf[0].kind, IndexOption::Kind::index_url);
  EXPECT_EQ(conf[1].url, "https://pypi.org/simple");
  EXPECT_EQ(conf[1].line, 3U);
  EXPECT_EQ(conf[2].url, "https://other.example/simple");
  EXPECT_EQ(conf[3].kind, IndexOption::Kind::no_index);
  const auto env = parse_env_file(
      "# settings\n"
      "export PIP_EXTRA_INDEX_URL=\"https://u:tok@pypi.acme.internal/simple https://x.example/s\"\n"
      "PIP_INDEX_URL='https://pypi.org/simple'\n"
      "OTHER=1\n");
  ASSERT_EQ(env.size(), 3U);
  EXPECT_EQ(env[0].kind, IndexOption::Kind::extra_index_url);
  EXPECT_EQ(env[0].line, 2U);
  EXPECT_EQ(env[1].url, "https://x.example/s");
  EXPECT_EQ(env[2].kind, IndexOption::Kind::index_url);
}

class ConfusionTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("mlsc_confusion_" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "svc");
  }
  void TearDown() override { fs::remove_all(root_); }
  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  fs::path root_;
};

TEST_F(ConfusionTree, MixedIndexRequirements) {
  write("svc/requirements.txt",
        "--extra-index-url https://deploy:s3cret@pypi.acme.internal/simple\n"
        "acme-utils>=1.0\n"
        "requests==2.31.0 --hash=sha256:abc\n"
        "numpy==1.26.0\n"
        "pkg @ https://example.invalid/pkg.whl\n");
  const auto index = PublicIndex::from_names({"acme-utils", "requests", "acme-secret-x"});
  const auto reports = check_confusion(root_.string(), "internal.yaml", config(), &index);
  const auto* mixed = find(reports, "vuln.mixed-index", "");
  ASSERT_NE(mixed, nullptr);
  EXPECT_EQ(mixed->severity, Severity::high);
  EXPECT_EQ(mixed->message.find("s3cret"), std::string::npos) << "credentials leaked";
  const auto* internal = find(reports, "vuln.unpinned-in-mixed-index", "acme-utils");
  ASSERT_NE(internal, nullptr);
  EXPECT_EQ(internal->severity, Severity::critical);
  const auto* unhashed = find(reports, "vuln.unpinned-in-mixed-index", "numpy");
  ASSERT_NE(unhashed, nullptr);
  EXPECT_EQ(unhashed->severity, Severity::high);
  EXPECT_NE(unhashed->message.find("without --hash"), std::string::npos);
  EXPECT_EQ(find(reports, "vuln.unpinned-in-mixed-index", "requests"), nullptr);
  EXPECT_EQ(find(reports, "vuln.unpinned-in-mixed-index", "pkg"), nullptr);
  // Internal names against the public list.
  EXPECT_NE(find(reports, "vuln.internal-name-public", "acme-utils"), nullptr);
  EXPECT_NE(find(reports, "vuln.internal-name-public", "acme-secret-*"), nullptr);
  const auto* unclaimed = find(reports, "vuln.internal-name-unclaimed", "acme-core");
  ASSERT_NE(unclaimed, nullptr);
  EXPECT_EQ(unclaimed->severity, Severity::info);
}

TEST_F(ConfusionTree, SinglePrivateIndexIsFine) {
  write("requirements.txt", "-i https://pypi.acme.internal/simple\nacme-utils>=1.0\nnumpy\n");
  const auto reports = check_confusion(root_.string(), "internal.yaml", config(), nullptr);
  EXPECT_TRUE(reports.empty() ||
              std::all_of(reports.begin(), reports.end(),
                          [](const FileReport& r) { return r.findings.empty(); }));
}

TEST_F(ConfusionTree, PipConfAppliesToRequirementsInTheTree) {
  write("pip.conf", "[global]\nextra-index-url = https://pypi.acme.internal/simple\n");
  write("requirements/base.txt", "acme-core==1.2\n");
  write("constraints.txt", "flask>=2\n");
  write("README.txt", "flask\n");  // not a requirements file
  const auto reports = check_confusion(root_.string(), "internal.yaml", config(), nullptr);
  EXPECT_NE(find(reports, "vuln.mixed-index", ""), nullptr);
  const auto* core = find(reports, "vuln.unpinned-in-mixed-index", "acme-core");
  ASSERT_NE(core, nullptr);
  EXPECT_EQ(core->severity, Severity::critical);  // internal, pinned but unhashed
  EXPECT_NE(find(reports, "vuln.unpinned-in-mixed-index", "flask"), nullptr);
  for (const auto& r : reports) EXPECT_EQ(r.path.find("README"), std::string::npos);
}

TEST_F(ConfusionTree, TwoPrivateIndexesAreMedium) {
  write(".env",
        "PIP_INDEX_URL=https://pypi.acme.internal/simple\n"
        "PIP_EXTRA_INDEX_URL=https://mirror.acme.internal/simple\n");
  const auto reports = check_confusion(root_.string(), "internal.yaml", config(), nullptr);
  const auto* mixed = find(reports, "vuln.mixed-index", "");
  ASSERT_NE(mixed, nullptr);
  EXPECT_EQ(mixed->severity, Severity::medium);
}

}  // namespace
}  // namespace mlsc::vuln
