#include "mlsc/graph/model.hpp"
#include "mlsc/core/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace mlsc::graph {
namespace {

constexpr std::array<std::string_view, 9> kEdgeNames = {
    "built_from", "produced_by", "derived_from", "trained_on", "depends_on",
    "contains",   "instance_of", "signed_by",    "scanned_as"};

constexpr std::array<std::pair<std::string_view, NodeKind>, 8> kPrefixes = {{
    {"pkg:", NodeKind::package},
    {"dataset:", NodeKind::dataset},
    {"builder:", NodeKind::builder},
    {"identity:", NodeKind::identity},
    {"file:", NodeKind::file},
    {"verdict:", NodeKind::verdict},
    {"uri:", NodeKind::resource},
    {"component:", NodeKind::resource},
}};

bool has_control_bytes(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

bool is_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
  });
}

// "sha256:<hex>": an algorithm of [a-z0-9] and a hex value.
bool is_digest_key(std::string_view key) {
  const auto colon = key.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const auto alg = key.substr(0, colon);
  const bool alg_ok = std::all_of(alg.begin(), alg.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
  return alg_ok && is_hex(key.substr(colon + 1));
}

}  // namespace

std::string_view to_string(NodeKind k) {
  switch (k) {
    case NodeKind::artifact:
      return "artifact";
    case NodeKind::package:
      return "package";
    case NodeKind::dataset:
      return "dataset";
    case NodeKind::builder:
      return "builder";
    case NodeKind::identity:
      return "identity";
    case NodeKind::file:
      return "file";
    case NodeKind::verdict:
      return "verdict";
    case NodeKind::resource:
      return "resource";
  }
  return "resource";
}

std::optional<NodeKind> kind_of_key(std::string_view key) {
  if (key.empty() || has_control_bytes(key)) return std::nullopt;
  for (const auto& [prefix, kind] : kPrefixes) {
    if (key.starts_with(prefix) && key.size() > prefix.size()) return kind;
  }
  if (is_digest_key(key)) return NodeKind::artifact;
  return std::nullopt;
}

std::string_view to_string(EdgeKind k) {
  return kEdgeNames[static_cast<std::size_t>(k)];
}

std::optional<EdgeKind> parse_edge_kind(std::string_view name) {
  for (std::size_t i = 0; i < kEdgeNames.size(); ++i) {
    if (kEdgeNames[i] == name) return static_cast<EdgeKind>(i);
  }
  return std::nullopt;
}

void GraphDocument::add_node(std::string key, std::string label) {
  if (auto it = node_index_.find(key); it != node_index_.end()) {
    auto& existing = nodes_[it->second];
    if (existing.label.empty()) existing.label = std::move(label);
    return;
  }
  node_index_.emplace(key, nodes_.size());
  nodes_.push_back(Node{std::move(key), std::move(label)});
}

void GraphDocument::add_edge(const std::string& downstream, EdgeKind kind,
                             const std::string& upstream) {
  if (downstream == upstream) return;
  add_node(downstream);
  add_node(upstream);
  std::string id = upstream;
  id += '\0';
  id += to_string(kind);
  id += '\0';
  id += downstream;
  if (!edge_seen_.insert(std::move(id)).second) return;
  edges_.push_back(Edge{upstream, downstream, kind});
}

std::optional<std::string> digest_key(std::string_view algorithm, std::string_view hex) {
  std::string alg;
  for (char c : algorithm) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '-' || c == '_') continue;  // "SHA-256", "sha_256" -> "sha256"
    if (!std::isalnum(u)) return std::nullopt;
    alg += static_cast<char>(std::tolower(u));
  }
  if (alg.empty() || !is_hex(hex) || hex.size() > 256) return std::nullopt;
  return alg + ":" + ascii_lower(hex);
}

std::string dataset_key(std::string_view name_or_uri) {
  return "dataset:" + std::string(name_or_uri);
}
std::string builder_key(std::string_view id) {
  return "builder:" + std::string(id);
}
std::string identity_key(std::string_view id) {
  return "identity:" + std::string(id);
}
std::string file_key(std::string_view path) {
  return "file:" + std::string(path);
}
std::string verdict_key(std::string_view severity) {
  return "verdict:" + std::string(severity);
}

bool is_purl(std::string_view s) {
  // pkg:TYPE/NAME: a type of letters, digits, '.', '+', '-', then a slash.
  if (!s.starts_with("pkg:")) return false;
  const auto slash = s.find('/', 4);
  if (slash == std::string_view::npos || slash == 4 || slash + 1 >= s.size()) return false;
  return std::all_of(s.begin() + 4, s.begin() + static_cast<std::ptrdiff_t>(slash), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '+' || c == '-';
  });
}

std::vector<std::string> candidate_keys(std::string_view user_text) {
  std::vector<std::string> out;
  if (user_text.empty() || has_control_bytes(user_text)) return out;
  out.emplace_back(user_text);
  const auto kind = kind_of_key(user_text);
  if (kind && *kind != NodeKind::artifact) return out;  // already a prefixed key
  if (kind) {
    const auto colon = user_text.find(':');
    if (auto k = digest_key(user_text.substr(0, colon), user_text.substr(colon + 1))) {
      if (*k != user_text) out.push_back(*k);
    }
    return out;
  }
  if (is_purl(user_text)) return out;
  for (const auto& entry : kPrefixes) {
    const auto prefix = entry.first;
    if (prefix == "pkg:") continue;
    out.push_back(std::string(prefix) + std::string(user_text));
  }
  return out;
}

}  // namespace mlsc::graph
