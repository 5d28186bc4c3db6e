#include "mlsc/sign/statement.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "sign_test_util.hpp"

namespace mlsc::sign {
namespace {

using namespace testing;
using nlohmann::json;

// Subject names the reference's goldens carry for each test model (informational only; the
// reference's test harness chose them, they are not derived from the temporary paths).
const std::map<std::string, std::string>& golden_model_names() {
  static const std::map<std::string, std::string> names = {
      {"sample_model_file", "file_model"},          {"empty_model_file", "empty_file_model"},
      {"sample_model_folder", "sample_model"},      {"empty_model_folder", "empty_folder_model"},
      {"model_folder_with_empty_file", "empty_file_inside_model"},
      {"deep_model_folder", "deep_model"},          {"symlink_model_folder", "symlink_model"},
  };
  return names;
}

// unsigned-statements/TestPayload/<fixture>[_shard|_small_shards]: expected in-toto statements.
// Ours must equal them as parsed JSON (8 and 8.0 compare equal as numbers).
TEST(Statement, EqualsEveryReferenceGoldenStatement) {
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(vectors_dir() / "unsigned-statements" / "TestPayload")) {
    std::string fixture = entry.path().filename().string();
    HashOptions o;
    o.allow_symlinks = true;
    o.ignore_git_paths = false;
    o.allow_empty = true;
    const std::vector<std::pair<std::string, std::uint64_t>> variants = {{"_small_shards", 8},
                                                                           {"_shard", kDefaultShardSize}};
    for (const auto& [suffix, shard] : variants) {
      if (fixture.ends_with(suffix)) {
        fixture.resize(fixture.size() - suffix.size());
        o.method = Method::shards;
        o.shard_size = shard;
        break;
      }
    }
    o.model_name = golden_model_names().at(fixture);
    ScratchDir dir;
    const auto m = hash_model(make_reference_model(fixture, dir.path()), o);
    ASSERT_TRUE(m) << m.error().describe();
    const auto ours = statement_json(*m, 2);
    ASSERT_TRUE(ours);
    const json golden = json::parse(read_file(entry.path()));
    EXPECT_EQ(json::parse(*ours), golden) << entry.path().filename() << "\nours:\n" << *ours;

    const auto parsed = parse_statement_document(golden);  // and the golden parses back to our manifest
    ASSERT_TRUE(parsed) << parsed.error().describe();
    EXPECT_EQ(parsed->resources.size(), m->resources.size());
    for (std::size_t i = 0; i < m->resources.size(); ++i) {
      EXPECT_EQ(parsed->resources[i].name, m->resources[i].name);
      EXPECT_EQ(parsed->resources[i].digest, m->resources[i].digest);
    }
    ++checked;
  }
  EXPECT_EQ(checked, 21);
}

TEST(Statement, RoundTripsForEveryHashTypeAndMethod) {
  ScratchDir dir;
  const fs::path root = make_reference_model("sample_model_folder", dir.path());
  for (auto t : {HashType::sha256, HashType::blake2b, HashType::blake3}) {
    for (auto method : {Method::files, Method::shards}) {
      HashOptions o;
      o.hash = t;
      o.method = method;
      o.shard_size = 10;
      o.blake3_shards_as_files = false;
      o.ignore_paths = {"d1/f12"};
      const auto m = hash_model(root, o);
      ASSERT_TRUE(m);
      const auto text = statement_json(*m);
      ASSERT_TRUE(text);
      const auto back = parse_statement(*text);
      ASSERT_TRUE(back) << back.error().describe();
      EXPECT_EQ(back->hash, t);
      EXPECT_EQ(back->method, method);
      EXPECT_EQ(back->model_name, "root");
      EXPECT_EQ(back->ignore_paths, m->ignore_paths);
      EXPECT_EQ(manifest_lines(*back), manifest_lines(*m));
      const json doc = json::parse(*text);
      EXPECT_EQ(doc["predicate"]["serialization"].contains("shard_size"), method == Method::shards);
      if (method == Method::shards) {
        EXPECT_TRUE(doc["predicate"]["serialization"]["shard_size"].is_number_integer());
      }
    }
  }
}

// A minimal valid v1.0 statement with one resource, as a JSON object to tamper with.
json valid_statement() {
  const std::string digest(64, 'a');
  Manifest m;
  m.model_name = "m";
  m.method = Method::shards;
  m.shard_size = 8;
  m.resources = {{"w:0:8", "sha256-sharded-8", *Digest::from_hex(digest)}};
  return json::parse(*statement_json(m));
}

std::string parse_error(const json& doc) {
  const auto m = parse_statement_document(doc);
  return m ? std::string("(parsed)") : m.error().message;
}

TEST(Statement, ShardSizeMayBeAnIntegralFloat) {
  json doc = valid_statement();
  for (const json& ok : {json(8), json(8.0), json(8U)}) {
    doc["predicate"]["serialization"]["shard_size"] = ok;
    const auto m = parse_statement_document(doc);
    ASSERT_TRUE(m) << m.error().describe();
    EXPECT_EQ(m->shard_size, 8U);
  }
  for (const json& bad : {json(8.5), json(0), json(-8), json("8"), json(nullptr), json(1e300)}) {
    doc["predicate"]["serialization"]["shard_size"] = bad;
    EXPECT_NE(parse_error(doc).find("shard_size"), std::string::npos) << bad.dump();
  }
}

TEST(Statement, RejectsMalformedStatementsWithSpecificReasons) {
  const std::vector<std::pair<std::function<void(json&)>, std::string>> cases = {
      {[](json& d) { d["_type"] = "https://in-toto.io/Statement/v0.1"; }, "_type"},
      {[](json& d) { d["predicateType"] = "https://example/other"; }, "predicateType"},
      {[](json& d) { d["subject"].push_back(d["subject"][0]); }, "subject"},
      {[](json& d) { d["subject"][0]["name"] = ""; }, "subject[0].name"},
      {[](json& d) { d["subject"][0]["digest"]["sha256"] = std::string(64, '0'); }, "inconsistent"},
      {[](json& d) { d["predicate"]["serialization"]["method"] = "tensors"; }, "method"},
      {[](json& d) { d["predicate"]["serialization"]["hash_type"] = "md5"; }, "hash_type"},
      {[](json& d) { d["predicate"]["serialization"].erase("allow_symlinks"); }, "allow_symlinks"},
      {[](json& d) { d["predicate"]["serialization"]["ignore_paths"] = "x"; }, "ignore_paths"},
      {[](json& d) { d["predicate"]["resources"] = json::object(); }, "resources"},
      {[](json& d) { d["predicate"]["resources"].push_back(d["predicate"]["resources"][0]); }, "duplicate"},
      {[](json& d) { d["predicate"]["resources"][0]["digest"] = std::string(64, 'A'); }, "digest"},
      {[](json& d) { d["predicate"]["resources"][0]["digest"] = std::string(128, 'a'); }, "digest"},
      {[](json& d) { d["predicate"]["resources"][0]["algorithm"] = "blake2b"; }, "algorithm"},
      {[](json& d) { d["predicate"]["resources"][0]["name"] = "w:4:12"; }, "shard range"},
      {[](json& d) { d["predicate"]["resources"][0]["name"] = "w:0:9"; }, "shard range"},
      {[](json& d) { d["predicate"]["resources"][0]["name"] = "w"; }, "shard"},
      {[](json& d) { d["predicate"]["resources"][0]["name"] = "../w:0:8"; }, "shard"},
      {[](json& d) { d["predicate"]["resources"][0]["name"] = "./w:0:8"; }, "shard"},
      {[](json& d) { d["predicate"]["resources"][0].erase("name"); }, "name"},
  };
  for (const auto& [mutate, reason] : cases) {
    json doc = valid_statement();
    ASSERT_EQ(parse_error(doc), "(parsed)");
    mutate(doc);
    EXPECT_NE(parse_error(doc).find(reason), std::string::npos) << "want \"" << reason << "\", got: " << parse_error(doc);
  }
}

TEST(Statement, FilesModeNamesMustBeCanonical) {
  Manifest m;
  m.model_name = "m";
  m.resources = {{"a/b", "sha256", *Digest::from_hex(std::string(64, 'b'))}};
  json doc = json::parse(*statement_json(m));
  EXPECT_TRUE(parse_statement_document(doc));
  for (const char* bad : {"/a/b", "a//b", "a/./b", "a/../b", "a/", ""}) {
    Manifest bad_m = m;
    bad_m.resources[0].name = bad;
    EXPECT_FALSE(parse_statement(*statement_json(bad_m))) << bad;
  }
}

TEST(Statement, NeverThrowsOnGarbage) {
  for (const char* text : {"", "{", "[]", "null", "{\"_type\":1}", "\"\xff\xfe\"", "{\"_type\":\"https://in-toto.io/Statement/v1\"}",
                           "{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicateType\":\"https://model_signing/signature/v1.0\","
                           "\"subject\":[1],\"predicate\":[]}"}) {
    EXPECT_FALSE(parse_statement(std::string_view(text))) << text;
  }
}

}  // namespace
}  // namespace mlsc::sign
