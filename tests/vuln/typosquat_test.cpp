// Typosquat detection: positives of every kind, negatives (popular names, short names, unrelated
// names), and agreement of the index with the linear scan on the real popular-package list.
#include "mlsc/vuln/typosquat.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace mlsc::vuln {
namespace {

TyposquatIndex small_index() {
  return TyposquatIndex::build({{"boto3", 1},
                                {"urllib3", 3},
                                {"requests", 6},
                                {"numpy", 10},
                                {"six", 15},
                                {"python-dateutil", 20},
                                {"PyYAML", 30},
                                {"Django", 40},
                                {"matplotlib", 50},
                                {"flask", 80},
                                {"scikit-learn", 100},
                                {"boto", 200},
                                {"colorama", 1500}});
}

TEST(Typosquat, PositivesOfEveryKind) {
  const auto index = small_index();
  const std::vector<std::tuple<std::string, std::string, SquatKind, Severity>> cases = {
      {"reqeusts", "requests", SquatKind::transposition, Severity::high},
      {"requestss", "requests", SquatKind::doubled, Severity::high},
      {"reqests", "requests", SquatKind::dropped, Severity::high},
      {"requesrs", "requests", SquatKind::keyboard, Severity::high},  // r is next to t
      {"nunpy", "numpy", SquatKind::keyboard, Severity::high},        // n is next to m
      {"rnatplotlib", "matplotlib", SquatKind::confusable, Severity::high},
      {"djang0", "django", SquatKind::confusable, Severity::high},
      {"f1ask", "flask", SquatKind::confusable, Severity::high},
      {"urIlib3", "urllib3", SquatKind::confusable, Severity::high},  // I/l, normalised to i
      {"pythondateutil", "python-dateutil", SquatKind::separator, Severity::high},
      {"python-date-util", "python-dateutil", SquatKind::separator, Severity::high},
      {"scikitlearn", "scikit-learn", SquatKind::separator, Severity::high},
      {"python-requests", "requests", SquatKind::affix, Severity::high},
      {"requests-py", "requests", SquatKind::affix, Severity::high},
      {"yaml", "pyyaml", SquatKind::affix, Severity::high},
      {"python-yaml", "pyyaml", SquatKind::affix, Severity::high},
      {"colorarna", "colorama", SquatKind::confusable, Severity::medium},  // rank > 1000
      {"djangox", "django", SquatKind::insertion, Severity::medium},
      {"djangp", "django", SquatKind::keyboard, Severity::high},
      {"djanqo", "django", SquatKind::substitution, Severity::medium},
      {"colorame", "colorama", SquatKind::substitution, Severity::low},
  };
  for (const auto& [name, target, kind, severity] : cases) {
    const auto matches = index.check(name);
    ASSERT_FALSE(matches.empty()) << name;
    EXPECT_EQ(matches[0].target, target) << name;
    EXPECT_EQ(matches[0].kind, kind) << name << ": " << to_string(matches[0].kind);
    EXPECT_EQ(matches[0].severity, severity) << name;
    EXPECT_FALSE(matches[0].detail.empty());
  }
}

TEST(Typosquat, Negatives) {
  const auto index = small_index();
  for (const char* name : {
           "requests",         // the project itself
           "Requests",         // any spelling of it
           "python_dateutil",  // PEP 503 makes it the same project
           "boto",             // popular itself, although one edit from boto3
           "sox",              // one edit from "six", but three-letter names are not judged
           "totally-unrelated",
           "numpy-financial-extras",
           "",
       }) {
    EXPECT_TRUE(index.check(name).empty()) << name;
  }
  EXPECT_EQ(index.rank_of("PyYAML"), 30U);
  EXPECT_FALSE(index.rank_of("reqeusts").has_value());
}

TEST(Typosquat, KeyboardAndSkeletonHelpers) {
  for (const auto& [a, b] : std::vector<std::pair<char, char>>{{'q', 'w'},
                                                               {'q', 'a'},
                                                               {'a', 'z'},
                                                               {'s', 'z'},
                                                               {'t', 'r'},
                                                               {'m', 'n'},
                                                               {'1', 'q'},
                                                               {'g', 'b'},
                                                               {'h', 'b'},
                                                               {'p', 'l'},
                                                               {'0', 'o'}}) {
    EXPECT_TRUE(keyboard_neighbours(a, b)) << a << b;
    EXPECT_TRUE(keyboard_neighbours(b, a)) << b << a;
  }
  for (const auto& [a, b] : std::vector<std::pair<char, char>>{
           {'q', 's'}, {'a', 'p'}, {'g', 'n'}, {'a', 'a'}, {'z', 'd'}, {'-', 'a'}}) {
    EXPECT_FALSE(keyboard_neighbours(a, b)) << a << b;
  }
  EXPECT_EQ(confusable_skeleton("rnatp1otlib"), confusable_skeleton("matplotlib"));
  EXPECT_EQ(confusable_skeleton("matplotlib"), "matplotllb");  // i and 1 read as l
  EXPECT_EQ(confusable_skeleton("vvheel"), "wheel");
  EXPECT_EQ(confusable_skeleton("c1ick"), confusable_skeleton("click"));
  EXPECT_EQ(confusable_skeleton("5ix"), confusable_skeleton("six"));
}

TEST(Typosquat, TsvParsing) {
  auto index = TyposquatIndex::parse_tsv("rank\tname\n1\tboto3\n2\tPackaging\n\n3\turllib3\n");
  ASSERT_TRUE(index.has_value());
  EXPECT_EQ(index->size(), 3U);
  EXPECT_EQ(index->rank_of("packaging"), 2U);
  EXPECT_FALSE(TyposquatIndex::parse_tsv("rank\tname\nx\ty\n").has_value());
  EXPECT_FALSE(TyposquatIndex::parse_tsv("1 boto3\n").has_value());
  EXPECT_FALSE(TyposquatIndex::parse_tsv("rank\tname\n").has_value());
  EXPECT_FALSE(TyposquatIndex::parse_tsv("1\t-bad-\n").has_value());
}

// Perturbations of real popular names: the index must find exactly what the linear scan finds.
TEST(Typosquat, IndexAgreesWithLinearScanOnTheRealList) {
  const std::string path = std::string(MLSC_SHARED_DIR) + "/data/pypi-top-packages.tsv";
  if (!std::ifstream(path)) GTEST_SKIP() << "no " << path;
  auto index = TyposquatIndex::load_tsv(path);
  ASSERT_TRUE(index.has_value()) << index.error().describe();
  EXPECT_GT(index->size(), 14000U);
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> names;
  std::getline(in, line);
  while (std::getline(in, line) && names.size() < 300)
    names.push_back(line.substr(line.find('\t') + 1));
  std::mt19937 rng(5);
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-";
  std::size_t flagged = 0;
  for (const auto& n : names) {
    for (int k = 0; k < 4; ++k) {
      std::string m = n;
      const std::size_t i = rng() % m.size();
      switch (k) {
        case 0:
          m[i] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          m.insert(m.begin() + static_cast<long>(i), alphabet[rng() % alphabet.size()]);
          break;
        case 2:
          m.erase(i, 1);
          break;
        default:
          if (i + 1 < m.size()) std::swap(m[i], m[i + 1]);
          break;
      }
      const auto fast = index->check(m);
      const auto slow = index->check_linear(m);
      ASSERT_EQ(fast.size(), slow.size()) << m;
      for (std::size_t j = 0; j < fast.size(); ++j) {
        EXPECT_EQ(fast[j].target, slow[j].target) << m;
        EXPECT_EQ(fast[j].kind, slow[j].kind) << m;
      }
      flagged += fast.empty() ? 0 : 1;
    }
  }
  EXPECT_GT(flagged, 600U);  // most single edits of popular names are flagged
}

}  // namespace
}  // namespace mlsc::vuln
