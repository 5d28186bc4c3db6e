#include "mlsc/report/rules.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace mlsc::report {
namespace {

TEST(RuleCatalog, BuiltinParsesAndEveryEntryIsComplete) {
  const auto& catalog = RuleCatalog::builtin();
  ASSERT_GT(catalog.rules().size(), 20U);
  const std::regex id_shape("[a-z0-9]+(\\.[a-z0-9-]+)?");
  const std::regex name_shape("[A-Z][A-Za-z0-9]+");
  for (const auto& r : catalog.rules()) {
    EXPECT_TRUE(std::regex_match(r.id, id_shape)) << r.id;
    EXPECT_TRUE(std::regex_match(r.name, name_shape)) << r.id << ": " << r.name;
    EXPECT_FALSE(r.full_description.empty()) << r.id;
    EXPECT_NE(r.severity, Severity::none) << r.id;
  }
  ASSERT_NE(catalog.find("pickle.dangerous-global"), nullptr);
  EXPECT_EQ(catalog.find("pickle.dangerous-global")->severity, Severity::critical);
  EXPECT_NE(catalog.find("unscannable"), nullptr);
  EXPECT_EQ(catalog.find("no.such-rule"), nullptr);
}

TEST(RuleCatalog, RejectsIncompleteDuplicateAndBadSeverity) {
  const std::string ok = "- {id: a.b, name: AB, severity: low, short: s, full: f, help: h}\n";
  ASSERT_TRUE(RuleCatalog::parse(ok));
  EXPECT_FALSE(RuleCatalog::parse(ok + ok));
  EXPECT_FALSE(RuleCatalog::parse("- {id: a.b, name: AB, severity: low, short: s, full: f}\n"));
  EXPECT_FALSE(
      RuleCatalog::parse("- {id: a.b, name: AB, severity: awful, short: s, full: f, help: h}\n"));
  EXPECT_FALSE(RuleCatalog::parse("id: a.b\n"));
  EXPECT_FALSE(RuleCatalog::parse("- [unclosed\n"));
  const auto parsed = RuleCatalog::parse(ok);
  EXPECT_EQ(parsed->find("a.b")->help, "h");
}

}  // namespace
}  // namespace mlsc::report
