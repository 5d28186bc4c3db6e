// OSV record parsing and the schema's range evaluation (introduced/fixed/last_affected/limit,
// explicit versions), with expectations worked out by hand from the OSV schema text.
#include "mlsc/vuln/osv.hpp"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

namespace mlsc::vuln {
namespace {

// One PyPI record whose single affected entry has `ranges_json` and `versions_json`.
OsvRecord record_with(const std::string& ranges_json, const std::string& versions_json = "[]") {
  const std::string text = R"({"id": "TEST-1", "modified": "2024-01-01T00:00:00Z",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "Demo_Pkg"},
                  "ranges": )" +
                           ranges_json + R"(, "versions": )" + versions_json + "}]}";
  auto r = parse_osv_json(text);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().describe());
  return r ? std::move(*r) : OsvRecord{};
}

void expect_table(const OsvRecord& record, const std::vector<std::pair<std::string, bool>>& table) {
  ASSERT_EQ(record.affected.size(), 1U);
  for (const auto& [version, expected] : table) {
    EXPECT_EQ(affects(record.affected[0], Version::parse(version)), expected) << version;
  }
}

std::string ecosystem_range(const std::string& events) {
  return R"([{"type": "ECOSYSTEM", "events": )" + events + "}]";
}

TEST(OsvEvaluation, FixedRange) {
  // Everything before 1.0.2 (the schema's "fixed vulnerability example").
  expect_table(record_with(ecosystem_range(R"([{"introduced": "0"}, {"fixed": "1.0.2"}])")),
               {{"0", true},
                {"0.0.dev0", true},
                {"1.0.1", true},
                {"1.0.2a1", true},  // a pre-release of the fix precedes it
                {"1.0.2", false},
                {"1.0.2.post1", false},
                {"2.0", false}});
}

TEST(OsvEvaluation, MultipleRanges) {
  // [1.0.0, 1.0.2) and [3.0.0, 3.2.5)
  expect_table(record_with(ecosystem_range(R"([{"introduced": "1.0.0"}, {"fixed": "1.0.2"},
                                              {"introduced": "3.0.0"}, {"fixed": "3.2.5"}])")),
               {{"0.9", false},
                {"1.0", true},  // == 1.0.0
                {"1.0.1", true},
                {"1.0.2", false},
                {"2.5", false},
                {"3.0.0", true},
                {"3.2.4.post9", true},
                {"3.2.5", false},
                {"4.0", false}});
}

TEST(OsvEvaluation, EventsAreSortedBeforeEvaluation) {
  // The same two ranges written out of order.
  expect_table(record_with(ecosystem_range(R"([{"fixed": "3.2.5"}, {"introduced": "3.0.0"},
                                              {"fixed": "1.0.2"}, {"introduced": "1.0.0"}])")),
               {{"0.9", false}, {"1.0.1", true}, {"2.0", false}, {"3.1", true}, {"3.3", false}});
}

TEST(OsvEvaluation, LastAffected) {
  // Up to and including 2.1.214; later versions are assumed fixed.
  expect_table(
      record_with(ecosystem_range(R"([{"introduced": "0"}, {"last_affected": "2.1.214"}])")),
      {{"1.0", true},
       {"2.1.214", true},
       {"2.1.214+local", false},  // sorts after 2.1.214
       {"2.1.214.post1", false},
       {"2.1.215", false}});
}

TEST(OsvEvaluation, LimitEvents) {
  // introduced 0, limit 2.0: everything below the limit.
  expect_table(record_with(ecosystem_range(R"([{"introduced": "0"}, {"limit": "2.0"}])")),
               {{"1.9", true}, {"2.0", false}, {"3.0", false}});
  // A fix and a re-introduction under a limit.
  expect_table(record_with(ecosystem_range(R"([{"introduced": "1.0"}, {"fixed": "1.5"},
                                              {"introduced": "1.8"}, {"limit": "2.0"}])")),
               {{"0.9", false}, {"1.2", true}, {"1.6", false}, {"1.9", true}, {"2.1", false}});
  // Several limits: below any one of them is enough.
  expect_table(record_with(ecosystem_range(R"([{"introduced": "0"}, {"limit": "1.0"},
                                              {"limit": "3.0"}])")),
               {{"0.5", true}, {"2.0", true}, {"3.0", false}, {"3.5", false}});
  // limit "*" is infinity.
  expect_table(record_with(ecosystem_range(R"([{"introduced": "1.0"}, {"limit": "*"}])")),
               {{"0.5", false}, {"1.0", true}, {"999", true}});
}

