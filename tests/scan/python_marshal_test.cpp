#include "scan/python_marshal.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace mlsc::scan::marshal {
namespace {

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// marshal.dumps((lambda x: (__import__('os').system('id'), x)[1]).__code__), CPython 3.11.
constexpr std::string_view kSystemLambda311 =
    "e30100000000000000000000000300000003000000f35600000097007401000000000000000000006401a6010000"
    "ab010000000000000000a00100000000000000000000000000000000000000006402a6010000ab01000000000000"
    "00007c006602640319000000000000000000530029044eda026f73da026964e9010000002902da0a5f5f696d706f"
    "72745f5fda0673797374656da901da0178730100000020fa083c737472696e673efa083c6c616d6264613e720a00"
    "000003000000732600000080008d7a9824d10f1fd40f1fd70f26d20f26a074d10f2cd40f2ca861d00e30b011d40e"
    "338000f300000000";

// def outer(x): def inner(y): return eval(y); return inner(x)  -- nested code in co_consts.
constexpr std::string_view kNested311 =
    "e30100000000000000000000000300000003000000f31e0000009700640184007d0102007c017c00a6010000ab01"
    "0000000000000000530029024e630100000000000000000000000300000013000000f32000000097007401000000"
    "000000000000007c00a6010000ab010000000000000000530029014e2901da046576616c2901da01797301000000"
    "20fa083c737472696e673eda05696e6e65727a146f757465722e3c6c6f63616c733e2e696e6e657208000000730d"
    "0000008000dd0f13904189778c77880ef300000000a9002902da01787206000000730200000020207205000000da"
    "056f75746572720a00000007000000731e0000008000f002010517f000010517f000010517e00b108835901189388c"
    "38804f7207000000";

// A builder for code objects in the older layouts, which no local interpreter writes.
class Builder {
 public:
  Builder& i32(std::int32_t v) {
    for (int i = 0; i < 4; ++i)
      s += static_cast<char>((static_cast<std::uint32_t>(v) >> (8 * i)) & 0xFF);
    return *this;
  }
  Builder& bytes(std::string_view b) {
    s += 's';
    i32(static_cast<std::int32_t>(b.size()));
    s += b;
    return *this;
  }
  Builder& str(std::string_view b, bool ref = false) {
    s += static_cast<char>(ref ? 'z' | 0x80 : 'z');
    s += static_cast<char>(b.size());
    s += b;
    return *this;
  }
  Builder& tuple(std::size_t n) {
    s += ')';
    s += static_cast<char>(n);
    return *this;
  }
  Builder& none() {
    s += 'N';
    return *this;
  }
  Builder& ref(std::int32_t i) {
    s += 'r';
    return i32(i);
  }
  // 3.0-3.7 (5 ints) or 3.8-3.10 (6 ints) code object with the given names, consts written by
  // `consts` (which must write one tuple).
  template <class Consts>
  Builder& code(int ints, std::vector<std::string> names, Consts consts) {
    s += 'c';
    for (int i = 0; i < ints; ++i) i32(0);
    bytes("\x64\x00\x53\x00");
    consts(*this);
    tuple(names.size());
    for (const auto& n : names) str(n);
    tuple(0).tuple(0).tuple(0);  // varnames, freevars, cellvars
    str("<string>").str("<lambda>");
    i32(1);
    return bytes("");
  }
  std::string s;
};

TEST(Marshal, ReadsCpython311LambdaAndItsNames) {
  const std::string raw = unhex(kSystemLambda311);
  auto r = summarize_code(as_bytes(raw));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->layout, "3.11+");
  EXPECT_EQ(r->code_objects, 1U);
  EXPECT_TRUE(has(r->names, "__import__"));
  EXPECT_TRUE(has(r->names, "system"));
  EXPECT_TRUE(has(r->strings, "os"));
  EXPECT_TRUE(has(r->strings, "id"));
  EXPECT_TRUE(has(r->code_names, "<lambda>"));
}

TEST(Marshal, FollowsNestedCodeObjects) {
  const std::string raw = unhex(kNested311);
  auto r = summarize_code(as_bytes(raw));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->code_objects, 2U);
  EXPECT_TRUE(has(r->names, "eval"));
  EXPECT_TRUE(has(r->code_names, "inner"));
  EXPECT_TRUE(has(r->code_names, "outer"));
}

TEST(Marshal, Reads38And30LayoutsWithReferences) {
  for (const int ints : {6, 5}) {
    Builder b;
    b.code(ints, {"popen"}, [](Builder& c) {
      c.tuple(2).str("os", /*ref=*/true).ref(0);  // the second constant is a back-reference
    });
    auto r = summarize_code(as_bytes(b.s));
    ASSERT_TRUE(r) << ints << ": " << r.error().describe();
    EXPECT_EQ(r->layout, ints == 6 ? "3.8-3.10" : "3.0-3.7");
    EXPECT_TRUE(has(r->names, "popen"));
    EXPECT_TRUE(has(r->strings, "os"));
  }
}

TEST(Marshal, RejectsWhatIsNotACodeObject) {
  EXPECT_FALSE(summarize_code(as_bytes(std::string_view("N"))));
  EXPECT_FALSE(summarize_code({}));
}

TEST(Marshal, TruncationNamesAnOffset) {
  const std::string raw = unhex(kSystemLambda311);
  for (std::size_t cut : {1UL, 10UL, 30UL, raw.size() / 2, raw.size() - 1}) {
    auto r = summarize_code(as_bytes(std::string_view(raw).substr(0, cut)));
    ASSERT_FALSE(r) << cut;
    EXPECT_TRUE(r.error().offset.has_value());
    EXPECT_LE(*r.error().offset, cut);
  }
}

TEST(Marshal, LyingCountsDoNotDriveAllocation) {
  Builder b;
  b.s = "c";
  for (int i = 0; i < 5; ++i) b.i32(0);
  b.s += 's';
  b.i32(0x7FFFFFFF);  // a 2 GiB co_code in a 30-byte input
  auto r = summarize_code(as_bytes(b.s));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("exceeds"), std::string::npos);
}

TEST(Marshal, DeepNestingIsBounded) {
  Builder b;
  b.s = "c";
  for (int i = 0; i < 5; ++i) b.i32(0);
  b.bytes("");
  for (int i = 0; i < 10000; ++i) b.tuple(1);
  b.none();
  auto r = summarize_code(as_bytes(b.s));
  ASSERT_FALSE(r);
}

TEST(Marshal, UndefinedReferenceIsAnError) {
  Builder b;
  b.code(5, {}, [](Builder& c) { c.tuple(1).ref(7); });
  EXPECT_FALSE(summarize_code(as_bytes(b.s)));
}

}  // namespace
}  // namespace mlsc::scan::marshal
