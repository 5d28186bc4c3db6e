// The lineage graph's data model: nodes named by a canonical key, typed edges that always point
// from upstream (what something was made from, depends on, or is vouched for by) to downstream.
//
// Node keys (the kind follows from the key's prefix, so one key always means one node):
//   artifact  "sha256:<hex>" (any "<algorithm>:<hex>" digest: sha512, blake3, gitCommit, ...)
//   package   "pkg:<type>/<name>@<version>"  a purl, kept as written
//   dataset   "dataset:<name or URI>"
//   builder   "builder:<builder.id>"
//   identity  "identity:<key id, key hint or certificate identity>"
//   file      "file:<path>"                  a path from a scan report
//   verdict   "verdict:<severity>"           a scan outcome (none ... critical)
//   resource  "uri:<URI>", "component:<name>@<version>"  anything else that has no digest
//
// Edge kinds, read "DOWNSTREAM kind UPSTREAM" (docs/graph.md has the full vocabulary):
//   built_from, produced_by, derived_from, trained_on, depends_on, contains, instance_of,
//   signed_by, scanned_as
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mlsc::graph {

enum class NodeKind : std::uint8_t {
  artifact,
  package,
  dataset,
  builder,
  identity,
  file,
  verdict,
  resource
};
std::string_view to_string(NodeKind k);
// The kind a key names, from its prefix; nullopt for an empty key or one with control bytes.
std::optional<NodeKind> kind_of_key(std::string_view key);

enum class EdgeKind : std::uint8_t {
  built_from,    // SLSA: subject <- resolvedDependency
  produced_by,   // SLSA: subject <- runDetails.builder.id
  derived_from,  // base model / CycloneDX pedigree ancestor <- derived model
  trained_on,    // model <- dataset (CycloneDX modelCard datasets)
  depends_on,    // CycloneDX dependencies[]: ref <- dependsOn
  contains,      // model (signing subject) <- file digest (signing resource)
  instance_of,   // digest <- the purl or dataset name that the digest is a copy of
  signed_by,     // signed subject <- signing identity (claimed; ingest does not verify)
  scanned_as,    // scanned file <- verdict node of its max severity
};
std::string_view to_string(EdgeKind k);
std::optional<EdgeKind> parse_edge_kind(std::string_view name);

struct Node {
  std::string key;
  std::string label;  // a human name (file name, component name); may be empty

  friend bool operator==(const Node&, const Node&) = default;
};

struct Edge {
  std::string src;  // upstream node key
  std::string dst;  // downstream node key
  EdgeKind kind = EdgeKind::depends_on;

  friend bool operator==(const Edge&, const Edge&) = default;
};

// What one ingested document contributes. Keys are validated by add_*; duplicates collapse.
class GraphDocument {
 public:
  std::string format;  // "slsa-provenance-v1", "model-signing", "cyclonedx", "mlsc-scan"
  std::string digest;  // "sha256:<hex>" of the document's bytes as read
  std::string source;  // where it came from (a file path), informational

  // Adds or labels a node (an empty label never overwrites a non-empty one).
  void add_node(std::string key, std::string label = {});
  // Adds an edge "downstream kind upstream"; both nodes are added if missing. A self-loop is
  // dropped (it carries no lineage).
  void add_edge(const std::string& downstream, EdgeKind kind, const std::string& upstream);

  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<Edge>& edges() const { return edges_; }

 private:
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
  std::unordered_map<std::string, std::size_t> node_index_;
  std::unordered_set<std::string> edge_seen_;  // "src\0kind\0dst"
};

// Canonical keys. digest_key lowercases the algorithm and hex ("SHA-256" -> "sha256"); it
// returns nullopt when the value is not hex or the algorithm name is not [a-z0-9-].
std::optional<std::string> digest_key(std::string_view algorithm, std::string_view hex);
std::string dataset_key(std::string_view name_or_uri);
std::string builder_key(std::string_view id);
std::string identity_key(std::string_view id);
std::string file_key(std::string_view path);
std::string verdict_key(std::string_view severity);
bool is_purl(std::string_view s);

// The key a user means on the command line: a digest or purl as is; otherwise the argument is
// tried as a full key, then under each prefix (dataset:, builder:, identity:, file:, uri:,
// component:). Returns the candidates in that order; the store picks the first that exists.
std::vector<std::string> candidate_keys(std::string_view user_text);

}  // namespace mlsc::graph