TEST(OsvEvaluation, IntroducedZeroPrecedesEverything) {
  // "0" sorts before pre-releases of 0 and before legacy versions too.
  expect_table(record_with(ecosystem_range(R"([{"introduced": "0"}, {"fixed": "1.0"}])")),
               {{"0a1", true}, {"0.dev0", true}, {"french toast", true}, {"1.0", false}});
  // An introduced version other than "0" does not reach legacy versions, which sort first.
  expect_table(record_with(ecosystem_range(R"([{"introduced": "0.1"}, {"fixed": "1.0"}])")),
               {{"french toast", false}, {"0.1", true}});
}

TEST(OsvEvaluation, LocalVersions) {
  expect_table(record_with(ecosystem_range(R"([{"introduced": "0"}, {"fixed": "1.13.1"}])")),
               {{"1.13.0+cu117", true}, {"1.13.0a0+gitunknown", true}, {"1.13.1+cpu", false}});
  // A local build of the fixed release contains the fix.
  expect_table(record_with(ecosystem_range(R"([{"introduced": "0"}, {"fixed": "1.13.0"}])")),
               {{"1.13.0+cu117", false}, {"1.12.1+cu116", true}});
}

TEST(OsvEvaluation, ExplicitVersionsList) {
  // No ranges: only the listed versions, compared as PEP 440 versions.
  expect_table(record_with("[]", R"(["1.0", "2.0-beta1", "3.0.x-odd"])"), {{"1.0.0", true},
                                                                           {"1", true},
                                                                           {"2.0b1", true},
                                                                           {"2.0", false},
                                                                           {"1.5", false},
                                                                           {"3.0.x-odd", true},
                                                                           {"3.0.X-ODD", true}});
}

TEST(OsvEvaluation, GitRangesAreIgnoredButVersionsCount) {
  const auto r = record_with(R"([{"type": "GIT", "repo": "https://example.invalid/x",
      "events": [{"introduced": "0"}, {"fixed": "f3c803b3ade485a45f12b6d6617595350c0f03e2"}]}])",
                             R"(["0.9"])");
  expect_table(r, {{"0.9", true}, {"0.8", false}});
  ASSERT_EQ(r.notes.size(), 1U);
  EXPECT_NE(r.notes[0].find("GIT"), std::string::npos);
}

TEST(OsvEvaluation, SemverRanges) {
  const auto r = record_with(R"([{"type": "SEMVER", "events": [{"introduced": "1.0.0-alpha"},
                                                                {"fixed": "1.0.0"}]}])");
  // SemVer precedence: 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-beta < 1.0.0-rc.1 < 1.0.0
  expect_table(r, {{"1.0.0-alpha", true},
                   {"1.0.0-alpha.1", true},
                   {"1.0.0-beta", true},
                   {"1.0.0-rc.1", true},
                   {"1.0.0", false},
                   {"0.9.9", false}});
}

TEST(OsvEvaluation, LowestFixAboveInstalled) {
  const auto r = record_with(ecosystem_range(R"([{"introduced": "0"}, {"fixed": "2.3.8"},
                                                {"introduced": "3.0.0"}, {"fixed": "3.0.1"}])"));
  const auto& a = r.affected[0];
  EXPECT_EQ(lowest_fix_above(a, Version::parse("2.0")), "2.3.8");
  EXPECT_EQ(lowest_fix_above(a, Version::parse("3.0.0")), "3.0.1");
  EXPECT_FALSE(lowest_fix_above(a, Version::parse("3.0.1")).has_value());
  const auto unfixed =
      record_with(ecosystem_range(R"([{"introduced": "0"}, {"last_affected": "1.11.0"}])"));
  EXPECT_FALSE(lowest_fix_above(unfixed.affected[0], Version::parse("1.0")).has_value());
}

