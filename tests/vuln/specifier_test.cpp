// PEP 440 version specifiers: the examples in the PEP's "Version specifiers" section, worked by
// hand, plus pip's rules for pre-releases in specifier sets.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "mlsc/vuln/pep440.hpp"

namespace mlsc::vuln {
namespace {

bool clause(const std::string& spec, const std::string& version) {
  auto s = Specifier::parse(spec);
  EXPECT_TRUE(s.has_value()) << spec;
  return s && s->contains(Version::parse(version));
}

bool set_contains(const std::string& spec, const std::string& version,
                  std::optional<bool> pre = std::nullopt) {
  auto s = SpecifierSet::parse(spec);
  EXPECT_TRUE(s.has_value()) << spec;
  return s && s->contains(Version::parse(version), pre);
}

TEST(Specifier, ClauseTable) {
  const std::vector<std::tuple<std::string, std::string, bool>> cases = {
      // ~=2.2 is >=2.2, ==2.*
      {"~=2.2", "2.2", true},
      {"~=2.2", "2.9.1", true},
      {"~=2.2", "3.0", false},
      {"~=2.2", "2.1", false},
      // ~=1.4.5 is >=1.4.5, ==1.4.*
      {"~=1.4.5", "1.4.5", true},
      {"~=1.4.5", "1.4.9", true},
      {"~=1.4.5", "1.5.0", false},
      // ~=2.2.post3 is >=2.2.post3, ==2.*
      {"~=2.2.post3", "2.2.post3", true},
      {"~=2.2.post3", "2.3", true},
      {"~=2.2.post3", "2.2", false},
      // ~=1.4.5a4 is >=1.4.5a4, ==1.4.*
      {"~=1.4.5a4", "1.4.5a4", true},
      {"~=1.4.5a4", "1.4.5", true},
      {"~=1.4.5a4", "1.5", false},
      // ~=2.2.0 is >=2.2.0, ==2.2.*
      {"~=2.2.0", "2.2.1", true},
      {"~=2.2.0", "2.3", false},
      // Exact match with zero padding; the candidate's local label is ignored
      {"==1.1", "1.1.0", true},
      {"==1.1", "1.1.post1", false},
      {"==1.1", "1.1a1", false},
      {"==1.1.post1", "1.1.post1", true},
      {"==1.0", "1.0+abc", true},
      {"==1.0+abc", "1.0+abc", true},
      {"==1.0+abc", "1.0+def", false},
      {"==1.0+abc", "1.0", false},
      // Prefix matching: the pre-release has an implied '.', the release is zero-padded
      {"==1.1.*", "1.1.post1", true},
      {"==1.1.*", "1.1a1", true},
      {"==1.1.*", "1.1", true},
      {"==1.1.*", "1.10", false},
      {"==1.0.*", "1", true},
      {"==1.*", "10.0", false},
      {"==1!1.*", "1!1.5", true},
      {"==1!1.*", "1.5", false},
      {"!=1.1.*", "1.1.5", false},
      {"!=1.1.*", "1.2", true},
      {"!=1.1", "1.1.0", false},
      {"!=1.1", "1.1.1", true},
      // Inclusive ordered comparisons use the public version
      {"<=1.0", "1.0+local", true},
      {">=1.0", "1.0+local", true},
      {"<=1.0", "1.0.post1", false},
      {">=1.0", "1.0rc1", false},
      // Exclusive ordered comparisons: PEP 440's rules on pre, post and local
      {">1.7", "1.7.1", true},
      {">1.7", "1.7.0.post1", false},
      {">1.7", "1.7+local", false},
      {">1.7.post2", "1.7.1", true},
      {">1.7.post2", "1.7.0.post3", true},
      {">1.7.post2", "1.7.0", false},
      {"<3.0", "3.0rc1", false},
      {"<3.0", "2.9", true},
      {"<3.0rc2", "3.0rc1", true},
      {"<3.0", "3.0.dev1", false},
      {"<3", "2.99", true},
      // Arbitrary equality compares text (case-insensitively), not versions
      {"===1.0", "1.0", true},
      {"===1.0", "1.0.0", false},
      {"===foobar", "FooBar", true},
      // Legacy versions satisfy nothing but != and ===
      {">=0", "french toast", false},
      {"!=1.0", "french toast", true},
  };
  for (const auto& [spec, version, expected] : cases) {
    EXPECT_EQ(clause(spec, version), expected) << version << " in " << spec;
  }
}

TEST(Specifier, SetsAndPrereleases) {
  EXPECT_TRUE(set_contains(">=1.0,<2.0", "1.5"));
  EXPECT_FALSE(set_contains(">=1.0,<2.0", "2.0"));
  EXPECT_TRUE(set_contains(">= 1.0 , != 1.5.* , < 2", "1.4.9"));
  EXPECT_FALSE(set_contains(">= 1.0 , != 1.5.* , < 2", "1.5.3"));
  // Pre-releases: excluded unless asked for or named by a clause.
  EXPECT_FALSE(set_contains(">=1.0", "2.0a1"));
  EXPECT_TRUE(set_contains(">=1.0", "2.0a1", true));
  EXPECT_TRUE(set_contains(">=1.0a1", "2.0a1"));
  EXPECT_TRUE(set_contains("==2.0a1", "2.0a1"));
  EXPECT_FALSE(set_contains("", "2.0a1"));
  EXPECT_TRUE(set_contains("", "2.0"));
  EXPECT_FALSE(set_contains(">=1.0", "1.0.dev1", false));
}

TEST(Specifier, PinnedVersion) {
  EXPECT_EQ(SpecifierSet::parse("==1.2.3")->pinned(), "1.2.3");
  EXPECT_EQ(SpecifierSet::parse("===1.2.3")->pinned(), "1.2.3");
  EXPECT_FALSE(SpecifierSet::parse("==1.2.*")->pinned().has_value());
  EXPECT_FALSE(SpecifierSet::parse(">=1.2")->pinned().has_value());
  EXPECT_FALSE(SpecifierSet::parse("==1.2,!=1.3")->pinned().has_value());
  EXPECT_EQ(SpecifierSet::parse(" >=1.0 ,<2 ")->str(), ">=1.0,<2");
}

TEST(Specifier, RejectsMalformedClauses) {
  for (const char* bad :
       {"~=1", "<1.0+local", ">=1.0+local", "~=1.0+local", "==1.0a1.*", "==1.0.post1.*", "=>1.0",
        "1.0", ">=", "== ", "==1.0,", ",==1.0", "===a b", ">=1.*", "==french toast"}) {
    EXPECT_FALSE(SpecifierSet::parse(bad).has_value()) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace mlsc::vuln
