#include <gtest/gtest.h>

#include "format_test_util.hpp"
#include "mlsc/scan/scanners.hpp"

namespace mlsc::scan {
namespace {

using testing::find_rule;
using testing::le64;

const Registry& registry() {
  static const Registry r = [] {
    Registry reg;
    reg.add(make_safetensors_scanner());
    return reg;
  }();
  return r;
}

std::string file(std::string header, std::size_t data_bytes) {
  while (header.size() % 8 != 0) header += ' ';
  return le64(header.size()) + header + std::string(data_bytes, '\x01');
}

FileReport scan(const std::string& bytes) {
  return testing::scan_with(registry(), bytes);
}

TEST(SafetensorsScanner, WellFormedFileHasOnlyTheSummary) {
  const auto r = scan(file(
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
      R"("b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]},"c":{"dtype":"F4","shape":[4],"data_offsets":[32,34]}})",
      34));
  ASSERT_EQ(r.format, "safetensors");
  ASSERT_EQ(r.findings.size(), 1U) << r.findings[0].rule;
  EXPECT_EQ(r.findings[0].rule, "safetensors.summary");
  EXPECT_NE(r.findings[0].message.find("3 tensors, 14 parameters"), std::string::npos)
      << r.findings[0].message;
  EXPECT_NE(r.findings[0].message.find("BF16 1 tensor (4)"), std::string::npos);
}

TEST(SafetensorsScanner, DuplicateKeysAreReportedWithTheirOffset) {
  const std::string h =
      R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  const auto r = scan(file(h, 1));
  const auto* f = find_rule(r, "safetensors.duplicate-key");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::high);
  EXPECT_EQ(*f->offset, 8 + h.rfind("\"a\""));
}

TEST(SafetensorsScanner, EachLayoutViolationHasItsOwnRule) {
  EXPECT_TRUE(find_rule(scan(file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4)),
                        "safetensors.size-mismatch"));
  EXPECT_TRUE(find_rule(scan(file(R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,4]}})", 4)),
                        "safetensors.unknown-dtype"));
  EXPECT_TRUE(find_rule(
      scan(file(
          R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
          6)),
      "safetensors.overlap"));
  EXPECT_TRUE(find_rule(scan(file(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})", 4)),
                        "safetensors.gap"));
  EXPECT_TRUE(find_rule(scan(file(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", 9)),
                        "safetensors.trailing-data"));
  EXPECT_TRUE(find_rule(scan(file(R"({"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}})", 4)),
                        "safetensors.offset-out-of-bounds"));
  EXPECT_TRUE(find_rule(scan(file(R"({"a":{"dtype":"U8","shape":[8],"data_offsets":[8,0]}})", 8)),
                        "safetensors.invalid-offsets"));
  EXPECT_TRUE(
      find_rule(scan(file(R"({"__metadata__":{"n":1}})", 0)), "safetensors.metadata-not-string"));
}

TEST(SafetensorsScanner, ShapeProductsThatOverflowAreCaughtNotWrapped) {
  // 2^32 * 2^32 elements wraps to 0 in 64 bits; 0 bytes would then "match" offsets [0,0].
  const auto r =
      scan(file(R"({"a":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0));
  EXPECT_TRUE(find_rule(r, "safetensors.malformed-entry"));
  // 2^61 F32 elements = 2^66 bits: the bit count overflows.
  const auto r2 =
      scan(file(R"({"a":{"dtype":"F32","shape":[2305843009213693952],"data_offsets":[0,0]}})", 0));
  EXPECT_TRUE(find_rule(r2, "safetensors.size-mismatch"));
}

TEST(SafetensorsScanner, HeaderBoundsAndJson) {
  EXPECT_TRUE(find_rule(scan(le64(1000) + "{}      "), "safetensors.header-out-of-bounds"));
  EXPECT_TRUE(find_rule(scan(le64(200'000'000) + "{}      "), "safetensors.header-too-large"));
  const auto bad = scan(le64(8) + "{\"a\":,} ");
  const auto* f = find_rule(bad, "safetensors.invalid-json");
  ASSERT_NE(f, nullptr);
  EXPECT_GE(*f->offset, 8U);
}

TEST(SafetensorsScanner, CodeInMetadataIsLowAndNamed) {
  const auto r = scan(file(
      R"j({"__metadata__":{"x":"import subprocess as sp; sp.run(['id'])","y":"A model for text"}})j",
      0));
  const auto* f = find_rule(r, "safetensors.metadata-code");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::low);
  EXPECT_NE(f->message.find("subprocess.run"), std::string::npos) << f->message;
  EXPECT_EQ(f->message.find("'y'"), std::string::npos);
}

TEST(SafetensorsScanner, TextIsNotTakenForSafetensors) {
  EXPECT_EQ(scan("abcdefgh{\"a\": 1}").format, "unknown");
}

}  // namespace
}  // namespace mlsc::scan
