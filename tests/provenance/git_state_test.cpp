// Reading a repository's commit, origin and dirty state with libgit2, against repositories made
// with the git command line.
#include "mlsc/provenance/git_state.hpp"

#include <gtest/gtest.h>

#include "sign/pki_fixture.hpp"

namespace mlsc::provenance {
namespace {

using sign::testing::read_file;
using sign::testing::run_quiet;
using sign::testing::ScratchDir;
using sign::testing::write_file;
namespace fs = std::filesystem;

std::string git(const fs::path& repo) {
  return "git -C '" + repo.string() +
         "' -c user.name=t -c user.email=t@example.test -c commit.gpgsign=false ";
}

// A repository with one commit of train.py and a .gitignore for *.log.
fs::path make_repo(const fs::path& dir) {
  const fs::path repo = dir / "code";
  fs::create_directories(repo);
  EXPECT_TRUE(run_quiet("git init -q '" + repo.string() + "'"));
  write_file(repo / "train.py", "print('train')\n");
  write_file(repo / ".gitignore", "*.log\n");
  EXPECT_TRUE(run_quiet(git(repo) + "add -A && " + git(repo) + "commit -q -m one"));
  return repo;
}

std::string head_of(const fs::path& repo, const fs::path& dir) {
  EXPECT_TRUE(run_quiet(git(repo) + "rev-parse HEAD > '" + (dir / "head").string() + "'"));
  std::string head = read_file(dir / "head");
  while (!head.empty() && head.back() == '\n') head.pop_back();
  return head;
}

TEST(GitState, CleanTreeGivesHeadAndNoRemote) {
  ScratchDir dir;
  const auto repo = make_repo(dir.path());
  write_file(repo / "run.log", "ignored\n");  // ignored files do not make a tree dirty
  auto s = read_git_state(repo);
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(s->commit, head_of(repo, dir.path()));
  EXPECT_EQ(s->commit.size(), 40u);
  EXPECT_FALSE(s->dirty()) << s->dirty_paths.front();
  EXPECT_TRUE(s->remote_url.empty());
  EXPECT_EQ(code_uri(*s), "git+file://" + fs::canonical(repo).string() + "@" + s->commit);
}

TEST(GitState, ModifiedStagedDeletedAndUntrackedFilesAreDirty) {
  ScratchDir dir;
  const auto repo = make_repo(dir.path());
  write_file(repo / "train.py", "print('changed')\n");
  write_file(repo / "new/helper.py", "x = 1\n");
  auto s = read_git_state(repo);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->dirty_paths, (std::vector<std::string>{"new/helper.py", "train.py"}));
  ASSERT_TRUE(run_quiet(git(repo) + "checkout -q -- train.py && rm -r '" + (repo / "new").string() +
                        "' && " + git(repo) + "rm -q --cached .gitignore"));
  auto staged = read_git_state(repo);
  ASSERT_TRUE(staged);
  // Removed from the index but still on disk: staged deletion and an untracked file.
  EXPECT_EQ(staged->dirty_paths, (std::vector<std::string>{".gitignore"}));
}

TEST(GitState, FindsTheRepositoryFromASubfolderAndReadsOrigin) {
  ScratchDir dir;
  const auto repo = make_repo(dir.path());
  ASSERT_TRUE(run_quiet(git(repo) + "remote add origin https://example.test/org/code.git"));
  fs::create_directories(repo / "sub");
  auto s = read_git_state(repo / "sub");
  ASSERT_TRUE(s) << s.error().describe();
  EXPECT_EQ(s->remote_url, "https://example.test/org/code.git");
  EXPECT_EQ(code_uri(*s), "git+https://example.test/org/code.git@" + s->commit);
}

TEST(GitState, RefusesNonRepositoriesAndRepositoriesWithoutACommit) {
  ScratchDir dir;
  auto none = read_git_state(dir.path());
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("not inside a git repository"), std::string::npos);
  ASSERT_TRUE(run_quiet("git init -q '" + (dir.path() / "empty").string() + "'"));
  auto empty = read_git_state(dir.path() / "empty");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("no commit"), std::string::npos);
}

}  // namespace
}  // namespace mlsc::provenance
