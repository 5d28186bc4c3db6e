// URL lists: RFC 4180 quoting, hostile rows, JSON Lines, and the manifest built from a list.
#include "mlsc/dataset/url_list.hpp"

#include <gtest/gtest.h>

#include "../sign/sign_test_util.hpp"
#include "mlsc/dataset/fetch_verify.hpp"

namespace mlsc::dataset {
namespace {

using sign::testing::ScratchDir;
using sign::testing::write_file;

const std::string kHello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const std::string kWorld = "486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7";
const std::string kHelloUpper = "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824";

TEST(UrlListCsv, ReadsQuotedFieldsWithCommasQuotesAndNewlines) {
  const std::string csv =
      "\xEF\xBB\xBF"
      "caption,url,sha256\r\n"
      "\"a, \"\"quoted\"\"\ncaption\",https://x.example/a.jpg?q=1,2," +
      kHelloUpper + "\r\n";
  // The row above has an unquoted comma in the URL column: 4 fields for 3 columns.
  EXPECT_FALSE(parse_url_list_csv(csv, {}));
  const std::string good =
      "caption,url,sha256\r\n\"a, \"\"quoted\"\"\ncaption\",\"https://x.example/a.jpg?q=1,2\"," +
      kHelloUpper + "\r\n\nplain,https://x.example/b.jpg,\n";
  auto list = parse_url_list_csv(good, {});
  ASSERT_TRUE(list) << list.error().describe();
  ASSERT_EQ(list->entries.size(), 2U);
  EXPECT_TRUE(list->has_hash_column);
  EXPECT_EQ(list->entries[0].url, "https://x.example/a.jpg?q=1,2");
  EXPECT_EQ(list->entries[0].sha256, kHello);  // lowercased
  EXPECT_EQ(list->entries[1].url, "https://x.example/b.jpg");
  EXPECT_EQ(list->entries[1].sha256, "");
}

TEST(UrlListCsv, RefusesHostileQuotingWithTheOffset) {
  auto expect_error_at = [](const std::string& csv, std::uint64_t offset) {
    auto r = parse_url_list_csv(csv, {});
    ASSERT_FALSE(r) << csv;
    ASSERT_TRUE(r.error().offset.has_value()) << r.error().message;
    EXPECT_EQ(*r.error().offset, offset) << r.error().message;
  };
  expect_error_at("url\n\"https://x/unterminated\n", 4);         // quote never closed
  expect_error_at("url\nhttps://x/\"inner\"\n", 14);             // quote inside unquoted
  expect_error_at("url\n\"https://x/\"trailing\n", 16);          // text after a closing quote
  expect_error_at(std::string("url\nhttps://x/\0a\n", 17), 14);  // NUL byte
  expect_error_at("url,sha256\nhttps://x/,zz\n", 11);            // hash not hex
  expect_error_at("url,sha256\n,\n", 11);                        // empty url
  expect_error_at("url\rhttps://x/\n", 3);                       // bare CR
  EXPECT_FALSE(parse_url_list_csv("", {}));
  EXPECT_FALSE(parse_url_list_csv("link\nhttps://x/\n", {}));                // no url column
  EXPECT_FALSE(parse_url_list_csv("url,url\nhttps://a/,https://b/\n", {}));  // ambiguous column
}

TEST(UrlListCsv, BoundsFieldsAndColumns) {
  EXPECT_FALSE(parse_url_list_csv("url\n" + std::string(kMaxFieldBytes + 1, 'a') + "\n", {}));
  std::string wide;
  for (std::size_t i = 0; i <= kMaxColumns; ++i)
    wide += (i ? ",c" : "url") + (i ? std::to_string(i) : "");
  EXPECT_FALSE(parse_url_list_csv(wide + "\n", {}));
  EXPECT_FALSE(parse_url_list_csv("url\nhttps://x/" + std::string(kMaxUrlBytes, 'a') + "\n", {}));
}

TEST(UrlListCsv, PathColumnMustStayInsideTheFetchDirectory) {
  UrlListOptions o;
  o.path_column = "file";
  auto ok = parse_url_list_csv("url,file\nhttps://x/1,00/1.jpg\n", o);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->entries[0].path, "00/1.jpg");
  EXPECT_FALSE(parse_url_list_csv("url,file\nhttps://x/1,../1.jpg\n", o));
  EXPECT_FALSE(parse_url_list_csv("url,file\nhttps://x/1,/etc/passwd\n", o));
  EXPECT_FALSE(parse_url_list_csv("url,file\nhttps://x/1,\n", o));
}

TEST(UrlListJsonl, ReadsRowsAndRefusesAmbiguousOnes) {
  const std::string jsonl =
      "{\"url\": \"https://x/1\", \"sha256\": \"" + kHello +
      "\", \"caption\": {\"nested\": [1]}}\n\n{\"url\": \"https://x/2\", \"sha256\": null}\n";
  auto list = parse_url_list_jsonl(jsonl, {});
  ASSERT_TRUE(list) << list.error().describe();
  ASSERT_EQ(list->entries.size(), 2U);
  EXPECT_EQ(list->entries[0].sha256, kHello);
  EXPECT_EQ(list->entries[1].sha256, "");
  auto dup = parse_url_list_jsonl("{\"url\": \"https://a/\", \"url\": \"https://b/\"}\n", {});
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().offset, 0U);
  auto second = parse_url_list_jsonl("{\"url\": \"https://a/\"}\n{\"url\": 5}\n", {});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().offset, 22U);
  EXPECT_FALSE(parse_url_list_jsonl("[\"https://a/\"]\n", {}));
  EXPECT_FALSE(parse_url_list_jsonl("{\"url\": \"https://a/\"\n", {}));
  EXPECT_FALSE(parse_url_list_jsonl(std::string(100, '[') + "\n", {}));
  EXPECT_FALSE(parse_url_list_jsonl("{\"link\": \"https://a/\"}\n", {}));
}

