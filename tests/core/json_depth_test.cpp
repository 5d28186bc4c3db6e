#include "mlsc/core/json_depth.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mlsc {
namespace {

TEST(JsonDepth, CountsBracketsOutsideStringsOnly) {
  EXPECT_FALSE(json_too_deep_at(R"({"a": [1, {"b": 2}]})", 3));
  EXPECT_EQ(json_too_deep_at(R"({"a": [1, {"b": 2}]})", 2), 10U);
  // Brackets inside strings, also after escaped quotes and backslashes, do not count.
  EXPECT_FALSE(json_too_deep_at(R"({"k": "[[[{{{\"[[[\\"})", 1));
  EXPECT_EQ(json_too_deep_at(R"({"k": "\\", "v": [[1]]})", 2), 18U);
}

TEST(JsonDepth, ClosingBracketsNeverGoBelowZero) {
  // Stray closers must not bank depth for later openers.
  const std::string text = std::string(100, ']') + std::string(3, '[');
  EXPECT_FALSE(json_too_deep_at(text, 3));
  EXPECT_EQ(json_too_deep_at(text, 2), 102U);
}

}  // namespace
}  // namespace mlsc
