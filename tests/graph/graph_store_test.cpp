// The store on hand-built graphs with known answers (diamonds, cycles, depth limits, paths),
// run on SQLite always and on PostgreSQL too when MLSC_TEST_PG_URI names a server.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "mlsc/graph/store.hpp"

namespace mlsc::graph {
namespace {

std::string backend_uri(const std::string& backend) {
  if (backend == "sqlite") return ":memory:";
  const char* uri = std::getenv("MLSC_TEST_PG_URI");
  return uri ? uri : "";
}

std::vector<std::string> backends() {
  std::vector<std::string> out = {"sqlite"};
  if (std::getenv("MLSC_TEST_PG_URI")) out.push_back("postgresql");
  return out;
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const auto uri = backend_uri(GetParam());
    auto conn = GetParam() == "sqlite" ? open_sqlite(uri) : open_postgres(uri);
    ASSERT_TRUE(conn) << conn.error().describe();
    // Each test starts from an empty schema (the PostgreSQL database is shared by the tests).
    ASSERT_TRUE((*conn)->execute_script(
        "DROP TABLE IF EXISTS edges; DROP TABLE IF EXISTS nodes; DROP TABLE IF EXISTS documents"));
    auto store = GraphStore::over(std::move(*conn));
    ASSERT_TRUE(store) << store.error().describe();
    store_.emplace(std::move(*store));
  }

  // Ingests "a>b" edges (b downstream of a) over dataset:<name> nodes as one document.
  IngestResult ingest(const std::vector<std::pair<std::string, std::string>>& edges,
                      const std::string& digest, EdgeKind kind = EdgeKind::built_from) {
    GraphDocument doc;
    doc.format = "test";
    doc.digest = digest;
    for (const auto& [up, down] : edges) doc.add_edge(dataset_key(down), kind, dataset_key(up));
    auto r = store_->ingest(doc);
    EXPECT_TRUE(r) << r.error().describe();
    return r ? *r : IngestResult{};
  }

  std::map<std::string, int> reach(const std::string& name, Direction d, int depth = 64) {
    auto r = store_->reach(dataset_key(name), d, depth);
    EXPECT_TRUE(r) << r.error().describe();
    std::map<std::string, int> out;
    if (r) {
      for (const auto& x : *r) out[x.key.substr(8)] = x.depth;
    }
    return out;
  }

  std::optional<GraphStore> store_;
};

TEST_P(StoreTest, DiamondDownstreamAndUpstreamWithShortestDepth) {
  ingest({{"a", "b"}, {"a", "c"}, {"b", "d"}, {"c", "d"}, {"d", "e"}, {"a", "e"}}, "sha256:01");
  EXPECT_EQ(reach("a", Direction::downstream),
            (std::map<std::string, int>{{"b", 1}, {"c", 1}, {"d", 2}, {"e", 1}}));
  EXPECT_EQ(reach("e", Direction::upstream),
            (std::map<std::string, int>{{"a", 1}, {"b", 2}, {"c", 2}, {"d", 1}}));
  EXPECT_EQ(reach("d", Direction::downstream), (std::map<std::string, int>{{"e", 1}}));
  EXPECT_TRUE(reach("e", Direction::downstream).empty());
}

TEST_P(StoreTest, CycleTerminatesAndExcludesStart) {
  ingest({{"x", "y"}, {"y", "z"}, {"z", "x"}, {"z", "w"}}, "sha256:02");
  EXPECT_EQ(reach("x", Direction::downstream),
            (std::map<std::string, int>{{"y", 1}, {"z", 2}, {"w", 3}}));
  EXPECT_EQ(reach("x", Direction::upstream), (std::map<std::string, int>{{"z", 1}, {"y", 2}}));
  // A large depth limit on a cycle still ends (UNION stops repeating rows).
  EXPECT_EQ(reach("y", Direction::downstream, 1000).size(), 3U);
}

TEST_P(StoreTest, DepthLimitCutsLongChains) {
  std::vector<std::pair<std::string, std::string>> chain;
  for (int i = 0; i < 10; ++i)
    chain.emplace_back("n" + std::to_string(i), "n" + std::to_string(i + 1));
  ingest(chain, "sha256:03");
  EXPECT_EQ(reach("n0", Direction::downstream, 3),
            (std::map<std::string, int>{{"n1", 1}, {"n2", 2}, {"n3", 3}}));
  EXPECT_EQ(reach("n0", Direction::downstream).size(), 10U);
  EXPECT_FALSE(store_->reach(dataset_key("n0"), Direction::downstream, 0));
  EXPECT_FALSE(store_->reach("dataset:missing", Direction::downstream));
}

TEST_P(StoreTest, ShortestPathBothDirections) {
  ingest({{"a", "b"}, {"a", "c"}, {"b", "d"}, {"c", "d"}, {"d", "e"}, {"b", "x"}}, "sha256:04");
  auto p = store_->path("dataset:a", "dataset:e");
  ASSERT_TRUE(p && *p);
  EXPECT_EQ((*p)->direction, Direction::downstream);
  std::vector<std::string> keys;
  for (const auto& s : (*p)->steps) keys.push_back(s.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"dataset:a", "dataset:b", "dataset:d", "dataset:e"}));
  EXPECT_EQ((*p)->steps[0].edge, "");
  EXPECT_EQ((*p)->steps[1].edge, "built_from");

  auto back = store_->path("dataset:e", "dataset:a");
  ASSERT_TRUE(back && *back);
  EXPECT_EQ((*back)->direction, Direction::upstream);
  EXPECT_EQ((*back)->steps.front().key, "dataset:e");
  EXPECT_EQ((*back)->steps.back().key, "dataset:a");
  EXPECT_EQ((*back)->steps.size(), 4U);

  auto none = store_->path("dataset:c", "dataset:x");  // siblings: no directed path
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST_P(StoreTest, IngestIsIdempotentPerDocumentDigest) {
  auto first = ingest({{"a", "b"}, {"b", "c"}}, "sha256:05");
  EXPECT_TRUE(first.added);
  EXPECT_EQ(first.nodes, 3U);
  EXPECT_EQ(first.edges, 2U);
  auto before = store_->counts();
  ASSERT_TRUE(before);
  auto again = ingest({{"a", "b"}, {"b", "c"}}, "sha256:05");
  EXPECT_FALSE(again.added);
  auto after = store_->counts();
  ASSERT_TRUE(after);
  EXPECT_EQ(before->nodes, after->nodes);
  EXPECT_EQ(before->edges, after->edges);
  EXPECT_EQ(after->documents, 1U);
  // A second document restating an edge adds only what is new.
  ingest({{"a", "b"}, {"c", "d"}}, "sha256:06");
  auto third = store_->counts();
  ASSERT_TRUE(third);
  EXPECT_EQ(third->nodes, 4U);
  EXPECT_EQ(third->edges, 3U);
  EXPECT_EQ(third->documents, 2U);
}

