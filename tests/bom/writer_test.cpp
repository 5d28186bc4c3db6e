#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "bom/license_ids.hpp"
#include "mlsc/bom/validate.hpp"
#include "mlsc/bom/writer.hpp"

namespace mlsc::bom {
namespace {

using nlohmann::json;

Inventory sample() {
  Inventory inv;
  Model m;
  m.name = "acme/tiny";
  m.hub_id = "acme/tiny";
  m.revision = "0123456789abcdef0123456789abcdef01234567";
  m.location = "/models/tiny";
  m.files = {{"config.json", 10, std::string(64, 'a')},
             {"model.safetensors", 100, std::string(64, 'b')}};
  m.formats = {"safetensors"};
  m.parameters = 150;
  m.dtypes = {"F16", "F32"};
  m.architectures = {"BertForSequenceClassification"};
  m.model_type = "bert";
  m.task = "text-classification";
  m.card.license = "apache-2.0";
  m.card.base_models = {"prajjwal1/bert-tiny"};
  m.card.datasets = {"imdb"};
  m.card.eval_datasets = {"glue"};
  m.card.metrics = {{"accuracy", "0.86", "Accuracy", "glue", "text-classification"}};
  m.card.limitations = "English only.";
  m.card.intended_uses = "Reviews.";
  m.card.ethical_considerations = "Opinions.";
  inv.models.push_back(m);
  Package numpy;
  numpy.name = "numpy";
  numpy.version = "1.24.2";
  numpy.hashes = {{"SHA-256", std::string(64, 'c')}};
  numpy.license = "BSD-3-Clause";
  numpy.source = "requirements.txt";
  Package torch;
  torch.name = "torch";
  torch.version = "1.13.1+cu117";
  torch.license = "BSD-3";  // not an SPDX id: a free-text name
  torch.requires_names = {"numpy", "absent"};
  torch.source = "site-packages";
  Package unpinned;
  unpinned.name = "Requests";
  unpinned.specifier = ">=2.28";
  unpinned.scope = PackageScope::dev;
  unpinned.source = "requirements-dev.txt";
  Package conda;
  conda.ecosystem = "conda";
  conda.name = "cudatoolkit";
  conda.version = "11.7.0";
  conda.build = "h1";
  conda.channel = "nvidia";
  conda.license = "MIT OR Apache-2.0";
  inv.packages = {numpy, torch, unpinned, conda};
  inv.runtime = {{"cuda-runtime", "11.7", "torch/version.py", false},
                 {"cuda-driver", "535.104.05", "libcuda.so", true}};
  inv.projects = {{"demo", "1.0", "pyproject.toml", {"numpy", "torch"}}};
  inv.notes = {"something was skipped"};
  return inv;
}

const SchemaSet& schemas() {
  static const SchemaSet set = [] {
    auto s = load_bom_schemas(std::string(MLSC_SHARED_DIR) + "/specs");
    if (!s) throw std::runtime_error(s.error().describe());
    return std::move(*s);
  }();
  return set;
}

void expect_valid(const std::string& text) {
  auto v = validate_bom(text, schemas());
  ASSERT_TRUE(v) << v.error().describe();
  EXPECT_TRUE(v->valid()) << (v->violations.empty() ? ""
                                                    : v->violations[0].instance_path + ": " +
                                                          v->violations[0].message);
}

const json* component(const json& bom, std::string_view ref) {
  for (const auto& c : bom["components"])
    if (c.value("bom-ref", "") == ref) return &c;
  return nullptr;
}

TEST(CycloneDx, SampleIsValidAndComplete) {
  BomOptions options;
  options.timestamp = "2024-05-01T12:00:00.123Z";
  auto text = write_cyclonedx(sample(), options);
  ASSERT_TRUE(text) << text.error().describe();
  expect_valid(*text);
  const auto bom = json::parse(*text);
  EXPECT_EQ(bom["metadata"]["timestamp"], "2024-05-01T12:00:00Z");
  EXPECT_EQ(bom["metadata"]["tools"]["components"][0]["name"], "mlsc");
  const auto* model = component(bom, "model:acme/tiny@0123456789abcdef0123456789abcdef01234567");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ((*model)["type"], "machine-learning-model");
  EXPECT_EQ((*model)["purl"], "pkg:huggingface/acme/tiny@0123456789abcdef0123456789abcdef01234567");
  EXPECT_EQ((*model)["licenses"][0]["license"]["id"], "Apache-2.0");
  EXPECT_EQ((*model)["components"].size(), 2U);
  EXPECT_EQ((*model)["components"][1]["hashes"][0]["content"], std::string(64, 'b'));
  const auto& card = (*model)["modelCard"];
  EXPECT_EQ(card["modelParameters"]["task"], "text-classification");
  EXPECT_EQ(card["modelParameters"]["architectureFamily"], "bert");
  EXPECT_EQ(card["modelParameters"]["modelArchitecture"], "BertForSequenceClassification");
  EXPECT_EQ(card["modelParameters"]["datasets"].size(), 2U);
  EXPECT_EQ(card["quantitativeAnalysis"]["performanceMetrics"][0]["value"], "0.86");
  EXPECT_EQ(card["considerations"]["technicalLimitations"][0], "English only.");
  EXPECT_NE(component(bom, "model:prajjwal1/bert-tiny"), nullptr);
  EXPECT_EQ((*component(bom, "dataset:imdb"))["type"], "data");
  EXPECT_EQ((*component(bom, "pkg:pypi/torch@1.13.1%2Bcu117"))["licenses"][0]["license"]["name"],
            "BSD-3");
  EXPECT_EQ((*component(bom, "pkg:pypi/requests"))["scope"], "excluded");
  EXPECT_EQ((*component(bom, "pkg:conda/cudatoolkit@11.7.0?build=h1&channel=nvidia"))["licenses"][0]
                                                                                     ["expression"],
            "MIT OR Apache-2.0");
  EXPECT_EQ((*component(bom, "runtime:cuda-driver@535.104.05"))["type"], "device-driver");
  bool model_dep = false;
  bool torch_dep = false;
  for (const auto& d : bom["dependencies"]) {
    if (d["ref"] == (*model)["bom-ref"])
      model_dep = d["dependsOn"] == json::array({"dataset:imdb", "model:prajjwal1/bert-tiny"});
    if (d["ref"] == "pkg:pypi/torch@1.13.1%2Bcu117")
      torch_dep = d["dependsOn"] == json::array({"pkg:pypi/numpy@1.24.2"});
  }
  EXPECT_TRUE(model_dep);
  EXPECT_TRUE(torch_dep);
}

TEST(CycloneDx, FixedTimestampIsReproducibleOtherwiseSerialDiffers) {
  BomOptions fixed;
  fixed.timestamp = "2024-05-01T12:00:00Z";
  EXPECT_EQ(*write_cyclonedx(sample(), fixed), *write_cyclonedx(sample(), fixed));
  const auto a = json::parse(*write_cyclonedx(sample(), {}));
  const auto b = json::parse(*write_cyclonedx(sample(), {}));
  EXPECT_NE(a["serialNumber"], b["serialNumber"]);
  fixed.timestamp = "2024-13-01T00:00:00Z";
  EXPECT_FALSE(write_cyclonedx(sample(), fixed));
  fixed.timestamp = "2024-05-01T12:00:00+02:00";
  EXPECT_FALSE(write_cyclonedx(sample(), fixed));
}

TEST(CycloneDx, EmptyInventoryAndHostileStrings) {
  expect_valid(*write_cyclonedx(Inventory{}, {}));
  Inventory inv;
  Package p;
  p.name = "x";
  p.version = "1";
  p.summary = std::string("bad \xff\xfe utf8 \x01", 14);
  p.homepage = "not a url with spaces";
  inv.packages.push_back(p);
  inv.packages.push_back(p);  // same identity twice: refs stay unique
  auto text = write_cyclonedx(inv, {});
  ASSERT_TRUE(text);
  const auto bom = json::parse(*text);  // valid UTF-8 JSON
  EXPECT_NE(bom["components"][0]["bom-ref"], bom["components"][1]["bom-ref"]);
  // The home page is not an IRI: kept as a property, so the BOM stays valid.
  expect_valid(*text);
  EXPECT_EQ(bom["components"][0].contains("externalReferences"), false);
  bool kept = false;
  for (const auto& p : bom["components"][0]["properties"])
    kept = kept || (p["name"] == "mlsc:package:homepage" && p["value"] == "not a url with spaces");
  EXPECT_TRUE(kept);
}

TEST(Spdx3, SampleIsValidWithRelationships) {
  BomOptions options;
  options.timestamp = "2024-05-01T12:00:00Z";
  auto text = write_spdx3(sample(), options);
  ASSERT_TRUE(text) << text.error().describe();
  expect_valid(*text);
  EXPECT_EQ(*text, *write_spdx3(sample(), options));
  const auto doc = json::parse(*text);
  std::map<std::string, json> by_id;
  std::multiset<std::string> relationship_types;
  std::set<std::string> types;
  for (const auto& e : doc["@graph"]) {
    types.insert(e["type"].get<std::string>());
    if (e.contains("spdxId")) by_id[e["spdxId"]] = e;
    if (e["type"] == "Relationship")
      relationship_types.insert(e["relationshipType"].get<std::string>());
  }
  for (const char* t : {"CreationInfo", "SpdxDocument", "ai_AIPackage", "dataset_DatasetPackage",
                        "software_Package", "software_File", "simplelicensing_LicenseExpression",
                        "Tool", "SoftwareAgent"})
    EXPECT_EQ(types.count(t), 1U) << t;
  for (const char* r :
       {"ancestorOf", "trainedOn", "testedOn", "dependsOn", "contains", "hasDeclaredLicense"})
    EXPECT_GE(relationship_types.count(r), 1U) << r;
  for (const auto& e : doc["@graph"]) {
    if (e["type"] != "Relationship") continue;
    EXPECT_EQ(by_id.count(e["from"]), 1U) << e.dump();
    for (const auto& t : e["to"]) EXPECT_EQ(by_id.count(t), 1U) << e.dump();
    if (e["relationshipType"] == "ancestorOf") {
      EXPECT_EQ(by_id[e["from"]]["name"], "prajjwal1/bert-tiny");
    }
  }
}

TEST(Licenses, EveryMappedIdIsAnSpdxId) {
  std::ifstream in(std::string(MLSC_SHARED_DIR) + "/specs/cyclonedx/spdx.schema.json");
  const auto list = json::parse(in)["enum"];
  std::set<std::string> ids(list.begin(), list.end());
  for (const auto id : detail::known_spdx_license_ids())
    EXPECT_EQ(ids.count(std::string(id)), 1U) << id;
  EXPECT_EQ(detail::spdx_license_id("apache-2.0"), "Apache-2.0");
  EXPECT_EQ(detail::spdx_license_id("cc-by-nc-sa-4.0"), "CC-BY-NC-SA-4.0");
  EXPECT_EQ(detail::spdx_license_id("llama2"), "");
}

}  // namespace
}  // namespace mlsc::bom
