#include "scan/python_literal.hpp"

#include <gtest/gtest.h>

namespace mlsc::scan {
namespace {

TEST(PyLiteral, ParsesNumpyHeader) {
  auto v = parse_py_literal("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }   ");
  ASSERT_TRUE(v.has_value()) << v.error().describe();
  ASSERT_NE(v->find("descr"), nullptr);
  EXPECT_EQ(v->find("descr")->string, "<f8");
  EXPECT_FALSE(v->find("fortran_order")->boolean);
  const auto* shape = v->find("shape");
  ASSERT_EQ(shape->items.size(), 2U);
  EXPECT_EQ(shape->items[1].integer, 4);
}

TEST(PyLiteral, ParsesStructuredDescr) {
  auto v = parse_py_literal("[('a', '<i4'), ('b', '|O', (2,)), (('t', 'c'), '<U3')]");
  ASSERT_TRUE(v.has_value());
  ASSERT_EQ(v->items.size(), 3U);
  EXPECT_EQ(v->items[1].items[2].items[0].integer, 2);
}

TEST(PyLiteral, RejectsHostileInputWithOffset) {
  auto unterminated = parse_py_literal("{'descr': '<f8");
  ASSERT_FALSE(unterminated.has_value());
  EXPECT_TRUE(unterminated.error().offset.has_value());
  EXPECT_FALSE(parse_py_literal("__import__('os')").has_value());
  EXPECT_FALSE(parse_py_literal("{'a': 1} trailing").has_value());
}

TEST(PyLiteral, BoundsNestingDepth) {
  std::string deep(100000, '[');
  auto v = parse_py_literal(deep);
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message.find("deep"), std::string::npos);
}

TEST(PyLiteral, FlagsIntegerOverflow) {
  auto v = parse_py_literal("(99999999999999999999999,)");
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->items[0].integer_overflow);
}

}  // namespace
}  // namespace mlsc::scan
