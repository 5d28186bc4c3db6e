// mlsc command line. Thin by design: it parses flags, calls the library, prints, and maps the
// result to an exit code (0 clean, 1 findings or failed verification, 2 usage or I/O error).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

#include <optional>
#include <nlohmann/json.hpp>

#include "mlsc/graph/ingest.hpp"
#include "mlsc/graph/store.hpp"
#include "mlsc/report/rule_list.hpp"
#include "mlsc/report/sarif.hpp"
#include "mlsc/report/scan_report.hpp"
#include "mlsc/scan/scan_tree.hpp"

namespace {

constexpr int kUsageError = 2;

struct ScanArgs {
  std::vector<std::string> paths;
  std::string format = "text";
  std::string fail_on = "high";
  std::string min_severity = "low";
  std::string config;
  std::vector<std::string> allow;
  std::vector<std::string> deny;
  std::size_t jobs = 0;
  bool quiet = false;
  bool verbose = false;
  bool show_imports = false;
};

void add_scan_command(CLI::App& app, ScanArgs& a) {
  auto* cmd = app.add_subcommand("scan", "Scan model files and folders for code execution and tampering");
  cmd->add_option("paths", a.paths, "Files or directories (scanned recursively)")->required();
  cmd->add_option("--format", a.format, "Output format")
      ->check(CLI::IsMember({"text", "json", "sarif"}))
      ->capture_default_str();
  cmd->add_option("--fail-on", a.fail_on, "Exit 1 when a finding is at or above this severity")
      ->check(CLI::IsMember({"info", "low", "medium", "high", "critical"}))
      ->capture_default_str();
  cmd->add_option("--min-severity", a.min_severity, "Text and SARIF output: hide findings below this")
      ->check(CLI::IsMember({"info", "low", "medium", "high", "critical"}))
      ->capture_default_str();
  cmd->add_option("--config", a.config, "YAML config (pickle: {allow: [...], deny: [...]})");
  cmd->add_option("--allow", a.allow, "Allowlist a pickle global: 'MODULE NAME' (repeatable)");
  cmd->add_option("--deny", a.deny, "Denylist a pickle global: 'MODULE NAME' (repeatable)");
  cmd->add_option("-j,--jobs", a.jobs, "Parallel workers (default: all cores)");
  cmd->add_flag("-q,--quiet", a.quiet, "No progress on stderr");
  cmd->add_flag("-v,--verbose", a.verbose, "Text output: list clean files too");
  cmd->add_flag("--show-imports", a.show_imports, "Text output: list every pickle global");
}

mlsc::Expected<mlsc::scan::ScanOptions> build_options(const ScanArgs& a) {
  mlsc::scan::ScanOptions options;
  if (!a.config.empty()) {
    if (auto r = options.policy.load_config(a.config); !r) return r.error();
  }
  for (const auto& p : a.allow) {
    if (auto r = options.policy.allow(p); !r) return r.error();
  }
  for (const auto& p : a.deny) {
    if (auto r = options.policy.deny(p, "denied on the command line"); !r) return r.error();
  }
  return options;
}

void print_progress(std::size_t done, std::size_t total, std::uint64_t bytes) {
  std::fprintf(stderr, "\rmlsc: scanned %zu/%zu files (%.1f MB)", done, total,
               static_cast<double>(bytes) / 1e6);
  std::fflush(stderr);
}

int run_scan(const ScanArgs& a) {
  auto options = build_options(a);
  if (!options) {
    std::cerr << "mlsc scan: " << options.error().describe() << "\n";
    return kUsageError;
  }
  auto targets = mlsc::scan::collect_targets(a.paths);
  if (!targets) {
    std::cerr << "mlsc scan: " << targets.error().describe() << "\n";
    return kUsageError;
  }
  mlsc::scan::TreeScanOptions tree;
  tree.jobs = a.jobs;
  const bool progress = !a.quiet && ::isatty(STDERR_FILENO) != 0;
  if (progress) tree.progress = print_progress;
  const auto start = std::chrono::steady_clock::now();
  const auto reports = mlsc::scan::scan_targets(*targets, *options, tree);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (progress) std::fputs("\r\033[K", stderr);

  const auto summary = mlsc::report::summarize(reports, seconds);
  if (a.format == "json") {
    std::cout << mlsc::report::format_json(reports, summary);
  } else if (a.format == "sarif") {
    mlsc::report::SarifOptions sarif;
    sarif.min_severity = *mlsc::parse_severity(a.min_severity);
    sarif.tool_version = MLSC_VERSION;
    std::cout << mlsc::report::format_sarif(reports, sarif);
  } else {
    mlsc::report::TextOptions text;
    text.min_severity = *mlsc::parse_severity(a.min_severity);
    text.list_clean = a.verbose;
    text.show_imports = a.show_imports;
    std::cout << mlsc::report::format_text(reports, summary, text);
  }
  return mlsc::report::exit_code(summary, *mlsc::parse_severity(a.fail_on));
}

struct RulesArgs {
  std::string format = "text";
};

void add_rules_command(CLI::App& app, RulesArgs& a) {
  auto* cmd = app.add_subcommand("rules", "List every rule mlsc can report, with its meaning");
  cmd->add_option("--format", a.format, "Output format")
      ->check(CLI::IsMember({"text", "json", "markdown"}))
      ->capture_default_str();
}

int run_rules(const RulesArgs& a) {
  std::cout << mlsc::report::format_rules(mlsc::report::RuleCatalog::builtin(), a.format);
  return 0;
}


// ---- mlsc graph: the lineage store (ingest, affected, lineage, path) ----

struct GraphArgs {
  std::string db = "mlsc-graph.db";
  std::string format = "text";
  int max_depth = mlsc::graph::kDefaultMaxDepth;
  std::vector<std::string> files;
  std::string by;
  std::string from;
  std::string to;
  CLI::App* ingest = nullptr;
  CLI::App* affected = nullptr;
  CLI::App* lineage = nullptr;
  CLI::App* path = nullptr;
};

void add_graph_options(CLI::App* cmd, GraphArgs& a, bool with_query_options) {
  cmd->add_option("--db", a.db, "SQLite file, or postgresql://... for PostgreSQL")
      ->envname("MLSC_GRAPH_DB")
      ->capture_default_str();
  if (!with_query_options) return;
  cmd->add_option("--format", a.format, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_option("--max-depth", a.max_depth, "Longest path followed, in edges")
      ->check(CLI::Range(1, mlsc::graph::kMaxDepthLimit))
      ->capture_default_str();
}

void add_graph_command(CLI::App& app, GraphArgs& a) {
  auto* cmd = app.add_subcommand("graph", "Lineage graph: ingest attestations, BOMs and scans; query it");
  cmd->require_subcommand(1);
  a.ingest = cmd->add_subcommand("ingest", "Add documents (idempotent)");
  a.ingest->add_option("files", a.files, "Statements, DSSE envelopes, Sigstore bundles, CycloneDX BOMs, scan reports")
      ->required();
  add_graph_options(a.ingest, a, false);
  a.affected = cmd->add_subcommand("affected", "Everything downstream of a digest, purl or dataset");
  a.affected->add_option("--by", a.by, "sha256:<hex>, pkg:..., a dataset name/URI or any node key")
      ->required();
  add_graph_options(a.affected, a, true);
  a.lineage = cmd->add_subcommand("lineage", "Everything upstream of an artifact");
  a.lineage->add_option("artifact", a.by, "Node key, digest, purl or dataset")->required();
  add_graph_options(a.lineage, a, true);
  a.path = cmd->add_subcommand("path", "A shortest path between two nodes");
  a.path->add_option("from", a.from, "Start node")->required();
  a.path->add_option("to", a.to, "End node")->required();
  add_graph_options(a.path, a, true);
}

int graph_fail(const mlsc::Error& e) {
  std::cerr << "mlsc graph: " << e.describe() << "\n";
  return kUsageError;
}

int run_graph_ingest(mlsc::graph::GraphStore& store, const GraphArgs& a) {
  int rc = 0;
  for (const auto& file : a.files) {
    auto doc = mlsc::graph::read_document(file);
    if (!doc) {
      std::cerr << "mlsc graph ingest: " << file << ": " << doc.error().describe() << "\n";
      rc = 1;
      continue;
    }
    auto result = store.ingest(*doc);
    if (!result) return graph_fail(result.error());
    if (result->added) {
      std::cout << "ingested " << file << " (" << doc->format << ", " << doc->digest << "): "
                << result->nodes << " nodes, " << result->edges << " edges\n";
    } else {
      std::cout << "unchanged " << file << " (" << doc->digest << " already ingested)\n";
    }
  }
  return rc;
}

// The stored key for a user's argument; prints why not and returns nullopt when none exists.
std::optional<std::string> graph_resolve(mlsc::graph::GraphStore& store, const std::string& text) {
  auto key = store.resolve(text);
  if (!key) {
    std::cerr << "mlsc graph: " << key.error().describe() << "\n";
    return std::nullopt;
  }
  if (!*key) std::cerr << "mlsc graph: no node named '" << text << "' in the graph\n";
  return *key;
}

int run_graph_reach(mlsc::graph::GraphStore& store, const GraphArgs& a,
                    mlsc::graph::Direction direction) {
  const auto key = graph_resolve(store, a.by);
  if (!key) return 1;
  auto reached = store.reach(*key, direction, a.max_depth);
  if (!reached) return graph_fail(reached.error());
  const bool down = direction == mlsc::graph::Direction::downstream;
  if (a.format == "json") {
    nlohmann::json nodes = nlohmann::json::array();
    for (const auto& r : *reached) {
      nodes.push_back({{"key", r.key}, {"kind", r.kind}, {"label", r.label}, {"depth", r.depth}});
    }
    nlohmann::json out = {{"query", down ? "affected" : "lineage"}, {"root", *key},
                          {"max_depth", a.max_depth}, {"nodes", std::move(nodes)}};
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << (down ? "downstream of " : "upstream of ") << *key << ": " << reached->size()
              << " node" << (reached->size() == 1 ? "" : "s") << "\n";
    for (const auto& r : *reached) {
      std::cout << "  " << r.depth << "  " << r.kind << "  " << r.key
                << (r.label.empty() || r.label == r.key ? "" : "  (" + r.label + ")") << "\n";
    }
  }
  return 0;
}

int run_graph_path(mlsc::graph::GraphStore& store, const GraphArgs& a) {
  const auto from = graph_resolve(store, a.from);
  const auto to = graph_resolve(store, a.to);
  if (!from || !to) return 1;
  auto found = store.path(*from, *to, a.max_depth);
  if (!found) return graph_fail(found.error());
  const char* direction = !*found ? "none"
                          : (*found)->direction == mlsc::graph::Direction::downstream ? "downstream"
                                                                                        : "upstream";
  if (a.format == "json") {
    nlohmann::json steps = nlohmann::json::array();
    if (*found) {
      for (const auto& s : (*found)->steps) {
        steps.push_back({{"key", s.key}, {"label", s.label}, {"edge", s.edge}});
      }
    }
    nlohmann::json out = {{"from", *from}, {"to", *to}, {"direction", direction},
                          {"length", steps.empty() ? 0 : steps.size() - 1}, {"steps", steps}};
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else if (!*found) {
    std::cout << "no path between " << *from << " and " << *to << "\n";
  } else {
    const auto& steps = (*found)->steps;
    std::cout << direction << " path of length " << steps.size() - 1 << ":\n";
    for (const auto& s : steps) {
      if (!s.edge.empty()) std::cout << "    " << (direction[0] == 'd' ? "-> " : "<- ") << s.edge << "\n";
      std::cout << "  " << s.key << (s.label.empty() ? "" : "  (" + s.label + ")") << "\n";
    }
  }
  return *found ? 0 : 1;
}

int run_graph(const GraphArgs& a) {
  auto store = mlsc::graph::GraphStore::open(a.db);
  if (!store) return graph_fail(store.error());
  if (a.ingest->parsed()) return run_graph_ingest(*store, a);
  if (a.affected->parsed()) return run_graph_reach(*store, a, mlsc::graph::Direction::downstream);
  if (a.lineage->parsed()) return run_graph_reach(*store, a, mlsc::graph::Direction::upstream);
  if (a.path->parsed()) return run_graph_path(*store, a);
  return kUsageError;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mlsc: verify models, datasets and dependencies before they enter an ML system"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "mlsc " MLSC_VERSION);
  ScanArgs scan_args;
  add_scan_command(app, scan_args);
  RulesArgs rules_args;
  add_rules_command(app, rules_args);
  GraphArgs graph_args;
  add_graph_command(app, graph_args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports --help as a "success" parse error; usage errors exit 2 as documented.
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kUsageError;
  }
  if (app.got_subcommand("scan")) return run_scan(scan_args);
  if (app.got_subcommand("rules")) return run_rules(rules_args);
  if (app.got_subcommand("graph")) return run_graph(graph_args);
  return kUsageError;
}
