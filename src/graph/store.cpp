#include "mlsc/graph/store.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <unordered_map>
#include <utility>

namespace mlsc::graph {
namespace {

// Schema. The id column's DDL is the only backend-specific text. Index choices:
//   edges PRIMARY KEY (src, dst, kind): the downstream walk's lookup (e.src = ?), covering;
//   edges_dst (dst, src): the upstream walk's lookup (e.dst = ?), covering;
//   nodes key UNIQUE: key -> id resolution.
std::string schema_sql(std::string_view identity) {
  return "CREATE TABLE IF NOT EXISTS nodes (id " + std::string(identity) +
         ", key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, label TEXT NOT NULL DEFAULT '');"
         "CREATE TABLE IF NOT EXISTS edges (src BIGINT NOT NULL, dst BIGINT NOT NULL,"
         " kind TEXT NOT NULL, PRIMARY KEY (src, dst, kind));"
         "CREATE INDEX IF NOT EXISTS edges_dst ON edges (dst, src);"
         "CREATE TABLE IF NOT EXISTS documents (digest TEXT PRIMARY KEY, format TEXT NOT NULL,"
         " source TEXT NOT NULL, nodes BIGINT NOT NULL, edges BIGINT NOT NULL);";
}

const std::string kFindDocument = "SELECT 1 FROM documents WHERE digest = $1";
const std::string kUpsertNode =
    "INSERT INTO nodes (key, kind, label) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET "
    "label = excluded.label WHERE nodes.label = '' AND excluded.label <> ''";
const std::string kNodeId = "SELECT id FROM nodes WHERE key = $1";
const std::string kInsertEdge =
    "INSERT INTO edges (src, dst, kind) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
const std::string kInsertDocument =
    "INSERT INTO documents (digest, format, source, nodes, edges) VALUES ($1, $2, $3, $4, $5)";

// The walks: a breadth-first search, one INSERT ... SELECT per level, into a per-connection
// temporary table keyed by node id. Each node enters once, at its shortest distance, so a walk
// touches every reachable edge once however many paths lead to a node (a recursive CTE can only
// drop repeated (node, depth) rows and expands a node once per distance). Same text on both
// backends; only the join column pair differs by direction.
const std::string kWalkTable =
    "CREATE TEMP TABLE IF NOT EXISTS walk (id BIGINT PRIMARY KEY, depth INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS walk_depth ON walk (depth, id);";
const std::string kWalkClear = "DELETE FROM walk";
const std::string kWalkStart = "INSERT INTO walk (id, depth) VALUES ($1, 0)";
const std::string kWalkLevelExists = "SELECT 1 FROM walk WHERE depth = CAST($1 AS INTEGER) LIMIT 1";

std::string walk_step_sql(Direction d) {
  const bool down = d == Direction::downstream;
  const std::string next = down ? "e.dst" : "e.src";
  const std::string here = down ? "e.src" : "e.dst";
  // The WHERE clause also keeps SQLite from reading ON CONFLICT as a join constraint.
  return "INSERT INTO walk (id, depth) SELECT " + next +
         ", CAST($1 AS INTEGER) + 1 FROM walk w JOIN edges e ON " + here +
         " = w.id WHERE w.depth = CAST($1 AS INTEGER) ON CONFLICT (id) DO NOTHING";
}

const std::string kWalkResult =
    "SELECT n.key, n.kind, n.label, w.depth FROM walk w JOIN nodes n ON n.id = w.id"
    " WHERE w.depth > 0 ORDER BY w.depth, n.key";

// The neighbours one step back along a walk: for a downstream walk, the upstream ends of the
// edges into `$1`.
std::string previous_sql(Direction d) {
  const bool down = d == Direction::downstream;
  return std::string("SELECT p.key, p.label, e.kind FROM edges e JOIN nodes p ON p.id = ") +
         (down ? "e.src" : "e.dst") + " JOIN nodes x ON x.id = " + (down ? "e.dst" : "e.src") +
         " WHERE x.key = $1 ORDER BY p.key, e.kind";
}

std::optional<std::uint64_t> to_u64(const std::string& s) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool is_postgres_spec(std::string_view spec) {
  return spec.starts_with("postgresql://") || spec.starts_with("postgres://") ||
         spec.find("dbname=") != std::string_view::npos ||
         spec.find("host=") != std::string_view::npos;
}

// Rolls back unless committed, so every early error return leaves the store unchanged.
class Transaction {
 public:
  explicit Transaction(SqlConnection& c) : c_(c) {}
  ~Transaction() {
    if (open_) {
      auto r = c_.execute_script("ROLLBACK");
      static_cast<void>(r.has_value());
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  Expected<void> begin() {
    auto r = c_.execute_script("BEGIN");
    open_ = r.has_value();
    return r;
  }
  Expected<void> commit() {
    auto r = c_.execute_script("COMMIT");
    open_ = false;
    return r;
  }

 private:
  SqlConnection& c_;
  bool open_ = false;
};

std::vector<SqlValue> params(std::initializer_list<SqlValue> values) {
  return values;
}

}  // namespace

Expected<GraphStore> GraphStore::open(const std::string& spec) {
  auto conn = is_postgres_spec(spec) ? open_postgres(spec) : open_sqlite(spec);
  if (!conn) return conn.error();
  return over(std::move(*conn));
}

Expected<GraphStore> GraphStore::over(std::unique_ptr<SqlConnection> connection) {
  GraphStore store(std::move(connection));
  if (auto r = store.create_schema(); !r) return r.error();
  return store;
}

Expected<void> GraphStore::create_schema() {
  return conn_->execute_script(schema_sql(conn_->identity_column()));
}

Expected<std::int64_t> GraphStore::node_id(const std::string& key) {
  const auto p = params({key});
  auto rows = conn_->query(kNodeId, p);
  if (!rows) return rows.error();
  if (rows->empty()) return Error{"graph: no node " + key};
  const auto id = to_u64(rows->front().at(0));
  if (!id) return Error{"graph: bad node id for " + key};
  return static_cast<std::int64_t>(*id);
}

Expected<IngestResult> GraphStore::ingest(const GraphDocument& doc) {
  Transaction tx(*conn_);
  if (auto r = tx.begin(); !r) return r.error();
  auto seen = conn_->query(kFindDocument, params({doc.digest}));
  if (!seen) return seen.error();
  if (!seen->empty()) return IngestResult{};
  std::unordered_map<std::string, std::int64_t> ids;
  for (const auto& node : doc.nodes()) {
    const auto kind = kind_of_key(node.key);
    if (!kind) return Error{"graph: invalid node key " + node.key};
    auto up =
        conn_->query(kUpsertNode, params({node.key, std::string(to_string(*kind)), node.label}));
    if (!up) return up.error();
    auto id = node_id(node.key);
    if (!id) return id.error();
    ids.emplace(node.key, *id);
  }
  for (const auto& edge : doc.edges()) {
    auto r = conn_->query(kInsertEdge, params({ids.at(edge.src), ids.at(edge.dst),
                                               std::string(to_string(edge.kind))}));
    if (!r) return r.error();
  }
  const auto n = static_cast<std::int64_t>(doc.nodes().size());
  const auto e = static_cast<std::int64_t>(doc.edges().size());
  auto rec = conn_->query(kInsertDocument, params({doc.digest, doc.format, doc.source, n, e}));
  if (!rec) return rec.error();
  if (auto r = tx.commit(); !r) return r.error();
  return IngestResult{true, static_cast<std::uint64_t>(n), static_cast<std::uint64_t>(e)};
}

Expected<StoreCounts> GraphStore::bulk_load(const BulkSource& source) {
  auto before = counts();
  if (!before) return before.error();
  if (before->nodes != 0) return Error{"graph: bulk_load needs an empty store"};
  Transaction tx(*conn_);
  if (auto r = tx.begin(); !r) return r.error();
  // Building the secondary index once after the load beats maintaining it row by row.
  if (auto r = conn_->execute_script("DROP INDEX IF EXISTS edges_dst"); !r) return r.error();
  std::int64_t next_id = 1;
  Node node;
  const std::array<std::string, 4> node_cols = {"id", "key", "kind", "label"};
  auto nodes = conn_->bulk_insert("nodes", node_cols, [&](std::vector<SqlValue>& row) {
    if (!source.next_node(node)) return false;
    const auto kind = kind_of_key(node.key);
    row = {next_id++, node.key, std::string(kind ? to_string(*kind) : "resource"), node.label};
    return true;
  });
  if (!nodes) return nodes.error();
  BulkEdge edge;
  bool bad_edge = false;
  const std::array<std::string, 3> edge_cols = {"src", "dst", "kind"};
  auto edges = conn_->bulk_insert("edges", edge_cols, [&](std::vector<SqlValue>& row) {
    if (!source.next_edge(edge)) return false;
    if (edge.src >= *nodes || edge.dst >= *nodes) bad_edge = true;
    row = {static_cast<std::int64_t>(edge.src + 1), static_cast<std::int64_t>(edge.dst + 1),
           std::string(to_string(edge.kind))};
    return !bad_edge;
  });
  if (!edges) return edges.error();
  if (bad_edge) return Error{"graph: bulk edge refers to a node index past the end"};
  if (auto r = conn_->sync_identity("nodes"); !r) return r.error();
  if (auto r = create_schema(); !r) return r.error();  // recreates edges_dst
  if (auto r = tx.commit(); !r) return r.error();
  if (auto r = conn_->execute_script("ANALYZE"); !r) return r.error();
  return StoreCounts{*nodes, *edges, 0};
}

Expected<std::optional<std::string>> GraphStore::resolve(std::string_view user_text) {
  for (const auto& key : candidate_keys(user_text)) {
    auto rows = conn_->query(kNodeId, params({key}));
    if (!rows) return rows.error();
    if (!rows->empty()) return std::optional<std::string>(key);
  }
  return std::optional<std::string>();
}

Expected<std::vector<SqlRow>> GraphStore::walk(std::int64_t start, Direction direction,
                                               int max_depth) {
  // The table lives as long as the connection; each walk fills it inside a transaction that is
  // rolled back at the end, so no walk sees another's rows.
  if (auto r = conn_->execute_script(kWalkTable); !r) return r.error();
  Transaction tx(*conn_);
  if (auto r = tx.begin(); !r) return r.error();
  if (auto r = conn_->query(kWalkClear, {}); !r) return r.error();
  if (auto r = conn_->query(kWalkStart, params({start})); !r) return r.error();
  const std::string step = walk_step_sql(direction);
  for (std::int64_t depth = 0; depth < max_depth; ++depth) {
    if (auto r = conn_->query(step, params({depth})); !r) return r.error();
    auto more = conn_->query(kWalkLevelExists, params({depth + 1}));
    if (!more) return more.error();
    if (more->empty()) break;
  }
  auto rows = conn_->query(kWalkResult, {});
  if (!rows) return rows.error();
  return rows;  // tx rolls back here
}

Expected<std::vector<Reached>> GraphStore::reach(const std::string& key, Direction direction,
                                                 int max_depth) {
  if (max_depth < 1 || max_depth > kMaxDepthLimit) {
    return Error{"graph: depth limit must be 1.." + std::to_string(kMaxDepthLimit)};
  }
  auto start = node_id(key);
  if (!start) return start.error();
  auto rows = walk(*start, direction, max_depth);
  if (!rows) return rows.error();
  std::vector<Reached> out;
  out.reserve(rows->size());
  for (auto& row : *rows) {
    const auto depth = to_u64(row.at(3));
    if (!depth) return Error{"graph: bad depth in result"};
    out.push_back(
        Reached{std::move(row[0]), std::move(row[1]), std::move(row[2]), static_cast<int>(*depth)});
  }
  return out;
}

Expected<std::vector<PathStep>> GraphStore::walk_back(const std::string& from,
                                                      const std::string& to, Direction direction,
                                                      int max_depth) {
  auto reached = reach(from, direction, max_depth);
  if (!reached) return reached.error();
  std::unordered_map<std::string, int> depth_of{{from, 0}};
  std::unordered_map<std::string, std::string> label_of;
  for (const auto& r : *reached) {
    depth_of.emplace(r.key, r.depth);
    label_of.emplace(r.key, r.label);
  }
  const auto target = depth_of.find(to);
  if (target == depth_of.end() || to == from) return std::vector<PathStep>{};
  // From the target back to the start: each step picks a neighbour one hop nearer the start
  // (the first by key, so answers are deterministic).
  std::vector<PathStep> steps;
  std::string current = to;
  for (int depth = target->second; depth > 0; --depth) {
    auto prev = conn_->query(previous_sql(direction), params({current}));
    if (!prev) return prev.error();
    const SqlRow* pick = nullptr;
    for (const auto& row : *prev) {
      const auto it = depth_of.find(row.at(0));
      if (it != depth_of.end() && it->second == depth - 1) {
        pick = &row;
        break;
      }
    }
    if (!pick) return Error{"graph: store changed during the path query"};
    steps.push_back(PathStep{current, label_of[current], pick->at(2)});
    current = pick->at(0);
    if (depth == 1) label_of[current] = pick->at(1);  // the start is not in `reached`
  }
  steps.push_back(PathStep{current, label_of[current], ""});
  std::reverse(steps.begin(), steps.end());
  return steps;
}

Expected<std::optional<FoundPath>> GraphStore::path(const std::string& from, const std::string& to,
                                                    int max_depth) {
  for (const auto direction : {Direction::downstream, Direction::upstream}) {
    auto steps = walk_back(from, to, direction, max_depth);
    if (!steps) return steps.error();
    if (!steps->empty()) return std::optional<FoundPath>(FoundPath{direction, std::move(*steps)});
  }
  return std::optional<FoundPath>();
}

Expected<StoreCounts> GraphStore::counts() {
  auto rows = conn_->query(
      "SELECT (SELECT COUNT(*) FROM nodes), (SELECT COUNT(*) FROM edges),"
      " (SELECT COUNT(*) FROM documents)",
      {});
  if (!rows) return rows.error();
  if (rows->size() != 1) return Error{"graph: count query returned no row"};
  const auto& r = rows->front();
  const auto n = to_u64(r.at(0)), e = to_u64(r.at(1)), d = to_u64(r.at(2));
  if (!n || !e || !d) return Error{"graph: bad counts"};
  return StoreCounts{*n, *e, *d};
}

}  // namespace mlsc::graph
