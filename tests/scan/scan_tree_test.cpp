#include "mlsc/scan/scan_tree.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace mlsc::scan {
namespace {

namespace fs = std::filesystem;

class ScanTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("mlsc_tree_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "sub" / "deeper");
    std::ofstream(root_ / "b.txt") << "hello";
    std::ofstream(root_ / "sub" / "a.bin") << "x";
    std::ofstream(root_ / "sub" / "deeper" / "c") << "";
    fs::create_directory_symlink(root_ / "sub", root_ / "loop");
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(ScanTreeTest, ExpandsDirectoriesInStableOrderAndKeepsTheUsersPrefix) {
  auto targets = collect_targets({root_.string()});
  ASSERT_TRUE(targets.has_value());
  std::vector<std::string> names;
  for (const auto& t : *targets) names.push_back(t.display.substr(root_.string().size()));
  // The symlinked directory is not followed, so nothing is scanned twice.
  EXPECT_EQ(names, (std::vector<std::string>{"/b.txt", "/sub/a.bin", "/sub/deeper/c"}));
}

TEST_F(ScanTreeTest, MissingPathIsAnError) {
  auto targets = collect_targets({(root_ / "nope").string()});
  ASSERT_FALSE(targets.has_value());
  EXPECT_NE(targets.error().message.find("no such file"), std::string::npos);
}

TEST_F(ScanTreeTest, ScansInParallelAndKeepsOrder) {
  auto targets = collect_targets({root_.string(), (root_ / "b.txt").string()});
  ASSERT_TRUE(targets.has_value());
  const auto reports = scan_targets(*targets, ScanOptions{}, {});
  ASSERT_EQ(reports.size(), 4U);
  EXPECT_EQ(reports.back().path, (root_ / "b.txt").string());
  for (const auto& r : reports) EXPECT_TRUE(r.io_error.empty());
}

}  // namespace
}  // namespace mlsc::scan
