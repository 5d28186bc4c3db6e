// CVSS base scores for vectors whose scores NVD publishes, and two worked by hand.
#include "mlsc/vuln/cvss.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace mlsc::vuln {
namespace {

double score(const std::string& vector) {
  auto s = parse_cvss(vector);
  EXPECT_TRUE(s.has_value()) << vector << (s ? "" : ": " + s.error().message);
  return s && s->base_score ? *s->base_score : -1.0;
}

TEST(Cvss, V3BaseScores) {
  const std::vector<std::pair<std::string, double>> cases = {
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},
      {"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8},
      {"CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", 5.4},
      {"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N", 4.3},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N", 5.3},
      {"CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", 5.5},
      {"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:H/A:N", 5.9},
      {"CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.5},
      {"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:N/I:N/A:H", 4.9},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0},
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0},
      {"CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", 6.5},
      {"CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},
      // By hand: ISS = 0.22, impact = 6.42 * 0.22 = 1.4124,
      // exploitability = 8.22 * 0.2 * 0.44 * 0.27 * 0.62 = 0.12109, sum 1.5335 -> 1.6.
      {"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6},
      // By hand, scope changed: ISS = 1 - 0.44^3 = 0.914816,
      // impact = 7.52 * (0.914816 - 0.029) - 3.25 * 0.894816^15 = 6.6613 - 0.6137 = 6.0477,
      // exploitability = 8.22 * 0.62 * 0.77 * 0.68 (PR:L, scope changed) * 0.85 = 2.2682,
      // 1.08 * (6.0477 + 2.2682) = 8.9812 -> Roundup 9.0.
      {"CVSS:3.1/AV:A/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.0},
      // Temporal and environmental metrics do not change the base score.
      {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:C/CR:L", 9.8},
  };
  for (const auto& [vector, expected] : cases) {
    EXPECT_DOUBLE_EQ(score(vector), expected) << vector;
  }
}

TEST(Cvss, V2BaseScores) {
  EXPECT_DOUBLE_EQ(score("AV:N/AC:L/Au:N/C:P/I:P/A:P"), 7.5);
  EXPECT_DOUBLE_EQ(score("AV:N/AC:M/Au:N/C:N/I:P/A:N"), 4.3);
  EXPECT_DOUBLE_EQ(score("AV:N/AC:L/Au:N/C:C/I:C/A:C"), 10.0);
  EXPECT_DOUBLE_EQ(score("AV:L/AC:L/Au:N/C:P/I:N/A:N"), 2.1);
  EXPECT_DOUBLE_EQ(score("(AV:N/AC:L/Au:N/C:N/I:N/A:P)"), 5.0);
  EXPECT_EQ(parse_cvss("AV:N/AC:L/Au:N/C:P/I:P/A:P")->version, "2.0");
}

TEST(Cvss, V4IsValidatedNotScored) {
  auto s = parse_cvss("CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->version, "4.0");
  EXPECT_FALSE(s->base_score.has_value());
  EXPECT_FALSE(parse_cvss("CVSS:4.0/AV:N/AC:L").has_value());
}

TEST(Cvss, RejectsMalformedVectors) {
  for (const char* bad : {"", "CVSS:3.1/", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
                          "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                          "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                          "CVSS:3.1/AV:NN/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:2.5/AV:N",
                          "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", "AV:N/AC:L/Au:N",
                          "CVSS:3.1/AVN/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}) {
    EXPECT_FALSE(parse_cvss(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(Cvss, RoundupAndRatings) {
  EXPECT_DOUBLE_EQ(cvss31_roundup(4.02), 4.1);
  EXPECT_DOUBLE_EQ(cvss31_roundup(4.0), 4.0);
  EXPECT_DOUBLE_EQ(cvss31_roundup(4.000001), 4.0);  // below the 1e-5 resolution
  EXPECT_EQ(cvss_severity(0.0), Severity::none);
  EXPECT_EQ(cvss_severity(0.1), Severity::low);
  EXPECT_EQ(cvss_severity(3.9), Severity::low);
  EXPECT_EQ(cvss_severity(4.0), Severity::medium);
  EXPECT_EQ(cvss_severity(6.9), Severity::medium);
  EXPECT_EQ(cvss_severity(7.0), Severity::high);
  EXPECT_EQ(cvss_severity(8.9), Severity::high);
  EXPECT_EQ(cvss_severity(9.0), Severity::critical);
}

}  // namespace
}  // namespace mlsc::vuln
