#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "mlsc/bom/json_schema.hpp"
#include "mlsc/bom/validate.hpp"

namespace mlsc::bom {
namespace {

using nlohmann::json;

std::size_t violations(const char* schema, const char* instance) {
  SchemaSet set;
  auto added = set.add(json::parse(schema), "urn:test");
  EXPECT_TRUE(added) << (added ? "" : added.error().message);
  auto v = set.validate(json::parse(instance), "urn:test");
  EXPECT_TRUE(v) << (v ? "" : v.error().message);
  return v ? v->size() : 999;
}

TEST(JsonSchema, TypesEnumConstNumbers) {
  EXPECT_EQ(violations(R"({"type": "integer"})", "3"), 0U);
  EXPECT_EQ(violations(R"({"type": "integer"})", "3.0"), 0U);
  EXPECT_EQ(violations(R"({"type": "integer"})", "3.5"), 1U);
  EXPECT_EQ(violations(R"({"type": ["string", "null"]})", "null"), 0U);
  EXPECT_EQ(violations(R"({"enum": [1, "a"]})", "1.0"), 0U);
  EXPECT_EQ(violations(R"({"const": {"a": [1]}})", R"({"a": [2]})"), 1U);
  EXPECT_EQ(violations(R"({"minimum": 0, "exclusiveMaximum": 10})", "10"), 1U);
  EXPECT_EQ(violations(R"({"multipleOf": 0.5})", "2.5"), 0U);
}

TEST(JsonSchema, StringsPatternsFormats) {
  EXPECT_EQ(violations(R"({"pattern": "^urn:uuid:[0-9a-f]{8}$"})", R"("urn:uuid:0123abcd")"), 0U);
  EXPECT_EQ(violations(R"({"pattern": "^(?!_:).+:.+"})", R"("_:blank")"), 1U);
  EXPECT_EQ(violations(R"({"maxLength": 2})", R"("\u00e9\u00e9")"), 0U);  // code points, not bytes
  EXPECT_EQ(violations(R"({"format": "date-time"})", R"("2024-02-29T23:59:59Z")"), 0U);
  EXPECT_EQ(violations(R"({"format": "date-time"})", R"("2023-02-29T23:59:59Z")"), 1U);
  EXPECT_EQ(violations(R"({"format": "date-time"})", R"("2024-01-01 10:00")"), 1U);
  EXPECT_EQ(violations(R"({"format": "iri-reference"})", R"("has space")"), 1U);
  EXPECT_EQ(violations(R"({"format": "unknown-format"})", R"("anything")"), 0U);
}

TEST(JsonSchema, ObjectsAndArraysDraft7) {
  const char* schema = R"({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
    "required": ["a"], "properties": {"a": {"type": "array", "items": {"type": "string"}, "uniqueItems": true}},
    "patternProperties": {"^x-": {"type": "number"}}, "additionalProperties": false,
    "definitions": {"t": {"type": "array", "items": [{"type": "string"}], "additionalItems": false}}})";
  EXPECT_EQ(violations(schema, R"({"a": ["p", "q"], "x-n": 1})"), 0U);
  EXPECT_EQ(violations(schema, R"({"a": ["p", "p"]})"), 1U);
  EXPECT_EQ(violations(schema, R"({"a": [1], "x-n": "s", "other": 0})"), 3U);
  EXPECT_EQ(violations(schema, R"({})"), 1U);
}

TEST(JsonSchema, Draft7RefIgnoresSiblings2020DoesNot) {
  const char* d7 = R"({"$schema": "http://json-schema.org/draft-07/schema#",
    "definitions": {"s": {"type": "string"}}, "$ref": "#/definitions/s", "maxLength": 1})";
  EXPECT_EQ(violations(d7, R"("long")"), 0U);
  const char* d2020 = R"({"$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s", "maxLength": 1})";
  EXPECT_EQ(violations(d2020, R"("long")"), 1U);
}

TEST(JsonSchema, CombinatorsAndUnevaluatedProperties) {
  const char* schema = R"({"$schema": "https://json-schema.org/draft/2020-12/schema",
    "allOf": [{"properties": {"a": {"type": "integer"}}}],
    "anyOf": [{"properties": {"b": {"const": 1}}, "required": ["b"]}, {"properties": {"c": true}, "required": ["c"]}],
    "unevaluatedProperties": false})";
  EXPECT_EQ(violations(schema, R"({"a": 1, "b": 1})"), 0U);
  EXPECT_EQ(violations(schema, R"({"a": 1, "c": 0})"), 0U);
  EXPECT_EQ(violations(schema, R"({"a": 1, "c": 0, "d": 0})"), 1U);  // d: unevaluated
  EXPECT_GE(violations(schema, R"({"a": 1})"), 1U);                  // neither branch
  const char* one = R"({"oneOf": [{"type": "integer"}, {"minimum": 0}]})";
  EXPECT_EQ(violations(one, "-1"), 0U);
  EXPECT_EQ(violations(one, "1"), 1U);  // both match
  EXPECT_EQ(violations(R"({"not": {"type": "string"}})", R"("s")"), 1U);
  const char* cond =
      R"({"if": {"properties": {"k": {"const": "x"}}}, "then": {"required": ["v"]}, "else": {"required": ["w"]}})";
  EXPECT_EQ(violations(cond, R"({"k": "x"})"), 1U);
  EXPECT_EQ(violations(cond, R"({"k": "y", "w": 1})"), 0U);
}

