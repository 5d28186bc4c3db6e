#include <gtest/gtest.h>

#include "mlsc/bom/sources.hpp"

namespace mlsc::bom {
namespace {

TEST(Pep508, NameExtrasSpecifierMarker) {
  auto r = parse_pep508("requests[socks, security] >=2.28,<3 ; python_version < \"3.12\"");
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->name, "requests");
  EXPECT_EQ(r->extras, (std::vector<std::string>{"socks", "security"}));
  EXPECT_EQ(r->specifier, ">=2.28,<3");
  EXPECT_EQ(r->marker, "python_version < \"3.12\"");
  EXPECT_TRUE(r->url.empty());
}

TEST(Pep508, ParenthesisedSpecifierAndUrl) {
  auto r = parse_pep508("foo (==1.0)");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->specifier, "==1.0");
  auto u = parse_pep508("pkg @ https://example.org/pkg-1.0.tar.gz ; os_name == 'posix'");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->url, "https://example.org/pkg-1.0.tar.gz");
  EXPECT_EQ(u->marker, "os_name == 'posix'");
}

TEST(Pep508, RejectsBadInput) {
  EXPECT_FALSE(parse_pep508(""));
  EXPECT_FALSE(parse_pep508("-foo"));
  EXPECT_FALSE(parse_pep508("foo >=1 2"));  // space inside a version
  EXPECT_FALSE(parse_pep508("foo [bar"));   // unterminated extras
  EXPECT_FALSE(parse_pep508("foo 1.0"));    // no operator
  EXPECT_FALSE(parse_pep508("foo ;"));      // empty marker
  EXPECT_FALSE(parse_pep508(std::string(70000, 'a')));
}

TEST(Pep508, PinnedVersion) {
  EXPECT_EQ(pinned_version("==1.2.3"), "1.2.3");
  EXPECT_EQ(pinned_version("===1.0-custom"), "1.0-custom");
  EXPECT_EQ(pinned_version("==1.2.*"), "");
  EXPECT_EQ(pinned_version(">=1,==2"), "");
  EXPECT_EQ(pinned_version("~=1.2"), "");
}

TEST(Requirements, HashesMarkersContinuationsAndOptions) {
  const std::string text =
      "# comment\n"
      "-r base.txt\n"
      "--constraint=cons.txt\n"
      "-i https://pypi.org/simple\n"
      "--extra-index-url https://private.example/simple\n"
      "numpy==1.24.2 \\\n"
      "    --hash=sha256:" +
      std::string(64, 'a') +
      " \\\n"
      "    --hash sha256:" +
      std::string(64, 'B') +
      "\n"
      "torch==1.13.1+cu117 ; platform_system == \"Linux\"  # trailing comment\n"
      "bad hash==1 --hash=sha256:xyz\n"
      "https://files.example.org/tokenizers-0.13.3-cp311-cp311-linux_x86_64.whl\n"
      "-e git+https://github.com/acme/feat.git@" +
      std::string(40, 'c') +
      "#egg=acme-feat\n"
      "git+https://example.org/nameless.git\n";
  auto f = parse_requirements(text, "req.txt");
  ASSERT_TRUE(f) << f.error().describe();
  ASSERT_EQ(f->includes.size(), 2U);
  EXPECT_EQ(f->includes[0].path, "base.txt");
  EXPECT_FALSE(f->includes[0].constraint);
  EXPECT_EQ(f->includes[1].path, "cons.txt");
  EXPECT_TRUE(f->includes[1].constraint);
  ASSERT_EQ(f->index_urls.size(), 2U);
  EXPECT_EQ(f->index_urls[1], "--extra-index-url https://private.example/simple");
  ASSERT_EQ(f->packages.size(), 4U);
  const auto& numpy = f->packages[0];
  EXPECT_EQ(numpy.name, "numpy");
  EXPECT_EQ(numpy.version, "1.24.2");
  ASSERT_EQ(numpy.hashes.size(), 2U);
  EXPECT_EQ(numpy.hashes[0].alg, "SHA-256");
  EXPECT_EQ(numpy.hashes[1].hex, std::string(64, 'b'));  // lowercased
  EXPECT_EQ(f->packages[1].version, "1.13.1+cu117");
  EXPECT_EQ(f->packages[1].marker, "platform_system == \"Linux\"");
  EXPECT_EQ(f->packages[2].name, "tokenizers");
  EXPECT_EQ(f->packages[2].version, "0.13.3");
  EXPECT_EQ(f->packages[3].name, "acme-feat");
  EXPECT_EQ(f->packages[3].vcs_commit, std::string(40, 'c'));
  // "bad hash==1" is not a requirement, the nameless VCS URL names no package: both noted.
  ASSERT_EQ(f->notes.size(), 3U) << f->notes[0];
  EXPECT_NE(f->notes[0].find("req.txt:10"), std::string::npos);
}

TEST(Requirements, EmptyAndCommentOnly) {
  auto f = parse_requirements("\n# nothing\n   \n", "r.txt");
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->packages.empty());
  EXPECT_TRUE(f->notes.empty());
}

}  // namespace
}  // namespace mlsc::bom
