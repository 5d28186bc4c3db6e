// Document parsers: what each format contributes, envelopes, and hostile input.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "graph/json_input.hpp"
#include "mlsc/graph/ingest.hpp"
#include "mlsc/sign/statement.hpp"

namespace mlsc::graph {
namespace {

using nlohmann::json;

const std::string kHexA(64, 'a');
const std::string kHexB(64, 'b');
const std::string kHexC(64, 'c');

bool has_edge(const GraphDocument& d, const std::string& down, EdgeKind k, const std::string& up) {
  return std::find(d.edges().begin(), d.edges().end(), Edge{up, down, k}) != d.edges().end();
}

Expected<GraphDocument> parse(const json& j) {
  const auto text = j.dump();
  return parse_document(as_bytes(text), "test");
}

std::string base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  while (out.size() % 4) out += '=';
  return out;
}

json slsa_statement() {
  return {
      {"_type", "https://in-toto.io/Statement/v1"},
      {"subject", {{{"name", "model.pt"}, {"digest", {{"sha256", kHexA}}}}}},
      {"predicateType", "https://slsa.dev/provenance/v1"},
      {"predicate",
       {{"buildDefinition",
         {{"buildType", "https://mlsc.dev/training/v1"},
          {"externalParameters", json::object()},
          {"resolvedDependencies",
           {{{"uri", "https://data.example/datasets/cats"},
             {"digest", {{"sha256", kHexB}}},
             {"annotations", {{"kind", "dataset"}, {"weight", 0.7}}}},
            {{"uri", "pkg:pypi/torch@1.13.1"}},
            {{"name", "base"},
             {"digest", {{"sha256", kHexC}}},
             {"annotations", {{"kind", "base_model"}}}},
            {{"uri", "git+https://git.example/repo"}, {"digest", {{"gitCommit", "abc123"}}}}}}}},
        {"runDetails", {{"builder", {{"id", "https://ci.example/runner"}}}}}}}};
}

TEST(GraphIngest, DatasetManifestNamesItsDatasetAndContainsItsFiles) {
  const json statement = {
      {"_type", "https://in-toto.io/Statement/v1"},
      {"subject", {{{"name", "cats"}, {"digest", {{"sha256", kHexA}}}}}},
      {"predicateType", "https://mlsc.dev/dataset-manifest/v1"},
      {"predicate",
       {{"name", "cats"},
        {"files", {{{"path", "train/0.npy"}, {"size", 10}, {"sha256", kHexB}}}},
        {"records", {{{"url", "https://img.example/1.jpg"}, {"sha256", kHexC}}}}}}};
  auto doc = parse(statement);
  ASSERT_TRUE(doc) << doc.error().describe();
  const auto root = "sha256:" + kHexA;
  EXPECT_EQ(doc->format, "dataset-manifest");
  EXPECT_TRUE(has_edge(*doc, root, EdgeKind::instance_of, "dataset:cats"));
  EXPECT_TRUE(has_edge(*doc, root, EdgeKind::contains, "sha256:" + kHexB));
  EXPECT_TRUE(has_edge(*doc, root, EdgeKind::contains, "sha256:" + kHexC));

  json broken = statement;
  broken["predicate"]["files"][0].erase("sha256");
  EXPECT_FALSE(parse(broken));
}

TEST(GraphIngest, SlsaProvenanceContributesInputsDatasetsBaseModelAndBuilder) {
  auto doc = parse(slsa_statement());
  ASSERT_TRUE(doc) << doc.error().describe();
  const auto model = "sha256:" + kHexA;
  EXPECT_EQ(doc->format, "slsa-provenance-v1");
  EXPECT_TRUE(doc->digest.starts_with("sha256:"));
  EXPECT_TRUE(has_edge(*doc, model, EdgeKind::built_from, "sha256:" + kHexB));
  EXPECT_TRUE(has_edge(*doc, "sha256:" + kHexB, EdgeKind::instance_of,
                       "dataset:https://data.example/datasets/cats"));
  EXPECT_TRUE(has_edge(*doc, model, EdgeKind::built_from, "pkg:pypi/torch@1.13.1"));
  EXPECT_TRUE(has_edge(*doc, model, EdgeKind::derived_from, "sha256:" + kHexC));
  EXPECT_TRUE(has_edge(*doc, model, EdgeKind::built_from, "gitcommit:abc123"));
  EXPECT_TRUE(has_edge(*doc, "gitcommit:abc123", EdgeKind::instance_of,
                       "uri:git+https://git.example/repo"));
  EXPECT_TRUE(has_edge(*doc, model, EdgeKind::produced_by, "builder:https://ci.example/runner"));
  EXPECT_EQ(doc->edges().size(), 7U);
}

TEST(GraphIngest, DsseEnvelopeAndSigstoreBundleAddClaimedSigners) {
  const auto payload = slsa_statement().dump();
  json envelope = {{"payloadType", "application/vnd.in-toto+json"},
                   {"payload", base64(payload)},
                   {"signatures", {{{"keyid", "team-key"}, {"sig", "AAAA"}}}}};
  auto doc = parse(envelope);
  ASSERT_TRUE(doc) << doc.error().describe();
  EXPECT_TRUE(has_edge(*doc, "sha256:" + kHexA, EdgeKind::signed_by, "identity:key:team-key"));

  json bundle = {{"mediaType", "application/vnd.dev.sigstore.bundle.v0.3+json"},
                 {"verificationMaterial", {{"publicKey", {{"hint", "ci-signer"}}}}},
                 {"dsseEnvelope", envelope}};
  auto b = parse(bundle);
  ASSERT_TRUE(b) << b.error().describe();
  EXPECT_TRUE(has_edge(*b, "sha256:" + kHexA, EdgeKind::signed_by, "identity:key:ci-signer"));
  EXPECT_TRUE(has_edge(*b, "sha256:" + kHexA, EdgeKind::signed_by, "identity:key:team-key"));
  EXPECT_NE(b->digest, doc->digest);

  envelope["payloadType"] = "text/plain";
  EXPECT_FALSE(parse(envelope));
  envelope["payloadType"] = "application/vnd.in-toto+json";
  envelope["payload"] = "!!notbase64";
  EXPECT_FALSE(parse(envelope));
}

TEST(GraphIngest, ModelSigningStatementContainsItsFiles) {
  sign::Manifest m;
  m.model_name = "tiny";
  m.resources.push_back({"config.json", "sha256", *sign::Digest::from_hex(kHexB)});
  m.resources.push_back({"weights.bin", "sha256", *sign::Digest::from_hex(kHexC)});
  auto statement = sign::statement_json(m);
  ASSERT_TRUE(statement) << statement.error().describe();
  auto doc = parse_document(as_bytes(*statement), "tiny.sig");
  ASSERT_TRUE(doc) << doc.error().describe();
  EXPECT_EQ(doc->format, "model-signing");
  const auto root = m.root_digest();
  ASSERT_TRUE(root);
  const auto model = "sha256:" + root->hex();
  EXPECT_TRUE(has_edge(*doc, model, EdgeKind::contains, "sha256:" + kHexB));
  EXPECT_TRUE(has_edge(*doc, model, EdgeKind::contains, "sha256:" + kHexC));
  // A statement whose subject does not match its resources is refused.
  auto tampered = json::parse(*statement);
  tampered["subject"][0]["digest"]["sha256"] = kHexA;
  EXPECT_FALSE(parse(tampered));
}

TEST(GraphIngest, CycloneDxComponentsDependenciesModelCardAndPedigree) {
  json bom = {
      {"bomFormat", "CycloneDX"},
      {"specVersion", "1.6"},
      {"metadata", {{"component", {{"type", "application"}, {"name", "svc"}, {"bom-ref", "svc"}}}}},
      {"components",
       {{{"type", "library"},
         {"name", "numpy"},
         {"version", "1.24"},
         {"bom-ref", "np"},
         {"purl", "pkg:pypi/numpy@1.24"}},
        {{"type", "machine-learning-model"},
         {"name", "clf"},
         {"bom-ref", "clf"},
         {"hashes", {{{"alg", "SHA-256"}, {"content", kHexA}}}},
         {"modelCard",
          {{"modelParameters",
            {{"datasets", {{{"ref", "train"}}, {{"type", "dataset"}, {"name", "inline-set"}}}}}}}},
         {"pedigree",
          {{"ancestors",
            {{{"type", "machine-learning-model"},
              {"name", "base"},
              {"hashes", {{{"alg", "SHA-256"}, {"content", kHexB}}}}}}}}}},
        {{"type", "data"}, {"name", "train-set"}, {"bom-ref", "train"}}}},
      {"dependencies",
       {{{"ref", "svc"}, {"dependsOn", {"clf", "np"}}}, {{"ref", "clf"}, {"dependsOn", {"np"}}}}}};
  auto doc = parse(bom);
  ASSERT_TRUE(doc) << doc.error().describe();
  const auto clf = "sha256:" + kHexA;
  EXPECT_EQ(doc->format, "cyclonedx");
  EXPECT_TRUE(has_edge(*doc, "component:svc", EdgeKind::depends_on, clf));
  EXPECT_TRUE(has_edge(*doc, "component:svc", EdgeKind::depends_on, "pkg:pypi/numpy@1.24"));
  EXPECT_TRUE(has_edge(*doc, clf, EdgeKind::depends_on, "pkg:pypi/numpy@1.24"));
  EXPECT_TRUE(has_edge(*doc, clf, EdgeKind::trained_on, "dataset:train-set"));
  EXPECT_TRUE(has_edge(*doc, clf, EdgeKind::trained_on, "dataset:inline-set"));
  EXPECT_TRUE(has_edge(*doc, clf, EdgeKind::derived_from, "sha256:" + kHexB));
  EXPECT_TRUE(has_edge(*doc, clf, EdgeKind::instance_of, "component:clf"));
}

TEST(GraphIngest, ScanReportLinksFilesToVerdicts) {
  json report = {{"files",
                  {{{"path", "m/evil.pkl"}, {"max_severity", "critical"}},
                   {{"path", "m/ok.safetensors"}, {"max_severity", "none"}}}},
                 {"summary", {{"files", 2}}}};
  auto doc = parse(report);
  ASSERT_TRUE(doc) << doc.error().describe();
  EXPECT_TRUE(has_edge(*doc, "file:m/evil.pkl", EdgeKind::scanned_as, "verdict:critical"));
  EXPECT_TRUE(has_edge(*doc, "file:m/ok.safetensors", EdgeKind::scanned_as, "verdict:none"));
  report["files"][0]["max_severity"] = "apocalyptic";
  EXPECT_FALSE(parse(report));
}

TEST(GraphIngest, HostileDocumentsAreRefusedWithReasons) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto r = parse_document(as_bytes(deep), "deep");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().offset, std::optional<std::uint64_t>(64));
  auto bad = parse_document(as_bytes(std::string("{\"a\": tru")), "bad");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().offset.has_value());
  EXPECT_FALSE(parse(json::array()));
  EXPECT_FALSE(parse(json{{"hello", "world"}}));
  auto stmt = slsa_statement();
  stmt["predicateType"] = "https://example.com/other";
  EXPECT_FALSE(parse(stmt));
  stmt = slsa_statement();
  stmt["subject"][0]["digest"] = {{"sha256", "not hex"}};
  EXPECT_FALSE(parse(stmt));
  stmt = slsa_statement();
  stmt["subject"][0]["name"] = std::string(
      "a\x01"
      "b");
  EXPECT_TRUE(parse(stmt));  // a label is free text; keys are what must be clean
  stmt["predicate"]["runDetails"]["builder"]["id"] = std::string("x\ny");
  EXPECT_FALSE(parse(stmt));
  ParseLimits tiny;
  tiny.max_bytes = 10;
  EXPECT_FALSE(parse_document(as_bytes(slsa_statement().dump()), "big", tiny));
  // A depth check that ignores brackets inside strings.
  json quoted = slsa_statement();
  quoted["predicate"]["buildDefinition"]["externalParameters"]["s"] = std::string(500, '[');
  EXPECT_TRUE(parse(quoted));
}