TEST(OsvParse, FieldsAndFiltering) {
  const std::string yaml = R"(id: PYSEC-0000-1
details: 'First sentence that is long enough to stand on its own as a summary line here.
  Second sentence.'
aliases:
- CVE-2020-0001
- GHSA-xxxx-yyyy-zzzz
modified: '2021-07-05T00:01:25Z'
published: '2018-06-27T12:29:00Z'
severity:
- type: CVSS_V3
  score: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H
affected:
- package: {name: Py.YAML, ecosystem: PyPI, purl: pkg:pypi/pyyaml}
  ranges:
  - type: ECOSYSTEM
    events: [{introduced: '0'}, {fixed: '5.1'}]
  versions: ['3.01', 5.1b1]
- package: {name: left-pad, ecosystem: npm}
  ranges: [{type: SEMVER, events: [{introduced: '0'}]}]
)";
  auto r = parse_osv_yaml(yaml);
  ASSERT_TRUE(r.has_value()) << r.error().describe();
  EXPECT_EQ(r->id, "PYSEC-0000-1");
  EXPECT_EQ(r->aliases, (std::vector<std::string>{"CVE-2020-0001", "GHSA-xxxx-yyyy-zzzz"}));
  EXPECT_EQ(r->summary,
            "First sentence that is long enough to stand on its own as a summary line here.");
  ASSERT_EQ(r->affected.size(), 1U);  // the npm entry is dropped
  EXPECT_EQ(r->affected[0].normalized_name, "py-yaml");
  EXPECT_TRUE(affects(r->affected[0], Version::parse("5.1b1")));
  const auto s = assess_severity(*r, r->affected[0]);
  ASSERT_TRUE(s.score.has_value());
  EXPECT_DOUBLE_EQ(*s.score, 9.8);
  EXPECT_EQ(s.level, Severity::critical);
  EXPECT_EQ(s.source, "CVSS_V3");
}

TEST(OsvParse, SeverityFallbacks) {
  auto db_specific =
      parse_osv_json(R"({"id": "GHSA-1", "database_specific": {"severity": "MODERATE"},
    "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "versions": ["1"]}]})");
  ASSERT_TRUE(db_specific.has_value());
  EXPECT_EQ(assess_severity(*db_specific, db_specific->affected[0]).level, Severity::medium);
  // Entry-level severity wins over the record's.
  auto entry = parse_osv_json(R"({"id": "X-2",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
    "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "versions": ["1"],
                  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N"}]}]})");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(assess_severity(*entry, entry->affected[0]).level, Severity::medium);  // 4.3
  // A v4 vector alone is kept but not scored.
  auto v4 = parse_osv_json(R"({"id": "X-3",
    "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N"}],
    "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "versions": ["1"]}]})");
  ASSERT_TRUE(v4.has_value());
  const auto s4 = assess_severity(*v4, v4->affected[0]);
  EXPECT_FALSE(s4.level.has_value());
  EXPECT_FALSE(s4.vector.empty());
  // Nothing at all.
  auto none = parse_osv_json(
      R"({"id": "X-4", "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}}]})");
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(assess_severity(*none, none->affected[0]).level.has_value());
}

TEST(OsvParse, MalformedRecordsAreErrors) {
  const std::vector<std::string> bad = {
      "",
      "[]",
      R"({"affected": []})",  // no id
      R"({"id": "X", "affected": {}})",
      R"({"id": "X", "affected": [{"package": {"ecosystem": "PyPI"}}]})",  // no name
      R"({"id": "X", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}]}]})",
      R"({"id": "X", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": 0}]}]}]})",
      R"({"id": "X", "aliases": "CVE-1"})",
      R"({"id": "X", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"}, "versions": [1]}]})",
  };
  for (const auto& text : bad) EXPECT_FALSE(parse_osv_json(text).has_value()) << text;
  EXPECT_FALSE(parse_osv_yaml("id: [unclosed").has_value());
  const auto syntax = parse_osv_json(R"({"id": "X",, })");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_TRUE(syntax.error().offset.has_value());
}

TEST(OsvParse, YamlAliasBombIsBounded) {
  // Each level doubles the expansion; the node budget stops it long before memory runs out.
  std::string yaml = "a0: &a0 [x, x]\n";
  for (int i = 1; i < 40; ++i) {
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) +
            ", *a" + std::to_string(i - 1) + "]\n";
  }
  yaml += "id: X\n";
  const auto r = parse_osv_yaml(yaml);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("too many nodes"), std::string::npos);
  std::string deep = "id: X\nx: " + std::string(500, '[') + std::string(500, ']') + "\n";
  EXPECT_FALSE(parse_osv_yaml(deep).has_value());
}

}  // namespace
}  // namespace mlsc::vuln
