#include <gtest/gtest.h>

#include "format_test_util.hpp"
#include "mlsc/scan/scanners.hpp"
#include "scan/gguf_reader.hpp"

namespace mlsc::scan {
namespace {

using testing::find_rule;
using testing::le32;
using testing::le64;

const Registry& registry() {
  static const Registry r = [] {
    Registry reg;
    reg.add(make_gguf_scanner());
    return reg;
  }();
  return r;
}

FileReport scan(const std::string& bytes) {
  return testing::scan_with(registry(), bytes);
}

std::string str(std::string_view s) {
  return le64(s.size()) + std::string(s);
}

// A v3 file: `kvs` already encoded, one F32 tensor of `n` elements at offset 0.
std::string gguf(std::size_t n_kv, const std::string& kvs, std::uint64_t n = 8) {
  std::string out = "GGUF" + le32(3) + le64(1) + le64(n_kv) + kvs;
  out += str("t") + le32(1) + le64(n) + le32(0) + le64(0);
  while (out.size() % 32 != 0) out += '\0';
  return out + std::string(n * 4, '\0') + std::string((32 - n * 4 % 32) % 32, '\0');
}

std::string kv_str(std::string_view key, std::string_view value) {
  return str(key) + le32(8) + str(value);
}

TEST(GgufScanner, WellFormedFileIsSummarised) {
  const auto r = scan(gguf(1, kv_str("general.architecture", "llama")));
  ASSERT_EQ(r.format, "gguf");
  ASSERT_EQ(r.findings.size(), 1U) << r.findings[0].rule << ": " << r.findings[0].message;
  EXPECT_EQ(r.findings[0].rule, "gguf.summary");
  EXPECT_NE(r.findings[0].message.find("architecture llama, 1 tensors, 8 parameters"),
            std::string::npos)
      << r.findings[0].message;
}

TEST(GgufScanner, HostileCountsAreRejectedBeforeAllocation) {
  const auto r = scan("GGUF" + le32(3) + le64(0) + le64(1ULL << 62) + std::string(64, '\0'));
  const auto* f = find_rule(r, "gguf.count-overflow");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::high);
  EXPECT_EQ(*f->offset, 16U);
  EXPECT_TRUE(find_rule(scan("GGUF" + le32(3) + le64(0) + le64(1) + le64(1ULL << 40) + "key"),
                        "gguf.length-overflow"));
  // v1 counts are 32-bit.
  EXPECT_TRUE(find_rule(scan("GGUF" + le32(1) + le32(0) + le32(0xFFFFFFFF) + std::string(16, '\0')),
                        "gguf.count-overflow"));
}

TEST(GgufScanner, TensorInfoChecks) {
  std::string five = "GGUF" + le32(3) + le64(1) + le64(0) + str("t") + le32(5);
  for (int i = 0; i < 5; ++i) five += le64(2);
  five += le32(0) + le64(0);
  EXPECT_TRUE(find_rule(scan(five), "gguf.too-many-dims"));
  std::string huge = "GGUF" + le32(3) + le64(1) + le64(0) + str("t") + le32(2) + le64(1ULL << 62) +
                     le64(1ULL << 62) + le32(0) + le64(0);
  EXPECT_TRUE(find_rule(scan(huge), "gguf.element-overflow"));
}

TEST(GgufScanner, ChatTemplateFindingsPointIntoTheFile) {
  const std::string tpl = "{{ cycler.__init__.__globals__.os.popen('id').read() }}";
  const std::string kvs = kv_str("tokenizer.chat_template", tpl);
  const auto r = scan(gguf(1, kvs));
  const auto* f = find_rule(r, "jinja.dunder-access");
  ASSERT_NE(f, nullptr);
  const std::size_t template_start = 24 + kvs.size() - tpl.size();
  // The walk meets the outer access first: `.__globals__`, reported at its dot.
  EXPECT_EQ(*f->offset, template_start + tpl.find("__globals__") - 1);
}

TEST(GgufScanner, DuplicateTemplateKeysAreHigh) {
  const auto r = scan(gguf(2, kv_str("tokenizer.chat_template", "{{ x }}") +
                                  kv_str("tokenizer.chat_template", "{{ y }}")));
  const auto* f = find_rule(r, "gguf.duplicate-key");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::high);
}

TEST(GgufReader, TypeTraitsFollowGgml) {
  EXPECT_EQ(gguf::type_traits(12)->bytes, 144U);  // Q4_K
  EXPECT_EQ(gguf::type_traits(23)->bytes, 136U);  // IQ4_XS
  EXPECT_FALSE(gguf::type_traits(4));             // Q4_2, removed
  EXPECT_FALSE(gguf::type_traits(1000));
  gguf::TensorInfo t;
  t.n_dims = 2;
  t.dims = {33, 2, 1, 1};
  t.type = 8;  // Q8_0: rows must be whole blocks of 32
  EXPECT_FALSE(gguf::data_size(t));
  t.dims[0] = 64;
  EXPECT_EQ(*gguf::data_size(t), 4U * 34U);
}

}  // namespace
}  // namespace mlsc::scan
