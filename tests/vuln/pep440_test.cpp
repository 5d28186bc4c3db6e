// PEP 440 parsing, normalisation and ordering. Expected values are worked out by hand from the
// text of PEP 440 (sections "Normalization", "Summary of permitted suffixes and relative
// ordering", "Local version identifiers") and the old setuptools LegacyVersion rules.
#include "mlsc/vuln/pep440.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace mlsc::vuln {
namespace {

std::string norm(std::string_view text) {
  auto v = Version::parse_strict(text);
  return v ? v->str() : "<invalid>";
}

TEST(Pep440, NormalisationFromThePep) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      // Case sensitivity, leading v, whitespace
      {"1.1RC1", "1.1rc1"},
      {"v1.0", "1.0"},
      {"V2.1", "2.1"},
      {" 1.0\n", "1.0"},
      // Integer normalisation (local alphanumeric segments keep their zeros)
      {"00", "0"},
      {"09000", "9000"},
      {"1.0+foo0100", "1.0+foo0100"},
      {"1.0+0100", "1.0+100"},
      // Pre-release separators and spellings, implicit number
      {"1.1.a1", "1.1a1"},
      {"1.1-a1", "1.1a1"},
      {"1.1_a1", "1.1a1"},
      {"1.0a.1", "1.0a1"},
      {"1.0a-1", "1.0a1"},
      {"1.1alpha1", "1.1a1"},
      {"1.1beta2", "1.1b2"},
      {"1.1c3", "1.1rc3"},
      {"1.1pre1", "1.1rc1"},
      {"1.1preview1", "1.1rc1"},
      {"1.1RC1", "1.1rc1"},
      {"1.2a", "1.2a0"},
      {"1.2-beta", "1.2b0"},
      {"0.8.0-alpha2", "0.8.0a2"},
      // Post-release separators, spellings, implicit number, implicit post release
      {"1.2-post2", "1.2.post2"},
      {"1.2post2", "1.2.post2"},
      {"1.2.post2", "1.2.post2"},
      {"1.2_post2", "1.2.post2"},
      {"1.2.post-2", "1.2.post2"},
      {"1.0-r4", "1.0.post4"},
      {"1.0-rev4", "1.0.post4"},
      {"1.0r4", "1.0.post4"},
      {"1.2.post", "1.2.post0"},
      {"1.0-1", "1.0.post1"},
      {"1.0-01", "1.0.post1"},
      // Development releases
      {"1.2-dev2", "1.2.dev2"},
      {"1.2dev2", "1.2.dev2"},
      {"1.2_dev2", "1.2.dev2"},
      {"1.2.dev", "1.2.dev0"},
      {"1.0-dev-1", "1.0.dev1"},
      // Local versions: separators become '.', lowercase
      {"1.0+ubuntu-1", "1.0+ubuntu.1"},
      {"1.0+UBUNTU_1.A", "1.0+ubuntu.1.a"},
      {"1.13.0+cu117", "1.13.0+cu117"},
      {"1.13.0a0+gitunknown", "1.13.0a0+gitunknown"},
      // Epochs and everything together
      {"1!1.0", "1!1.0"},
      {"0!1.0", "1.0"},
      {"2!1.0rc1.post2.dev3+local.7", "2!1.0rc1.post2.dev3+local.7"},
      {"1.0a1-1", "1.0a1.post1"},
      {"1.0a.post1", "1.0a0.post1"},
      {"1.0.post.dev1", "1.0.post0.dev1"},
  };
  for (const auto& [input, expected] : cases) {
    EXPECT_EQ(norm(input), expected) << "input " << input;
  }
}

TEST(Pep440, InvalidStringsAreRejectedByStrictParse) {
  for (const char* bad :
       {"", "1.0-", "french toast", "1.0+", "1..0", "1.0.", "a1.0", "1.0+abc..1", "1.0_1", "1.0rcx",
        "1.0.postfix", "1.0+ab!c", "1!", "!1.0", "1.0 .1", "1.0-dev-1-1", "1.0a1b1"}) {
    EXPECT_FALSE(Version::parse_strict(bad).has_value()) << "input '" << bad << "'";
  }
  const auto err = Version::parse_strict("1.0.x");
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().offset, 3U);  // "1.0" parses, the '.' before 'x' does not
}

TEST(Pep440, PermissiveParseKeepsLegacyText) {
  const Version v = Version::parse("2004d");
  EXPECT_TRUE(v.is_legacy());
  EXPECT_EQ(v.str(), "2004d");
  EXPECT_FALSE(Version::parse("1.0").is_legacy());
}

// PEP 440's ordering example, lowest first (every adjacent pair strictly increasing).
TEST(Pep440, OrderingExampleFromThePep) {
  const std::vector<std::string> ordered = {"1.dev0",
                                            "1.0.dev456",
                                            "1.0a1",
                                            "1.0a2.dev456",
                                            "1.0a12.dev456",
                                            "1.0a12",
                                            "1.0b1.dev456",
                                            "1.0b2",
                                            "1.0b2.post345.dev456",
                                            "1.0b2.post345",
                                            "1.0rc1.dev456",
                                            "1.0rc1",
                                            "1.0",
                                            "1.0+abc.5",
                                            "1.0+abc.7",
                                            "1.0+5",
                                            "1.0.post456.dev34",
                                            "1.0.post456",
                                            "1.0.15",
                                            "1.1.dev1"};
  for (std::size_t i = 0; i + 1 < ordered.size(); ++i) {
    const Version a = Version::parse(ordered[i]);
    const Version b = Version::parse(ordered[i + 1]);
    EXPECT_FALSE(a.is_legacy()) << ordered[i];
    EXPECT_TRUE(a < b) << ordered[i] << " < " << ordered[i + 1];
    EXPECT_TRUE(b > a) << ordered[i + 1] << " > " << ordered[i];
  }
  // Transitivity over the whole list, not just neighbours.
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    for (std::size_t j = 0; j < ordered.size(); ++j) {
      const auto c = Version::parse(ordered[i]) <=> Version::parse(ordered[j]);
      EXPECT_EQ(c, i <=> j) << ordered[i] << " vs " << ordered[j];
    }
  }
}

