#include "mlsc/core/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mlsc {
namespace {

std::string decode_to_string(std::string_view text, Base64Options opts = {}) {
  auto r = base64_decode(text, opts);
  if (!r) return "ERROR: " + r.error().message;
  return {r->begin(), r->end()};
}

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(as_bytes(plain)), encoded);
    EXPECT_EQ(decode_to_string(encoded), plain);
  }
}

TEST(Base64, RoundTripsEveryByteValueAndLength) {
  std::vector<std::uint8_t> bytes;
  for (int n = 0; n < 300; ++n) {
    auto back = base64_decode(base64_encode(bytes));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, bytes);
    bytes.push_back(static_cast<std::uint8_t>(n * 37 + 11));
  }
}

TEST(Base64, UrlSafeAndUnpaddedOnlyWhenAllowed) {
  EXPECT_EQ(decode_to_string("-_8="), "\xfb\xff");
  EXPECT_EQ(decode_to_string("Zg"), "f");
  Base64Options strict;
  strict.allow_url_safe = false;
  strict.allow_unpadded = false;
  EXPECT_FALSE(base64_decode("-_8=", strict));
  EXPECT_FALSE(base64_decode("Zg", strict));
  EXPECT_TRUE(base64_decode("+/8=", strict));
}

TEST(Base64, RefusesMalformedInput) {
  EXPECT_FALSE(base64_decode("Z"));      // one leftover character
  EXPECT_FALSE(base64_decode("Zg==="));  // three padding characters
  EXPECT_FALSE(base64_decode("Zm8=="));  // padding does not complete the quantum
  EXPECT_FALSE(base64_decode("Zh=="));   // non-zero trailing bits
  EXPECT_FALSE(base64_decode("Zm 9v"));  // whitespace
  EXPECT_FALSE(base64_decode("Zm9v\n"));
  EXPECT_FALSE(base64_decode("Zg=a"));  // padding in the middle
  auto bad = base64_decode("Zm9v*mFy");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().offset, 4u);
  Base64Options tiny;
  tiny.max_input = 4;
  EXPECT_FALSE(base64_decode("Zm9vYmFy", tiny));
}

}  // namespace
}  // namespace mlsc