TEST(UrlListFile, ParquetIsRefusedPlainly) {
  ScratchDir d;
  write_file(d.path() / "list.parquet", "PAR1");
  auto r = read_url_list(d.path() / "list.parquet", {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("Parquet"), std::string::npos);
}

TEST(UrlManifest, TakesHashesFromTheListOrFromFetchedContent) {
  auto list = parse_url_list_csv(
      "url,sha256\nhttps://x/1," + kHello + "\nhttps://x/2,\nhttps://x/1," + kHello + "\n", {});
  ASSERT_TRUE(list);
  UrlManifestOptions o;
  o.name = "urls";
  EXPECT_FALSE(build_url_manifest(*list, o));  // https://x/2 has no hash and nothing was fetched

  ScratchDir fetch;
  write_file(fetch.path() / fetched_name("https://x/2"), "world");
  o.fetch_dir = fetch.path();
  auto m = build_url_manifest(*list, o);
  ASSERT_TRUE(m) << m.error().describe();
  ASSERT_EQ(m->records.size(), 2U);  // the duplicate row collapsed
  EXPECT_EQ(m->records[0].sha256, kHello);
  EXPECT_FALSE(m->records[0].size.has_value());
  EXPECT_EQ(m->records[1].sha256, kWorld);
  EXPECT_EQ(m->records[1].size, 5U);
  EXPECT_TRUE(m->errors.empty());

  // Downloaded content that disagrees with the list is an error, not silently recorded.
  write_file(fetch.path() / fetched_name("https://x/1"), "not hello");
  auto bad = build_url_manifest(*list, o);
  ASSERT_TRUE(bad);
  ASSERT_EQ(bad->errors.size(), 1U);

  auto clash = parse_url_list_csv(
      "url,sha256\nhttps://x/1," + kHello + "\nhttps://x/1," + kWorld + "\n", {});
  ASSERT_TRUE(clash);
  o.fetch_dir.reset();
  EXPECT_FALSE(build_url_manifest(*clash, o));
}

}  // namespace
}  // namespace mlsc::dataset