TEST(GraphModel, KeysKindsAndCandidates) {
  EXPECT_EQ(kind_of_key("sha256:abcd"), NodeKind::artifact);
  EXPECT_EQ(kind_of_key("pkg:pypi/x@1"), NodeKind::package);
  EXPECT_EQ(kind_of_key("dataset:cafe"), NodeKind::dataset);
  EXPECT_EQ(kind_of_key("no-prefix"), std::nullopt);
  EXPECT_EQ(kind_of_key("dataset:"), std::nullopt);
  EXPECT_EQ(digest_key("SHA-256", "ABCD"), std::optional<std::string>("sha256:abcd"));
  EXPECT_EQ(digest_key("sha256", "xyz"), std::nullopt);
  EXPECT_EQ(candidate_keys("dataset:cafe"), std::vector<std::string>{"dataset:cafe"});
  EXPECT_EQ(candidate_keys("SHA256:AB"), (std::vector<std::string>{"SHA256:AB", "sha256:ab"}));
  const auto c = candidate_keys("imagenet");
  EXPECT_NE(std::find(c.begin(), c.end(), "dataset:imagenet"), c.end());
  GraphDocument d;
  d.add_edge("dataset:a", EdgeKind::built_from, "dataset:a");
  EXPECT_TRUE(d.edges().empty());
  d.add_edge("dataset:b", EdgeKind::built_from, "dataset:a");
  d.add_edge("dataset:b", EdgeKind::built_from, "dataset:a");
  EXPECT_EQ(d.edges().size(), 1U);
}

}  // namespace
}  // namespace mlsc::graph
