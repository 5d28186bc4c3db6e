// The lineage store: one schema and one set of SQL statements over SQLite (embedded, default)
// or PostgreSQL (shared, for teams). Walks are breadth-first searches, one SQL statement per
// level, that record each node once at its shortest distance: every reachable edge is read
// once, cycles and diamonds cost nothing extra, and a depth limit bounds the levels.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "mlsc/graph/model.hpp"
#include "mlsc/graph/sql.hpp"

namespace mlsc::graph {

inline constexpr int kDefaultMaxDepth = 64;
inline constexpr int kMaxDepthLimit = 1000;

enum class Direction : std::uint8_t { downstream, upstream };

struct Reached {
  std::string key;
  std::string kind;  // NodeKind name
  std::string label;
  int depth = 0;  // edges on a shortest path from the start node
};

struct PathStep {
  std::string key;
  std::string label;
  std::string edge;  // kind of the edge from the previous step; empty for the first
};

struct FoundPath {
  Direction direction = Direction::downstream;  // downstream: data flows from the first step
  std::vector<PathStep> steps;                  // first step is the query's A, last is B
};

struct IngestResult {
  bool added = false;  // false: a document with this digest was ingested before; nothing changed
  std::uint64_t nodes = 0;
  std::uint64_t edges = 0;
};

struct StoreCounts {
  std::uint64_t nodes = 0;
  std::uint64_t edges = 0;
  std::uint64_t documents = 0;
};

// An initial load: nodes get ids in the order next_node yields them; edges refer to nodes by
// that 0-based order. Edges must be unique (src, dst, kind) and refer to yielded nodes.
struct BulkEdge {
  std::uint64_t src = 0;  // upstream node index
  std::uint64_t dst = 0;  // downstream node index
  EdgeKind kind = EdgeKind::depends_on;
};
struct BulkSource {
  std::function<bool(Node&)> next_node;
  std::function<bool(BulkEdge&)> next_edge;
};

class GraphStore {
 public:
  // "postgresql://...", "postgres://..." or a libpq "key=value" string: PostgreSQL; anything
  // else is a SQLite file path (":memory:" for a private in-memory store). Creates the schema.
  static Expected<GraphStore> open(const std::string& spec);
  static Expected<GraphStore> over(std::unique_ptr<SqlConnection> connection);

  std::string_view backend() const { return conn_->backend(); }

  // Writes one document in a single transaction. Idempotent: a document whose digest is
  // already recorded changes nothing.
  Expected<IngestResult> ingest(const GraphDocument& doc);
  // Loads a whole graph into an empty store through the backend's bulk path (one transaction;
  // prepared INSERTs for SQLite, COPY for PostgreSQL), then rebuilds indexes and statistics.
  Expected<StoreCounts> bulk_load(const BulkSource& source);

  // The stored key a user's text names (see candidate_keys), or nullopt when none exists.
  Expected<std::optional<std::string>> resolve(std::string_view user_text);
  // Every node reachable from `key` in `direction` within max_depth edges, with its shortest
  // distance, nearest first (then by key). The start node itself is not listed.
  Expected<std::vector<Reached>> reach(const std::string& key, Direction direction,
                                       int max_depth = kDefaultMaxDepth);
  // A shortest directed path from `from` to `to` (downstream), else from `to` to `from`
  // (reported as upstream, still listed from `from`); nullopt when neither exists.
  Expected<std::optional<FoundPath>> path(const std::string& from, const std::string& to,
                                          int max_depth = kDefaultMaxDepth);
  Expected<StoreCounts> counts();

 private:
  explicit GraphStore(std::unique_ptr<SqlConnection> c) : conn_(std::move(c)) {}
  Expected<void> create_schema();
  Expected<std::int64_t> node_id(const std::string& key);
  // Breadth-first walk from node `start`: rows (key, kind, label, depth) of every other node
  // reached, at its shortest depth.
  Expected<std::vector<SqlRow>> walk(std::int64_t start, Direction direction, int max_depth);
  Expected<std::vector<PathStep>> walk_back(const std::string& from, const std::string& to,
                                            Direction direction, int max_depth);

  std::unique_ptr<SqlConnection> conn_;
};

}  // namespace mlsc::graph
