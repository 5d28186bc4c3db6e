// Lineage graph scale benchmark: generates a synthetic, deterministic lineage graph shaped like
// a real ML platform's, loads it through GraphStore::bulk_load, then times downstream queries.
//
// Layers (counts at --scale 1, about 1M nodes and 5M edges):
//   packages     20,000  pkg:pypi/pkg-N@1.0; each depends_on 10 lower-numbered packages
//   raw datasets 10,000  dataset:raw-N
//   datasets     40,000  dataset:derived-N, built_from 2 raw datasets (processing steps)
//   base models 200,000  trained_on 3 datasets, depends_on 5 packages, produced_by a builder
//   fine-tunes  400,000  derived_from 1 base model, trained_on 1 dataset, depends_on 2 packages,
//                        produced_by a builder
//   deployments 300,000  derived_from 1 fine-tune, depends_on 1 package, signed_by an identity
//   builders 100, identities: the rest up to 1,000,000 nodes
// Package choices are skewed toward low numbers (index = n * u^3), so pkg-0 is "popular".
//
// Usage: mlsc_graph_gen --db SPEC [--scale F] [--runs N]
// Prints one "key: value" line per measurement.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "mlsc/graph/store.hpp"

namespace {

using mlsc::graph::BulkEdge;
using mlsc::graph::EdgeKind;

struct Layout {
  std::uint64_t packages, raw, derived, base, finetune, deploy, builders, identities;
  std::uint64_t pkg0() const { return 0; }
  std::uint64_t raw0() const { return packages; }
  std::uint64_t derived0() const { return raw0() + raw; }
  std::uint64_t base0() const { return derived0() + derived; }
  std::uint64_t finetune0() const { return base0() + base; }
  std::uint64_t deploy0() const { return finetune0() + finetune; }
  std::uint64_t builder0() const { return deploy0() + deploy; }
  std::uint64_t identity0() const { return builder0() + builders; }
  std::uint64_t total() const { return identity0() + identities; }
};

Layout layout_for(double scale) {
  auto n = [scale](double v) { return std::max<std::uint64_t>(1, std::llround(v * scale)); };
  Layout l{n(20'000), n(10'000), n(40'000), n(200'000), n(400'000), n(300'000), 100, 0};
  const std::uint64_t target = n(1'000'000);
  l.identities = target > l.identity0() ? target - l.identity0() : 1;
  return l;
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64: stable pseudo-random digests
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string digest_of(std::uint64_t i) {
  return fmt::format("sha256:{:016x}{:016x}{:016x}{:016x}", mix(i), mix(i + (1ULL << 40)),
                     mix(i + (2ULL << 40)), mix(i + (3ULL << 40)));
}

std::string key_of(const Layout& l, std::uint64_t i) {
  if (i < l.raw0()) return fmt::format("pkg:pypi/pkg-{}@1.0", i);
  if (i < l.derived0()) return fmt::format("dataset:raw-{}", i - l.raw0());
  if (i < l.base0()) return fmt::format("dataset:derived-{}", i - l.derived0());
  if (i < l.builder0()) return digest_of(i);
  if (i < l.identity0())
    return fmt::format("builder:https://ci.example/builder-{}", i - l.builder0());
  return fmt::format("identity:signer-{}@example.com", i - l.identity0());
}

// Generates each node's upstream edges in node order, drawing distinct targets per node.
class EdgeGen {
 public:
  explicit EdgeGen(const Layout& l) : l_(l) {}

  bool next(BulkEdge& e) {
    while (pending_.empty()) {
      if (node_ >= l_.builder0()) return false;
      fill(node_++);
    }
    e = pending_.back();
    pending_.pop_back();
    return true;
  }

 private:
  std::uint64_t uniform(std::uint64_t n) {
    return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_);
  }
  std::uint64_t skewed(std::uint64_t n) {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    return std::min<std::uint64_t>(n - 1,
                                   static_cast<std::uint64_t>(static_cast<double>(n) * u * u * u));
  }

  // `count` distinct upstream nodes from [first, first+n) for downstream `d`.
  template <class Pick>
  void add(std::uint64_t d, EdgeKind kind, std::uint64_t first, std::uint64_t n,
           std::uint64_t count, Pick pick) {
    count = std::min(count, n);
    chosen_.clear();
    for (std::uint64_t tries = 0; chosen_.size() < count && tries < count * 20; ++tries) {
      const std::uint64_t u = first + pick(n);
      if (u == d || std::find(chosen_.begin(), chosen_.end(), u) != chosen_.end()) continue;
      chosen_.push_back(u);
      pending_.push_back(BulkEdge{u, d, kind});
    }
  }

  void fill(std::uint64_t i) {
    auto uni = [this](std::uint64_t n) { return uniform(n); };
    auto skew = [this](std::uint64_t n) { return skewed(n); };
    if (i < l_.raw0()) {
      if (i > 0) add(i, EdgeKind::depends_on, 0, i, 10, skew);
    } else if (i < l_.derived0()) {
      // raw datasets have no upstream
    } else if (i < l_.base0()) {
      add(i, EdgeKind::built_from, l_.raw0(), l_.raw, 2, uni);
    } else if (i < l_.finetune0()) {
      add(i, EdgeKind::trained_on, l_.raw0(), l_.raw + l_.derived, 3, uni);
      add(i, EdgeKind::depends_on, 0, l_.packages, 5, skew);
      add(i, EdgeKind::produced_by, l_.builder0(), l_.builders, 1, uni);
    } else if (i < l_.deploy0()) {
      add(i, EdgeKind::derived_from, l_.base0(), l_.base, 1, uni);
      add(i, EdgeKind::trained_on, l_.derived0(), l_.derived, 1, uni);
      add(i, EdgeKind::depends_on, 0, l_.packages, 2, skew);
      add(i, EdgeKind::produced_by, l_.builder0(), l_.builders, 1, uni);
    } else {
      add(i, EdgeKind::derived_from, l_.finetune0(), l_.finetune, 1, uni);
      add(i, EdgeKind::depends_on, 0, l_.packages, 1, skew);
      add(i, EdgeKind::signed_by, l_.identity0(), l_.identities, 1, uni);
    }
  }

  const Layout& l_;
  std::mt19937_64 rng_{20261123};
  std::uint64_t node_ = 0;
  std::vector<BulkEdge> pending_;
  std::vector<std::uint64_t> chosen_;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Runs a walk `runs` times; prints the median time and the number of nodes reached.
bool time_query(mlsc::graph::GraphStore& store, const std::string& name, const std::string& key,
                mlsc::graph::Direction direction, int runs) {
  std::vector<double> times;
  std::size_t reached = 0;
  int max_depth = 0;
  for (int r = 0; r < runs; ++r) {
    const auto t = std::chrono::steady_clock::now();
    auto result = store.reach(key, direction);
    times.push_back(seconds_since(t));
    if (!result) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), result.error().describe().c_str());
      return false;
    }
    reached = result->size();
    max_depth = result->empty() ? 0 : result->back().depth;
  }
  std::sort(times.begin(), times.end());
  fmt::print("{}: {} ({} nodes, max depth {}) median {:.3f} s, min {:.3f} s over {} runs\n", name,
             key, reached, max_depth, times[times.size() / 2], times.front(), runs);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db;
  double scale = 1.0;
  int runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--db")
      db = argv[i + 1];
    else if (flag == "--scale")
      scale = std::atof(argv[i + 1]);
    else if (flag == "--runs")
      runs = std::max(1, std::atoi(argv[i + 1]));
  }
  if (db.empty() || scale <= 0) {
    std::fprintf(stderr, "usage: mlsc_graph_gen --db SPEC [--scale F] [--runs N]\n");
    return 2;
  }
  auto store = mlsc::graph::GraphStore::open(db);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().describe().c_str());
    return 1;
  }
  const Layout l = layout_for(scale);
  std::uint64_t next_node = 0;
  EdgeGen edges(l);
  mlsc::graph::BulkSource source;
  source.next_node = [&](mlsc::graph::Node& n) {
    if (next_node >= l.total()) return false;
    n.key = key_of(l, next_node);
    n.label.clear();
    ++next_node;
    return true;
  };
  source.next_edge = [&](BulkEdge& e) { return edges.next(e); };
  const auto t = std::chrono::steady_clock::now();
  auto loaded = store->bulk_load(source);
  if (!loaded) {
    std::fprintf(stderr, "bulk load: %s\n", loaded.error().describe().c_str());
    return 1;
  }
  fmt::print(
      "backend: {}\ningest: {} nodes, {} edges in {:.1f} s (including index build and ANALYZE)\n",
      store->backend(), loaded->nodes, loaded->edges, seconds_since(t));
  const bool ok = time_query(*store, "affected dataset", "dataset:raw-0",
                             mlsc::graph::Direction::downstream, runs) &&
                  time_query(*store, "affected package", "pkg:pypi/pkg-0@1.0",
                             mlsc::graph::Direction::downstream, runs) &&
                  time_query(*store, "affected mid package", key_of(l, l.packages / 2),
                             mlsc::graph::Direction::downstream, runs) &&
                  time_query(*store, "lineage deployment", key_of(l, l.deploy0()),
                             mlsc::graph::Direction::upstream, runs);
  return ok ? 0 : 1;
}
