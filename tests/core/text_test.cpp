// The shared text helpers: trimming, ASCII lowering, strict UTF-8 and one-line quoting.
#include <gtest/gtest.h>

#include <string>

#include "mlsc/core/text.hpp"

namespace mlsc {
namespace {

TEST(Text, TrimStripsAsciiSpaceOrTheGivenCharacters) {
  EXPECT_EQ(trim(" \t\r\n\f\vname==1.0 \n"), "name==1.0");
  EXPECT_EQ(trim("   "), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("--x--", "-"), "x");
  EXPECT_EQ(trim("\xC2\xA0x"), "\xC2\xA0x");  // U+00A0 is not ASCII space: kept
}

TEST(Text, AsciiLowerLeavesOtherBytesAlone) {
  EXPECT_EQ(ascii_lower("PyYAML-6.0_Ab"), "pyyaml-6.0_ab");
  EXPECT_EQ(ascii_lower("\xC3\x84Z"), "\xC3\x84z");
}

TEST(Text, Utf8IsStrict) {
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong, three bytes
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(is_valid_utf8("\x80"));              // a lone continuation byte
  EXPECT_EQ(utf8_sequence_length("\xE2\x82\xAC", 0), 3U);
  EXPECT_EQ(sanitize_utf8("a\xFF"
                          "b"),
            "a\xEF\xBF\xBD"
            "b");
}

TEST(Text, PrintableCutsAndMasksControlCharacters) {
  EXPECT_EQ(printable("os\nsystem", 20), "os?system");
  EXPECT_EQ(printable("abcdef", 3), "abc...");
  EXPECT_EQ(printable("abc", 3), "abc");
}

}  // namespace
}  // namespace mlsc