TEST(Pep440, EqualityIgnoresTrailingZerosAndSpelling) {
  const std::vector<std::pair<std::string, std::string>> equal = {
      {"1.0", "1.0.0"},       {"1", "1.0.0.0"},    {"1.0a1", "1.0.0alpha1"},
      {"1.0-1", "1.0.post1"}, {"1.0c1", "1.0rc1"}, {"0!1.0", "1.0"},
      {"1.0+01", "1.0+1"},    {"v1.0", "1.0"},     {"1.0.dev0", "1.0-dev"},
      {"1.0+abc", "1.0+ABC"},
  };
  for (const auto& [a, b] : equal) {
    EXPECT_EQ(Version::parse(a), Version::parse(b)) << a << " == " << b;
    EXPECT_EQ(Version::parse(a).equality_key(), Version::parse(b).equality_key()) << a;
  }
  EXPECT_NE(Version::parse("1.0"), Version::parse("1.0+abc"));
  EXPECT_NE(Version::parse("1.0.1"), Version::parse("1.0"));
  EXPECT_NE(Version::parse("1.0").equality_key(), Version::parse("1.0.1").equality_key());
}

TEST(Pep440, OrderingCornerCases) {
  const std::vector<std::pair<std::string, std::string>> less = {
      {"2.0", "1!0.1"},          // epoch dominates
      {"1.0", "1.0.1"},          // longer release after zero-stripping
      {"1.9", "1.10"},           // numeric, not textual
      {"1.0.dev1", "1.0a1"},     // dev-only before pre-releases
      {"1.0a1", "1.0a1.post1"},  // post of a pre-release
      {"1.0a1.post1", "1.0a2"},
      {"1.0a1.dev1", "1.0a1"},  // dev of a pre-release
      {"1.0", "1.0+local"},     // local after public
      {"1.0+abc", "1.0+1"},     // numeric local segment after alphanumeric
      {"1.0+1", "1.0+1.abc"},   // longer local after its prefix
      {"1.0+a.b", "1.0+a.c"},
      {"1.0+9", "1.0+10"},  // numeric local segments by value
      {"1.0.post1.dev1", "1.0.post1"},
      {"1.0", "1.0.post0.dev0"},  // a dev of a post-release is still after the release
      {"1.13.0", "1.13.0+cu117"},
      {"1.13.0+cu117", "1.13.1"},
      {"1.0", "99999999999999999999999999.0"},  // numbers of any length
      {"1.99999999999999999999", "1.100000000000000000000"},
  };
  for (const auto& [a, b] : less) {
    EXPECT_TRUE(Version::parse(a) < Version::parse(b)) << a << " < " << b;
  }
}

TEST(Pep440, PrereleaseAndPostreleaseFlags) {
  EXPECT_TRUE(Version::parse("1.0a1").is_prerelease());
  EXPECT_TRUE(Version::parse("1.0.dev1").is_prerelease());
  EXPECT_TRUE(Version::parse("1.0.post1.dev1").is_prerelease());
  EXPECT_FALSE(Version::parse("1.0.post1").is_prerelease());
  EXPECT_TRUE(Version::parse("1.0.post1").is_postrelease());
  EXPECT_EQ(Version::parse("1!2.0rc1.post1+x").base_version().str(), "1!2.0");
  EXPECT_EQ(Version::parse("1.0+x.y").public_version().str(), "1.0");
}

// Legacy versions (not PEP 440) sort before every valid version, and among themselves by
// setuptools' LegacyVersion key.
TEST(Pep440, LegacyOrdering) {
  EXPECT_TRUE(Version::parse("french toast") < Version::parse("0.0.dev0"));
  EXPECT_TRUE(Version::parse("2004d") < Version::parse("0"));
  EXPECT_TRUE(Version::parse("1.0-bar") < Version::parse("1.0-foo"));
  // Numbers are zero-padded: 1.10 after 1.9 even in legacy form.
  EXPECT_TRUE(Version::parse("1.9.x") < Version::parse("1.10.x"));
  // "dev" becomes '@' and sorts before alpha-like words; 'pre'/'rc' become 'c'.
  EXPECT_TRUE(Version::parse("1.0.x-dev") < Version::parse("1.0.x-a"));
  EXPECT_EQ(Version::parse("1.0.x-rc"), Version::parse("1.0.x-pre"));
  // Trailing zero numbers vanish before a word, so these compare equal.
  EXPECT_EQ(Version::parse("1.0.0-xyz"), Version::parse("1-xyz"));
  EXPECT_EQ(Version::parse("1.0-XYZ"), Version::parse("1.0-xyz"));
  EXPECT_NE(Version::parse("1.0-xyz").equality_key(), Version::parse("1.0").equality_key());
}

TEST(Pep440, HostileInputIsBounded) {
  const std::string long_text(100000, '1');
  const Version v = Version::parse(long_text);
  EXPECT_TRUE(v.is_legacy());  // longer than kMaxVersionLength
  EXPECT_LE(v.str().size(), 4 * kMaxVersionLength);
  const std::string dots = "1" + std::string(5000, '.') + "x";
  EXPECT_TRUE(Version::parse(dots).is_legacy());
  EXPECT_FALSE(Version::parse_strict(std::string("1.0\0", 4)).has_value());
}

}  // namespace
}  // namespace mlsc::vuln
