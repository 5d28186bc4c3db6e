#include <gtest/gtest.h>

#include <string>

#include "mlsc/scan/scanner.hpp"
#include "mlsc/scan/scanners.hpp"

namespace mlsc::scan {
namespace {

std::string npy(std::string header, std::string data, char major = 1) {
  std::string out = std::string("\x93NUMPY", 6) + major + '\0';
  while ((out.size() + 2 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

const Registry& numpy_only() {
  static const Registry r = [] {
    Registry reg;
    reg.add(make_numpy_scanner());
    return reg;
  }();
  return r;
}

FileReport scan(const std::string& bytes) {
  return scan_bytes("t.npy", as_bytes(bytes), ScanOptions{}, numpy_only());
}

bool has_rule(const FileReport& r, std::string_view rule) {
  for (const auto& f : r.findings) {
    if (f.rule == rule) return true;
  }
  return false;
}

TEST(NumpyScanner, NumericArrayIsClean) {
  const auto r = scan(
      npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", std::string(32, '\0')));
  EXPECT_EQ(r.format, "numpy");
  EXPECT_TRUE(r.findings.empty());
}

TEST(NumpyScanner, SizeMismatchesAreReported) {
  const std::string hdr = "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }";
  EXPECT_TRUE(has_rule(scan(npy(hdr, std::string(8, '\0'))), "numpy.truncated"));
  EXPECT_TRUE(has_rule(scan(npy(hdr, std::string(24, '\0'))), "numpy.trailing-data"));
}

TEST(NumpyScanner, StructuredAndUnicodeItemSizes) {
  const auto r =
      scan(npy("{'descr': [('a', '<U3'), ('b', '<f4', (2,))], 'fortran_order': False, "
               "'shape': (1,), }",
               std::string(12 + 8, '\0')));
  EXPECT_TRUE(r.findings.empty());
}

TEST(NumpyScanner, ObjectArrayWhosePayloadIsNotAPickleIsUnscannable) {
  const auto r = scan(npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "junk"));
  EXPECT_TRUE(has_rule(r, "numpy.object-array"));
  EXPECT_TRUE(has_rule(r, "unscannable"));
  EXPECT_EQ(r.max_severity(), Severity::high);
}

TEST(NumpyScanner, MalformedHeaders) {
  EXPECT_TRUE(has_rule(scan(npy("{'descr': '<f8'", "")), "numpy.malformed"));
  EXPECT_TRUE(has_rule(scan(npy("__import__('os').system('x')", "")), "numpy.malformed"));
  EXPECT_TRUE(has_rule(scan(std::string("\x93NUMPY\x01\x00\xff\xff", 10)), "numpy.malformed"));
  EXPECT_TRUE(has_rule(scan(std::string("\x93NUMPY\x09\x00", 8)), "numpy.malformed"));
}

}  // namespace
}  // namespace mlsc::scan