TEST(JsonSchema, RefusesUnsupportedKeywordsAndLoops) {
  SchemaSet set;
  EXPECT_FALSE(set.add(json::parse(R"({"unevaluatedItems": false})"), "urn:a"));
  EXPECT_FALSE(set.add(json::parse(R"({"pattern": "("})"), "urn:b"));
  ASSERT_TRUE(set.add(json::parse(R"({"$ref": "#"})"), "urn:loop"));
  EXPECT_FALSE(set.validate(json(1), "urn:loop"));  // an Error, not a verdict
  ASSERT_TRUE(set.add(json::parse(R"({"$ref": "other.json"})"), "urn:dangling"));
  EXPECT_FALSE(set.validate(json(1), "urn:dangling"));
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class OfficialSchemas : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = load_bom_schemas(std::string(MLSC_SHARED_DIR) + "/specs");
    ASSERT_TRUE(s) << s.error().describe();
    schemas_ = new SchemaSet(std::move(*s));
  }
  static void TearDownTestSuite() {
    delete schemas_;
    schemas_ = nullptr;
  }
  static SchemaSet* schemas_;
};
SchemaSet* OfficialSchemas::schemas_ = nullptr;

TEST_F(OfficialSchemas, CycloneDxOwnMlExamplesAreValid) {
  for (const char* name :
       {"valid-machine-learning-1.6.json", "valid-machine-learning-considerations-env-1.6.json"}) {
    auto v =
        validate_bom(read(std::string(MLSC_SHARED_DIR) + "/specs/cyclonedx/" + name), *schemas_);
    ASSERT_TRUE(v) << v.error().describe();
    EXPECT_EQ(v->kind, BomKind::cyclonedx);
    EXPECT_TRUE(v->valid()) << name << ": "
                            << (v->violations.empty() ? ""
                                                      : v->violations[0].instance_path + " " +
                                                            v->violations[0].message);
  }
}

TEST_F(OfficialSchemas, CycloneDxMutationsAreCaught) {
  auto doc = json::parse(
      read(std::string(MLSC_SHARED_DIR) + "/specs/cyclonedx/valid-machine-learning-1.6.json"));
  auto expect_invalid = [&](json d, const char* what) {
    auto v = validate_bom(d.dump(), *schemas_);
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->valid()) << what;
  };
  auto d1 = doc;
  d1["components"][0]["type"] = "neural-net";
  expect_invalid(d1, "component type outside the enum");
  auto d2 = doc;
  d2["serialNumber"] = "urn:uuid:NOT-A-UUID";
  expect_invalid(d2, "serial number pattern");
  auto d3 = doc;
  d3["components"][0]["hashes"] = json::array({{{"alg", "SHA-256"}, {"content", "abc"}}});
  expect_invalid(d3, "hash content length");
  auto d4 = doc;
  d4["components"][0]["modelCard"]["modelParameters"]["unknownField"] = 1;
  expect_invalid(d4, "additional property in modelCard");
  auto d5 = doc;
  d5["dependencies"] = json::array({{{"ref", "nowhere"}}});
  expect_invalid(d5, "dependency ref with no bom-ref");
  auto d6 = doc;
  d6["specVersion"] = "1.4";
  expect_invalid(d6, "other spec version");
}

TEST_F(OfficialSchemas, SpdxMinimalDocumentAndMutations) {
  const json doc =
      json::parse(R"({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": [
    {"type": "CreationInfo", "@id": "_:ci", "specVersion": "3.0.1", "created": "2024-05-01T12:00:00Z", "createdBy": ["urn:x:agent"]},
    {"type": "SoftwareAgent", "spdxId": "urn:x:agent", "creationInfo": "_:ci", "name": "mlsc"},
    {"type": "ai_AIPackage", "spdxId": "urn:x:model", "creationInfo": "_:ci", "name": "m", "software_primaryPurpose": "model"},
    {"type": "dataset_DatasetPackage", "spdxId": "urn:x:data", "creationInfo": "_:ci", "name": "d", "dataset_datasetType": ["text"]},
    {"type": "Relationship", "spdxId": "urn:x:rel", "creationInfo": "_:ci", "from": "urn:x:model", "to": ["urn:x:data"], "relationshipType": "trainedOn"}]})");
  auto ok = validate_bom(doc.dump(), *schemas_);
  ASSERT_TRUE(ok) << ok.error().describe();
  EXPECT_TRUE(ok->valid()) << ok->violations[0].instance_path << " " << ok->violations[0].message;
  auto bad_rel = doc;
  bad_rel["@graph"][4]["relationshipType"] = "trainedWith";
  EXPECT_FALSE(validate_bom(bad_rel.dump(), *schemas_)->valid());
  auto no_type = doc;
  no_type["@graph"][3].erase("dataset_datasetType");
  EXPECT_FALSE(validate_bom(no_type.dump(), *schemas_)->valid());
  auto extra = doc;
  extra["@graph"][2]["ai_notAProperty"] = "x";
  EXPECT_FALSE(validate_bom(extra.dump(), *schemas_)->valid());
  auto dup = doc;
  dup["@graph"][3]["spdxId"] = "urn:x:model";
  EXPECT_FALSE(validate_bom(dup.dump(), *schemas_)->valid());
}

TEST_F(OfficialSchemas, NotABom) {
  auto v = validate_bom("{\"hello\": 1}", *schemas_);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, BomKind::unknown);
  EXPECT_FALSE(v->valid());
  auto broken = validate_bom("{", *schemas_);
  ASSERT_TRUE(broken);
  EXPECT_FALSE(broken->valid());
}

}  // namespace
}  // namespace mlsc::bom