TEST_P(StoreTest, ResolvesUserTextToKeysAndKeepsFirstLabel) {
  GraphDocument doc;
  doc.digest = "sha256:07";
  doc.format = "test";
  doc.add_node("sha256:abcd", "");
  doc.add_edge("sha256:abcd", EdgeKind::depends_on, "pkg:pypi/torch@1.13");
  doc.add_edge("sha256:abcd", EdgeKind::trained_on, dataset_key("imagenet"));
  ASSERT_TRUE(store_->ingest(doc));
  GraphDocument labels;
  labels.digest = "sha256:08";
  labels.format = "test";
  labels.add_node("sha256:abcd", "model.bin");
  ASSERT_TRUE(store_->ingest(labels));
  EXPECT_EQ(*store_->resolve("imagenet"), std::optional<std::string>("dataset:imagenet"));
  EXPECT_EQ(*store_->resolve("SHA256:ABCD"), std::optional<std::string>("sha256:abcd"));
  EXPECT_EQ(*store_->resolve("pkg:pypi/torch@1.13"),
            std::optional<std::string>("pkg:pypi/torch@1.13"));
  EXPECT_EQ(*store_->resolve("nothing"), std::optional<std::string>());
  auto r = store_->reach("pkg:pypi/torch@1.13", Direction::downstream);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1U);
  EXPECT_EQ((*r)[0].label, "model.bin");
  EXPECT_EQ((*r)[0].kind, "artifact");
}

TEST_P(StoreTest, BulkLoadMatchesIngestAnswers) {
  const std::vector<std::string> keys = {"dataset:a", "dataset:b", "dataset:c", "dataset:d",
                                         "dataset:e"};
  const std::vector<BulkEdge> edges = {{0, 1, EdgeKind::built_from}, {0, 2, EdgeKind::built_from},
                                       {1, 3, EdgeKind::built_from}, {2, 3, EdgeKind::built_from},
                                       {3, 4, EdgeKind::built_from}, {0, 4, EdgeKind::built_from}};
  std::size_t n = 0, e = 0;
  BulkSource source;
  source.next_node = [&](Node& node) {
    if (n == keys.size()) return false;
    node = Node{keys[n++], "label"};
    return true;
  };
  source.next_edge = [&](BulkEdge& edge) {
    if (e == edges.size()) return false;
    edge = edges[e++];
    return true;
  };
  auto loaded = store_->bulk_load(source);
  ASSERT_TRUE(loaded) << loaded.error().describe();
  EXPECT_EQ(loaded->nodes, 5U);
  EXPECT_EQ(loaded->edges, 6U);
  EXPECT_EQ(reach("a", Direction::downstream),
            (std::map<std::string, int>{{"b", 1}, {"c", 1}, {"d", 2}, {"e", 1}}));
  EXPECT_EQ(reach("e", Direction::upstream),
            (std::map<std::string, int>{{"a", 1}, {"b", 2}, {"c", 2}, {"d", 1}}));
  // Ids continue after the bulk-loaded ones, and a second bulk load is refused.
  ingest({{"e", "f"}}, "sha256:09");
  EXPECT_EQ(reach("a", Direction::downstream).at("f"), 2);
  n = e = 0;
  EXPECT_FALSE(store_->bulk_load(source));
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::ValuesIn(backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace mlsc::graph
