#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "format_test_util.hpp"
#include "mlsc/scan/scanners.hpp"
#include "scan/hf_repo.hpp"

namespace mlsc::scan {
namespace {

namespace fs = std::filesystem;
using testing::find_rule;

const Registry& registry() {
  static const Registry r = [] {
    Registry reg;
    reg.add(make_hf_json_scanner());
    return reg;
  }();
  return r;
}

class HfRepo : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mlsc-hf-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string put(const std::string& rel, const std::string& text) {
    const fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }

  FileReport scan_file_at(const std::string& path, const std::string& text) {
    return testing::scan_with(registry(), text, path);
  }

  fs::path dir_;
};

TEST_F(HfRepo, AutoMapNeedsTrustRemoteCodeAndItsFilesAreAnalysed) {
  const std::string cfg =
      R"({"auto_map": {"AutoModel": "modeling_a.A", "AutoConfig": "configuration_a.C"}})";
  const auto path = put("config.json", cfg);
  put("modeling_a.py", "from .util import go\nimport math\n");
  put("util.py", "import subprocess\ndef go():\n    subprocess.Popen(['sh'])\n");
  put("configuration_a.py", "class C: pass\n");
  const auto r = scan_file_at(path, cfg);
  const auto* trust = find_rule(r, "hf.trust-remote-code");
  ASSERT_NE(trust, nullptr);
  EXPECT_EQ(trust->severity, Severity::high);
  EXPECT_NE(trust->message.find("modeling_a.py"), std::string::npos);
  bool popen_at_line_3 = false;
  for (const auto& f : r.findings) {
    popen_at_line_3 |=
        f.rule == "hf.remote-code-process" &&
        f.message.find("util.py:3: remote code uses subprocess.Popen") != std::string::npos;
  }
  EXPECT_TRUE(popen_at_line_3);
}

TEST_F(HfRepo, MissingFilesOtherReposAndInMemoryConfigs) {
  const std::string cfg =
      R"({"auto_map": {"AutoModel": "modeling_b.B", "AutoTokenizer": ["o/r--tok.T", null]}})";
  const auto r = scan_file_at(put("config.json", cfg), cfg);
  EXPECT_TRUE(find_rule(r, "hf.remote-code-missing"));
  EXPECT_TRUE(find_rule(r, "hf.remote-code-other-repo"));
  EXPECT_TRUE(find_rule(testing::scan_with(registry(), cfg), "hf.remote-code-unchecked"));
}

TEST_F(HfRepo, CacheLinksAreFollowedOnlyInsideTheRepository) {
  const fs::path repo = dir_ / "hub" / "models--o--m";
  put("hub/models--o--m/blobs/abc", "{}");
  put("outside.txt", "secret");
  fs::create_directories(repo / "snapshots" / "rev");
  fs::create_symlink("../../blobs/abc", repo / "snapshots" / "rev" / "config.json");
  fs::create_symlink("../../../../outside.txt", repo / "snapshots" / "rev" / "leak.txt");
  EXPECT_EQ(hf::cache_repo_root(repo / "snapshots" / "rev" / "config.json"),
            fs::weakly_canonical(repo));
  EXPECT_FALSE(hf::cache_repo_root(dir_ / "outside.txt"));
  EXPECT_FALSE(hf::cache_link_escape((repo / "snapshots" / "rev" / "config.json").string()));
  EXPECT_TRUE(hf::cache_link_escape((repo / "snapshots" / "rev" / "leak.txt").string()));
}

}  // namespace
}  // namespace mlsc::scan
