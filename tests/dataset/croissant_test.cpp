// Croissant metadata: recognising it, matching FileObjects, checking and filling hashes.
#include "mlsc/dataset/croissant.hpp"

#include <gtest/gtest.h>

#include "../sign/sign_test_util.hpp"

namespace mlsc::dataset {
namespace {

using sign::testing::ScratchDir;
using sign::testing::write_file;

const std::string kHello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const std::string kWorld = "486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7";

std::string croissant(const std::string& distribution) {
  return R"({"@context": {"@vocab": "https://schema.org/", "cr": "http://mlcommons.org/croissant/",
              "md5": "cr:md5"}, "@type": "sc:Dataset", "name": "toy",
             "conformsTo": "http://mlcommons.org/croissant/1.0", "distribution": )" +
         distribution + "}";
}

TEST(Croissant, RecognisesTheVocabularyAndReadsFileObjects) {
  auto doc = parse_croissant(croissant(R"([
    {"@type": "cr:FileObject", "@id": "a", "name": "a.txt", "contentUrl": "data/a.txt",
     "encodingFormat": "text/plain", "sha256": ")" +
                                       std::string(64, 'A') + R"("},
    {"@type": "cr:FileSet", "@id": "imgs", "includes": "*.jpg"},
    {"@type": "cr:FileObject", "@id": "inner", "contentUrl": "x.csv", "containedIn": {"@id": "zip"},
     "md5": "5D41402ABC4B2A76B9719D911017C592"}])"));
  ASSERT_TRUE(doc) << doc.error().describe();
  ASSERT_EQ(doc->files.size(), 2U);
  EXPECT_EQ(doc->files[0].sha256, std::string(64, 'a'));
  EXPECT_EQ(doc->files[0].pointer, "/distribution/0");
  EXPECT_TRUE(doc->files[1].contained);
  EXPECT_EQ(doc->files[1].md5, "5d41402abc4b2a76b9719d911017c592");
  EXPECT_FALSE(
      parse_croissant(R"({"@context": {"@vocab": "https://schema.org/"}, "distribution": []})"));
  EXPECT_FALSE(parse_croissant(croissant(R"([{"@type": "cr:FileObject", "sha256": "abc"}])")));
  EXPECT_FALSE(parse_croissant(croissant(R"([{"@type": "cr:FileObject", "sha256": 5}])")));
  EXPECT_FALSE(parse_croissant(croissant("7")));
  EXPECT_FALSE(parse_croissant(std::string(200, '[')));
}

TEST(Croissant, ManifestReportsMismatchedSha256AndMd5) {
  ScratchDir d;
  write_file(d.path() / "data" / "a.txt", "hello");
  write_file(d.path() / "data" / "b.txt", "world");
  // b.txt's md5 is that of "hello": wrong.
  write_file(d.path() / "croissant.json", croissant(R"([
    {"@type": "cr:FileObject", "name": "a.txt", "contentUrl": "data/a.txt", "sha256": ")" +
                                                    kHello + R"("},
    {"@type": "cr:FileObject", "name": "b.txt", "contentUrl": "data/b.txt", "md5": "5d41402abc4b2a76b9719d911017c592"},
    {"@type": "cr:FileObject", "name": "gone", "contentUrl": "data/gone.txt", "sha256": ")" +
                                                    kHello + R"("}])"));
  ManifestOptions o;
  o.threads = 2;
  auto m = build_manifest(d.path(), o);
  ASSERT_TRUE(m) << m.error().describe();
  EXPECT_EQ(m->croissant, "croissant.json");
  ASSERT_EQ(m->errors.size(), 2U);
  EXPECT_NE(m->errors[0].find("b.txt"), std::string::npos) << m->errors[0];
  EXPECT_NE(m->errors[0].find("md5"), std::string::npos) << m->errors[0];
  EXPECT_NE(m->errors[1].find("gone"), std::string::npos) << m->errors[1];
}

TEST(Croissant, UpdateFillsSha256AndRefreshesMd5KeepingTheRest) {
  ScratchDir d;
  write_file(d.path() / "data" / "a.txt", "hello");
  write_file(d.path() / "b.txt", "world");  // at the root: matched by name below
  const auto text = croissant(R"([
    {"@type": "cr:FileObject", "name": "a.txt", "contentUrl": "data/a.txt", "description": "keep me"},
    {"@type": "cr:FileObject", "name": "b.txt", "contentUrl": "https://host.example/b.txt",
     "sha256": ")" + kHello + R"(", "md5": "00000000000000000000000000000000"},
    {"@type": "cr:FileObject", "name": "remote", "contentUrl": "https://host.example/r.bin"}])");
  auto doc = parse_croissant(text);
  ASSERT_TRUE(doc);
  ManifestOptions o;
  o.read_croissant = false;
  auto m = build_manifest(d.path(), o);
  ASSERT_TRUE(m);
  auto u = update_croissant(*doc, *m, d.path());
  ASSERT_TRUE(u) << u.error().describe();
  EXPECT_EQ(u->filled, 1U);
  EXPECT_EQ(u->updated, 1U);
  EXPECT_EQ(u->unmatched.size(), 1U);
  const auto& dist = u->document["distribution"];
  EXPECT_EQ(dist[0]["sha256"], kHello);
  EXPECT_EQ(dist[0]["description"], "keep me");
  EXPECT_EQ(dist[1]["sha256"], kWorld);  // matched by name: an absolute contentUrl
  EXPECT_EQ(dist[1]["md5"], "7d793037a0760186574b0282f2f435e7");  // md5("world")
  EXPECT_EQ(u->document["conformsTo"], "http://mlcommons.org/croissant/1.0");
  // What was written checks clean.
  auto again = parse_croissant(u->document.dump());
  ASSERT_TRUE(again);
  EXPECT_TRUE(check_croissant(*again, *m, d.path()).empty());
}

}  // namespace
}  // namespace mlsc::dataset
