// mlsc command line. Thin by design: it parses flags, calls the library, prints, and maps the
// result to an exit code (0 clean, 1 findings or failed verification, 2 usage or I/O error).
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "mlsc/bom/collect.hpp"
#include "mlsc/bom/validate.hpp"
#include "mlsc/bom/writer.hpp"
#include <optional>
#include <nlohmann/json.hpp>

#include "mlsc/graph/ingest.hpp"
#include "mlsc/graph/store.hpp"
#include "mlsc/report/dataset_command.hpp"
#include "mlsc/report/admit_command.hpp"
#include "mlsc/report/attest_command.hpp"
#include "mlsc/report/rule_list.hpp"
#include "mlsc/report/sarif.hpp"
#include "mlsc/report/scan_report.hpp"
#include "mlsc/report/verify_report.hpp"
#include "mlsc/scan/scan_tree.hpp"
#include "mlsc/vuln/audit.hpp"
#include "mlsc/vuln/confusion.hpp"
#include "mlsc/vuln/requirements.hpp"

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
  auto* cmd =
      app.add_subcommand("scan", "Scan model files and folders for code execution and tampering");
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

void add_sign_command(CLI::App& app, mlsc::report::SignArgs& a) {
  auto* cmd = app.add_subcommand(
      "sign", "Sign a model (OpenSSF Model Signing bundle, key or certificate mode)");
  cmd->add_option("model", a.model, "Model file or directory")->required();
  cmd->add_option("--key", a.key, "Private key, PEM (ECDSA P-256/P-384/P-521, or Ed25519)")
      ->required();
  cmd->add_option("--cert-chain", a.cert_chain,
                  "Certificate mode: signing certificate, then intermediates (repeatable, PEM)");
  cmd->add_option("--signature", a.signature,
                  "Bundle to write (default: model.sig, or the --reuse path)");
  cmd->add_option("--hash", a.hash, "File digest")
      ->check(CLI::IsMember({"sha256", "blake2b", "blake3"}))
      ->capture_default_str();
  cmd->add_option("--shard-size", a.shard_size,
                  "Hash files in shards of this many bytes (shard mode)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--ignore-paths", a.ignore_paths,
                  "Paths relative to the model to leave out (repeatable)");
  cmd->add_option("--reuse", a.reuse,
                  "Previous signature: re-hash only files changed since it was made");
  cmd->add_flag("--allow-symlinks", a.allow_symlinks, "Follow symbolic links (hash the target)");
}

void add_verify_command(CLI::App& app, mlsc::report::VerifyArgs& a) {
  auto* cmd = app.add_subcommand("verify", "Verify a model against its signature bundle");
  cmd->add_option("model", a.model, "Model file or directory")->required();
  cmd->add_option("--signature", a.signature, "The bundle (model.sig)")->required();
  auto* key =
      cmd->add_option("--public-key", a.public_key, "Key mode: the signer's public key, PEM");
  auto* anchor = cmd->add_option("--trust-anchor", a.trust_anchor,
                                 "Certificate mode: trusted CA certificate(s), PEM");
  auto* root =
      cmd->add_option("--trusted-root", a.trusted_root, "Sigstore mode: trusted root JSON");
  auto* identity =
      cmd->add_option("--identity", a.identity, "Sigstore mode: expected signer (email or URI)");
  auto* issuer = cmd->add_option("--issuer", a.issuer, "Sigstore mode: expected OIDC issuer URL");
  key->excludes(anchor)->excludes(root);
  anchor->excludes(root);
  root->needs(identity)->needs(issuer);
  cmd->add_option("--ignore-paths", a.ignore_paths,
                  "Further paths to leave out, beyond those signed (repeatable)");
  cmd->add_option("--format", a.format, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
}

struct DatasetCli {
  mlsc::report::DatasetArgs args;
  CLI::App* manifest = nullptr;
  CLI::App* verify = nullptr;
  CLI::App* fetch_verify = nullptr;
  CLI::App* diff = nullptr;
  CLI::App* croissant = nullptr;
};

void add_dataset_trust(CLI::App* cmd, mlsc::report::DatasetTrustArgs& t) {
  auto* key = cmd->add_option("--public-key", t.public_key, "Key mode: the signer's public key, PEM");
  auto* anchor = cmd->add_option("--trust-anchor", t.trust_anchor, "Certificate mode: trusted CA(s), PEM");
  auto* root = cmd->add_option("--trusted-root", t.trusted_root, "Sigstore mode: trusted root JSON");
  auto* identity = cmd->add_option("--identity", t.identity, "Sigstore mode: expected signer");
  auto* issuer = cmd->add_option("--issuer", t.issuer, "Sigstore mode: expected OIDC issuer URL");
  key->excludes(anchor)->excludes(root);
  anchor->excludes(root);
  root->needs(identity)->needs(issuer);
}

void add_dataset_format(CLI::App* cmd, mlsc::report::DatasetArgs& a) {
  cmd->add_option("--format", a.format, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_option("-j,--jobs", a.jobs, "Hashing threads (default: all cores)");
}

void add_dataset_manifest(CLI::App* ds, DatasetCli& c) {
  auto& a = c.args;
  c.manifest = ds->add_subcommand("manifest", "Hash a dataset directory or URL list and sign the manifest");
  c.manifest->add_option("dir", a.dir, "Dataset directory");
  c.manifest->add_option("--urls", a.urls, "URL list instead of a directory (.csv, .jsonl)");
  c.manifest->add_option("--url-column", a.url_column, "URL list: column holding the URL")->capture_default_str();
  c.manifest->add_option("--hash-column", a.hash_column, "URL list: column holding the content SHA-256")
      ->capture_default_str();
  c.manifest->add_option("--path-column", a.path_column, "URL list: column naming the fetched file");
  c.manifest->add_option("--fetch-dir", a.fetch_dir, "URL list: hash content already downloaded here");
  c.manifest->add_option("--key", a.key, "Private key, PEM: sign the manifest");
  c.manifest->add_option("--cert-chain", a.cert_chain, "Certificate mode: signing certificate, then intermediates");
  c.manifest->add_flag("--unsigned", a.write_unsigned, "Write the bare in-toto statement instead of a bundle");
  c.manifest->add_option("-o,--output", a.output, "Where to write (default: DIR.manifest.sig / .json)");
  c.manifest->add_option("--name", a.name, "Dataset name (default: the directory or list name)");
  c.manifest->add_option("--source", a.source, "Where the data came from (free text or URI)");
  c.manifest->add_option("--ignore-paths", a.ignore_paths, "Paths relative to DIR to leave out (repeatable)");
  c.manifest->add_flag("--allow-symlinks", a.allow_symlinks, "Follow symbolic links (hash the target)");
  add_dataset_format(c.manifest, a);
}

void add_dataset_command(CLI::App& app, DatasetCli& c) {
  auto& a = c.args;
  auto* ds = app.add_subcommand("dataset", "Dataset manifests: hash, sign, verify, diff, fetch-verify");
  ds->require_subcommand(1);
  add_dataset_manifest(ds, c);
  c.verify = ds->add_subcommand("verify", "Verify a dataset directory against its signed manifest");
  c.verify->add_option("dir", a.dir, "Dataset directory")->required();
  c.verify->add_option("--manifest", a.manifest, "The manifest bundle (DIR.manifest.sig)")->required();
  c.verify->add_flag("--unsigned", a.write_unsigned, "Accept a manifest without checking a signature");
  c.verify->add_option("--ignore-paths", a.ignore_paths, "Further paths to leave out (repeatable)");
  c.verify->add_flag("--allow-symlinks", a.allow_symlinks, "Follow symbolic links (hash the target)");
  add_dataset_trust(c.verify, a.trust);
  add_dataset_format(c.verify, a);
  c.fetch_verify = ds->add_subcommand("fetch-verify", "Refuse fetched content whose hash is not the recorded one");
  c.fetch_verify->add_option("--manifest", a.manifest, "The manifest of the URL list")->required();
  c.fetch_verify->add_option("--fetch-dir", a.fetch_dir, "Where the downloader put the content")->required();
  c.fetch_verify->add_flag("--unsigned", a.write_unsigned, "Accept a manifest without checking a signature");
  add_dataset_trust(c.fetch_verify, a.trust);
  add_dataset_format(c.fetch_verify, a);
  c.diff = ds->add_subcommand("diff", "Added, removed and changed files or URLs between two manifests or directories");
  c.diff->add_option("a", a.a, "Manifest (bundle or statement) or directory")->required();
  c.diff->add_option("b", a.b, "Manifest (bundle or statement) or directory")->required();
  add_dataset_trust(c.diff, a.trust);
  add_dataset_format(c.diff, a);
  c.croissant = ds->add_subcommand("croissant", "Check (or --write) the sha256 fields of Croissant metadata");
  c.croissant->add_option("dir", a.dir, "Dataset directory holding croissant.json or metadata.json")->required();
  c.croissant->add_flag("--write", a.write, "Fill in or update sha256 (and refresh md5) from the files");
  c.croissant->add_option("--ignore-paths", a.ignore_paths, "Paths relative to DIR to leave out (repeatable)");
  c.croissant->add_option("-j,--jobs", a.jobs, "Hashing threads (default: all cores)");
}

int run_dataset(const DatasetCli& c) {
  using namespace mlsc::report;
  if (c.manifest->parsed()) return run_dataset_manifest(c.args, std::cout, std::cerr);
  if (c.verify->parsed()) return run_dataset_verify(c.args, std::cout, std::cerr);
  if (c.fetch_verify->parsed()) return run_dataset_fetch_verify(c.args, std::cout, std::cerr);
  if (c.diff->parsed()) return run_dataset_diff(c.args, std::cout, std::cerr);
  if (c.croissant->parsed()) return run_dataset_croissant(c.args, std::cout, std::cerr);
  return kUsageError;
}

void add_admit_command(CLI::App& app, mlsc::report::AdmitArgs& a) {
  auto* cmd = app.add_subcommand("admit", "Admit or reject a model, dataset or environment by policy");
  cmd->add_option("--policy", a.policy, "Policy YAML (docs/policy.md)")->required();
  cmd->add_option("artifact", a.artifact, "Model file or folder, dataset folder, environment")
      ->required();
  cmd->add_option("--kind", a.kind, "What the artifact is")
      ->check(CLI::IsMember({"model", "dataset", "environment"}))
      ->capture_default_str();
  cmd->add_option("--signature", a.signature, "The artifact's signature bundle (model.sig)");
  cmd->add_option("--manifest", a.manifest, "The dataset's signed manifest bundle");
  cmd->add_option("--provenance", a.provenance, "Signed provenance bundles (repeatable)");
  cmd->add_option("--evidence", a.evidence, "Inputs' signatures and manifests (repeatable)");
  cmd->add_option("--input", a.inputs, "Local copies of inputs, for scan/dependency rules");
  cmd->add_option("--label", a.labels, "Artifact labels for `when:` conditions (repeatable)");
  cmd->add_option("--format", a.format, "Output format (sarif: one result per failed rule)")
      ->check(CLI::IsMember({"text", "json", "sarif"}))
      ->capture_default_str();
}

struct BomArgs {
  std::vector<std::string> paths;
  std::string format = "cyclonedx";
  std::string output;
  std::string timestamp;
  std::string validate_file;
  std::string schemas;
  std::size_t jobs = 0;
  CLI::App* validate = nullptr;
};

void add_bom_command(CLI::App& app, BomArgs& a) {
  auto* cmd = app.add_subcommand(
      "bom", "Write an AI-BOM (CycloneDX 1.6 or SPDX 3.0.1) of models, datasets and packages");
  cmd->add_option("paths", a.paths,
                  "Model folders, hub caches, projects, environments, lock files");
  cmd->add_option("--format", a.format, "Output format")
      ->check(CLI::IsMember({"cyclonedx", "spdx"}))
      ->capture_default_str();
  cmd->add_option("-o,--output", a.output, "Write the BOM to this file instead of stdout");
  cmd->add_option("--timestamp", a.timestamp,
                  "Fixed creation time (2024-05-01T12:00:00Z): reproducible output");
  cmd->add_option("-j,--jobs", a.jobs, "Hashing threads (default: all cores)");
  a.validate = cmd->add_subcommand(
      "validate", "Check a CycloneDX 1.6 or SPDX 3.0.1 JSON BOM against its schema");
  a.validate->add_option("file", a.validate_file, "BOM file")->required();
  a.validate->add_option("--schemas", a.schemas,
                         "Schema folder (cyclonedx/, spdx3/) instead of the built-in schemas");
}

int run_bom_validate(const BomArgs& a) {
  std::ifstream in(a.validate_file, std::ios::binary);
  if (!in) {
    std::cerr << "mlsc bom validate: cannot read " << a.validate_file << "\n";
    return kUsageError;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto schemas = mlsc::bom::load_bom_schemas(a.schemas);
  if (!schemas) {
    std::cerr << "mlsc bom validate: " << schemas.error().describe() << "\n";
    return kUsageError;
  }
  auto result = mlsc::bom::validate_bom(text, *schemas);
  if (!result) {
    std::cerr << "mlsc bom validate: " << result.error().describe() << "\n";
    return kUsageError;
  }
  const std::string what = result->spec.empty() ? "document" : result->spec + " BOM";
  if (result->valid()) {
    std::cout << a.validate_file << ": valid " << what << "\n";
    return 0;
  }
  std::cout << a.validate_file << ": invalid " << what << " (" << result->violations.size()
            << " problems)\n";
  for (const auto& v : result->violations) {
    std::cout << "  " << v.instance_path << ": " << v.message;
    if (!v.schema_path.empty()) std::cout << "  [" << v.schema_path << "]";
    std::cout << "\n";
  }
  return 1;
}

int run_bom(const BomArgs& a) {
  if (a.validate->parsed()) return run_bom_validate(a);
  if (a.paths.empty()) {
    std::cerr << "mlsc bom: give at least one PATH (or: mlsc bom validate FILE)\n";
    return kUsageError;
  }
  std::vector<std::filesystem::path> paths(a.paths.begin(), a.paths.end());
  mlsc::bom::CollectOptions options;
  options.jobs = static_cast<unsigned>(a.jobs);
  auto inventory = mlsc::bom::collect(paths, options);
  if (!inventory) {
    std::cerr << "mlsc bom: " << inventory.error().describe() << "\n";
    return kUsageError;
  }
  mlsc::bom::BomOptions bom_options;
  bom_options.timestamp = a.timestamp;
  auto text = a.format == "spdx" ? mlsc::bom::write_spdx3(*inventory, bom_options)
                                 : mlsc::bom::write_cyclonedx(*inventory, bom_options);
  if (!text) {
    std::cerr << "mlsc bom: " << text.error().describe() << "\n";
    return kUsageError;
  }
  if (a.output.empty()) {
    std::cout << *text;
    return 0;
  }
  std::ofstream out(a.output, std::ios::binary | std::ios::trunc);
  out << *text;
  if (!out.flush()) {
    std::cerr << "mlsc bom: cannot write " << a.output << "\n";
    return kUsageError;
  }
  std::cerr << "mlsc bom: " << inventory->models.size() << " models, " << inventory->packages.size()
            << " packages, " << inventory->runtime.size() << " runtime pieces -> " << a.output
            << "\n";
  return 0;
}

// ---- mlsc deps: dependency audit, typosquatting, dependency confusion -----------------------

struct DepsArgs {
  std::string path;
  std::string db;
  std::string top;
  std::string public_names;
  std::string config;
  std::string from;
  std::vector<std::string> names;
  std::string format = "text";
  std::string fail_on = "high";
  std::string min_severity = "low";
  bool no_typosquat = false;
  std::size_t jobs = 0;
};

std::string env_or(const char* name, const std::string& given) {
  if (!given.empty()) return given;
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : std::string();
}

void add_output_options(CLI::App* cmd, DepsArgs& a, bool sarif) {
  std::vector<std::string> formats = {"text", "json"};
  if (sarif) formats.push_back("sarif");
  cmd->add_option("--format", a.format, "Output format")
      ->check(CLI::IsMember(formats))
      ->capture_default_str();
  cmd->add_option("--fail-on", a.fail_on, "Exit 1 when a finding is at or above this severity")
      ->check(CLI::IsMember({"info", "low", "medium", "high", "critical"}))
      ->capture_default_str();
  cmd->add_option("--min-severity", a.min_severity,
                  "Text and SARIF output: hide findings below this")
      ->check(CLI::IsMember({"info", "low", "medium", "high", "critical"}))
      ->capture_default_str();
}

void add_deps_command(CLI::App& app, DepsArgs& a) {
  auto* deps = app.add_subcommand("deps",
                                  "Audit Python dependencies: known vulnerabilities, "
                                  "typosquatting, dependency confusion");
  deps->require_subcommand(1);
  auto* audit = deps->add_subcommand(
      "audit", "Match packages against an offline OSV database (and check names for typosquats)");
  audit
      ->add_option("path", a.path,
                   "requirements.txt / pinned list, CycloneDX or SPDX JSON BOM, or an "
                   "environment folder (site-packages)")
      ->required();
  audit->add_option("--db", a.db,
                    "OSV database: folder, zip/tar export or record (default: $MLSC_OSV_DB)");
  audit->add_option("--top", a.top,
                    "Popular-package list RANK<TAB>NAME for the typosquat check (default: "
                    "$MLSC_PYPI_TOP; skipped when neither is set)");
  audit->add_flag("--no-typosquat", a.no_typosquat, "Skip the typosquat check");
  audit->add_option("-j,--jobs", a.jobs, "Database parse workers (default: all cores)");
  add_output_options(audit, a, true);

  auto* typo = deps->add_subcommand("typosquat", "Check package names against popular projects");
  typo->add_option("names", a.names, "Package names");
  typo->add_option("--from", a.from, "File of names (one per line, or requirement lines)");
  typo->add_option("--top", a.top, "Popular-package list RANK<TAB>NAME (default: $MLSC_PYPI_TOP)");
  add_output_options(typo, a, true);

  auto* conf = deps->add_subcommand(
      "confusion",
      "Find dependency-confusion exposure: internal names on the public index, "
      "mixed private/public index configurations");
  conf->add_option("path", a.path, "Project folder or file (requirements*.txt, pip.conf, .env)")
      ->required();
  conf->add_option("--config", a.config, "YAML: internal: [names or prefix*], private_index: URL")
      ->required();
  conf->add_option("--public-names", a.public_names,
                   "Every public project name, one per line, optionally gzip-compressed (default: "
                   "$MLSC_PYPI_NAMES; the name check is skipped when neither is set)");
  add_output_options(conf, a, true);
}

int print_findings(const std::vector<mlsc::FileReport>& reports, const DepsArgs& a,
                   double seconds) {
  const auto summary = mlsc::report::summarize(reports, seconds);
  const auto min = *mlsc::parse_severity(a.min_severity);
  if (a.format == "json") {
    std::cout << mlsc::report::format_json(reports, summary);
  } else if (a.format == "sarif") {
    mlsc::report::SarifOptions sarif;
    sarif.min_severity = min;
    sarif.tool_version = MLSC_VERSION;
    std::cout << mlsc::report::format_sarif(reports, sarif);
  } else {
    mlsc::report::TextOptions text;
    text.min_severity = min;
    std::cout << mlsc::report::format_text(reports, summary, text);
  }
  return mlsc::report::exit_code(summary, *mlsc::parse_severity(a.fail_on));
}

std::optional<mlsc::vuln::TyposquatIndex> load_top(const DepsArgs& a, bool required) {
  const std::string top = env_or("MLSC_PYPI_TOP", a.top);
  if (top.empty()) {
    if (required) std::cerr << "mlsc deps: give --top FILE or set MLSC_PYPI_TOP\n";
    return std::nullopt;
  }
  auto index = mlsc::vuln::TyposquatIndex::load_tsv(top);
  if (!index) {
    std::cerr << "mlsc deps: " << index.error().describe() << "\n";
    return std::nullopt;
  }
  return std::move(*index);
}

int run_deps_audit(const DepsArgs& a) {
  const std::string db_path = env_or("MLSC_OSV_DB", a.db);
  if (db_path.empty()) {
    std::cerr << "mlsc deps audit: give --db DIR|ZIP or set MLSC_OSV_DB\n";
    return kUsageError;
  }
  auto inventory = mlsc::vuln::read_inventory(a.path);
  if (!inventory) {
    std::cerr << "mlsc deps audit: " << inventory.error().describe() << "\n";
    return kUsageError;
  }
  mlsc::vuln::OsvLoadOptions load_options;
  load_options.jobs = a.jobs;
  auto db = mlsc::vuln::OsvDatabase::load(db_path, load_options);
  if (!db) {
    std::cerr << "mlsc deps audit: " << db.error().describe() << "\n";
    return kUsageError;
  }
  std::optional<mlsc::vuln::TyposquatIndex> top;
  const bool want_top = !a.no_typosquat && !env_or("MLSC_PYPI_TOP", a.top).empty();
  if (want_top && !(top = load_top(a, true))) return kUsageError;
  const auto result = mlsc::vuln::audit(*inventory, *db, top ? &*top : nullptr);
  mlsc::vuln::AuditFormatOptions format;
  format.min_severity = *mlsc::parse_severity(a.min_severity);
  format.db_path = db_path;
  format.typosquat_path = env_or("MLSC_PYPI_TOP", a.top);
  const auto report = mlsc::vuln::to_file_report(result);
  if (a.format == "json") {
    std::cout << mlsc::vuln::format_audit_json(result, *db, format);
  } else if (a.format == "sarif") {
    mlsc::report::SarifOptions sarif;
    sarif.min_severity = format.min_severity;
    sarif.tool_version = MLSC_VERSION;
    std::cout << mlsc::report::format_sarif({report}, sarif);
  } else {
    std::cout << mlsc::vuln::format_audit_text(result, *db, format);
  }
  const auto fail_on = *mlsc::parse_severity(a.fail_on);
  return report.max_severity() >= fail_on && report.max_severity() != mlsc::Severity::none ? 1 : 0;
}

// Names from a file: one per line; requirement lines ("name>=1.0 --hash ...") give their name.
mlsc::Expected<std::vector<std::string>> names_from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return mlsc::Error(path + ": cannot open");
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    const auto req = mlsc::vuln::parse_requirement(line.substr(0, line.find(" --")));
    if (req) names.push_back(req->name);
  }
  return names;
}

int run_deps_typosquat(const DepsArgs& a) {
  auto top = load_top(a, true);
  if (!top) return kUsageError;
  std::vector<std::string> names = a.names;
  if (!a.from.empty()) {
    auto more = names_from_file(a.from);
    if (!more) {
      std::cerr << "mlsc deps typosquat: " << more.error().describe() << "\n";
      return kUsageError;
    }
    names.insert(names.end(), more->begin(), more->end());
  }
  if (names.empty()) {
    std::cerr << "mlsc deps typosquat: give names or --from FILE\n";
    return kUsageError;
  }
  std::vector<mlsc::vuln::NameCheck> checks;
  for (const auto& n : names) checks.push_back({n, top->rank_of(n), top->check(n)});
  const auto report =
      mlsc::vuln::typosquat_file_report(a.from.empty() ? "<command line>" : a.from, checks);
  const auto min = *mlsc::parse_severity(a.min_severity);
  if (a.format == "json") {
    std::cout << mlsc::vuln::format_typosquat_json(checks);
  } else if (a.format == "sarif") {
    mlsc::report::SarifOptions sarif;
    sarif.min_severity = min;
    sarif.tool_version = MLSC_VERSION;
    std::cout << mlsc::report::format_sarif({report}, sarif);
  } else {
    std::cout << mlsc::vuln::format_typosquat_text(checks, min);
  }
  const auto fail_on = *mlsc::parse_severity(a.fail_on);
  return report.max_severity() >= fail_on && report.max_severity() != mlsc::Severity::none ? 1 : 0;
}

int run_deps_confusion(const DepsArgs& a) {
  const auto start = std::chrono::steady_clock::now();
  auto config = mlsc::vuln::ConfusionConfig::load(a.config);
  if (!config) {
    std::cerr << "mlsc deps confusion: " << config.error().describe() << "\n";
    return kUsageError;
  }
  std::optional<mlsc::vuln::PublicIndex> index;
  const std::string names = env_or("MLSC_PYPI_NAMES", a.public_names);
  if (!names.empty()) {
    auto loaded = mlsc::vuln::PublicIndex::load(names);
    if (!loaded) {
      std::cerr << "mlsc deps confusion: " << loaded.error().describe() << "\n";
      return kUsageError;
    }
    index = std::move(*loaded);
  } else {
    std::cerr << "mlsc deps confusion: no --public-names list; internal names not checked\n";
  }
  std::error_code ec;
  if (!std::filesystem::exists(a.path, ec)) {
    std::cerr << "mlsc deps confusion: " << a.path << ": no such file or folder\n";
    return kUsageError;
  }
  const auto reports =
      mlsc::vuln::check_confusion(a.path, a.config, *config, index ? &*index : nullptr);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return print_findings(reports, a, seconds);
}

int run_deps(CLI::App& app, const DepsArgs& a) {
  auto* deps = app.get_subcommand("deps");
  if (deps->got_subcommand("audit")) return run_deps_audit(a);
  if (deps->got_subcommand("typosquat")) return run_deps_typosquat(a);
  if (deps->got_subcommand("confusion")) return run_deps_confusion(a);
  return kUsageError;
}

// ---- end of mlsc deps ------------------------------------------------------------------------

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

// ---- mlsc attest / mlsc checkpoint: step provenance and the checkpoint guard ----

void add_trust_options(CLI::App* cmd, mlsc::report::TrustArgs& t) {
  auto* key =
      cmd->add_option("--public-key", t.public_key, "Key mode: the signer's public key, PEM");
  auto* anchor = cmd->add_option("--trust-anchor", t.trust_anchor,
                                 "Certificate mode: trusted CA certificate(s), PEM");
  auto* root =
      cmd->add_option("--trusted-root", t.trusted_root, "Sigstore mode: trusted root JSON");
  auto* identity = cmd->add_option("--identity", t.identity, "Sigstore mode: expected signer");
  auto* issuer = cmd->add_option("--issuer", t.issuer, "Sigstore mode: expected OIDC issuer URL");
  key->excludes(anchor)->excludes(root);
  anchor->excludes(root);
  root->needs(identity)->needs(issuer);
}

struct AttestCli {
  mlsc::report::AttestArgs attest;
  mlsc::report::AttestVerifyArgs verify;
  CLI::App* verify_cmd = nullptr;
};

void add_attest_command(CLI::App& app, AttestCli& c) {
  auto& a = c.attest;
  auto* cmd = app.add_subcommand(
      "attest",
      "Write signed SLSA provenance for an ML step (options first, then -- COMMAND ARGS)");
  cmd->add_option("--step", a.step, "train, fine-tune, evaluate or data-processing")
      ->check(CLI::IsMember({"train", "fine-tune", "evaluate", "data-processing"}));
  cmd->add_option("--output-artifact", a.outputs,
                  "A file or model folder the step produced (repeatable)");
  cmd->add_option("--dataset", a.datasets, "NAME=MANIFEST_BUNDLE[:WEIGHT] (repeatable)");
  cmd->add_option("--base-model", a.base_models, "DIR_OR_FILE=SIGNATURE_BUNDLE (repeatable)");
  cmd->add_option("--code", a.code, "The git working tree of the code that ran");
  cmd->add_flag("--allow-dirty", a.allow_dirty, "Record uncommitted changes instead of refusing");
  cmd->add_option("--environment", a.environment, "CycloneDX BOM of the environment (mlsc bom)");
  cmd->add_option("--param", a.params, "Hyperparameter KEY=VALUE (repeatable)");
  cmd->add_option("--params-file", a.params_file, "Hyperparameters as a JSON object");
  cmd->add_option("--metrics", a.metrics, "Metrics as a JSON object (recorded as a byproduct)");
  cmd->add_option("--builder-id", a.builder_id, "URI of the builder that ran the step")
      ->capture_default_str();
  cmd->add_option("--invocation-id", a.invocation_id, "Run identifier (default: a random UUID)");
  cmd->add_option("--started-on", a.started_on, "RFC 3339 start time");
  cmd->add_option("--finished-on", a.finished_on,
                  "RFC 3339 end time (default: newest output's mtime)");
  cmd->add_option("--key", a.key, "Private key, PEM");
  cmd->add_option("--cert-chain", a.cert_chain,
                  "Certificate mode: signing certificate, then intermediates");
  cmd->add_option("--output", a.output,
                  "Bundle to write (default provenance.sig; provenance.json unsigned)");
  cmd->add_flag("--unsigned", a.unsigned_statement, "Write the bare in-toto statement, unsigned");
  cmd->add_option("command", a.command, "The step's command line, after --");
  c.verify_cmd = cmd->add_subcommand("verify", "Verify a step provenance bundle");
  c.verify_cmd->add_option("bundle", c.verify.bundle, "The provenance bundle")->required();
  add_trust_options(c.verify_cmd, c.verify.trust);
  c.verify_cmd->add_option("--artifact", c.verify.artifacts,
                           "A file or folder that must be a subject (repeatable)");
  c.verify_cmd->add_option("--format", c.verify.format, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
}

int run_attest(const AttestCli& c) {
  if (c.verify_cmd->parsed())
    return mlsc::report::run_attest_verify(c.verify, std::cout, std::cerr);
  return mlsc::report::run_attest(c.attest, std::cout, std::cerr);
}

struct CheckpointCli {
  mlsc::report::CheckpointArgs args;
  CLI::App* sign = nullptr;
  CLI::App* verify = nullptr;
};

void add_checkpoint_command(CLI::App& app, CheckpointCli& c) {
  auto& a = c.args;
  auto* cmd = app.add_subcommand("checkpoint",
                                 "Sign training checkpoints; refuse to resume from a tampered one");
  cmd->require_subcommand(1);
  c.sign = cmd->add_subcommand("sign",
                               "Record a checkpoint (signed, chained to the run's previous one)");
  c.sign->add_option("checkpoint", a.checkpoint, "Checkpoint file")->required();
  c.sign->add_option("--key", a.key, "Private key, PEM")->required();
  c.sign->add_option("--cert-chain", a.cert_chain,
                     "Certificate mode: signing certificate, then intermediates");
  c.sign->add_option("--run-id", a.run_id, "The training run")->required();
  c.sign->add_option("--step", a.step, "Training step (default: one after the last)")
      ->check(CLI::NonNegativeNumber);
  c.sign->add_option("--provenance", a.provenance,
                     "The step's provenance file (its digest is recorded)");
  c.verify = cmd->add_subcommand("verify", "Check a checkpoint before resuming from it");
  c.verify->add_option("checkpoint", a.checkpoint, "Checkpoint file")->required();
  add_trust_options(c.verify, a.trust);
  c.verify->add_option("--run-id", a.run_id, "Expected run (default: the record's)");
  c.verify->add_flag("--allow-older", a.allow_older,
                     "Accept a checkpoint older than the run's latest");
  c.verify->add_option("--format", a.format, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  for (auto* sub : {c.sign, c.verify})
    sub->add_option("--chain", a.chain,
                    "Chain file (default: .mlsc-ckpt-chain.jsonl beside the checkpoint)");
}

int run_checkpoint(const CheckpointCli& c) {
  if (c.sign->parsed()) return mlsc::report::run_checkpoint_sign(c.args, std::cout, std::cerr);
  return mlsc::report::run_checkpoint_verify(c.args, std::cout, std::cerr);
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
  mlsc::report::SignArgs sign_args;
  add_sign_command(app, sign_args);
  mlsc::report::VerifyArgs verify_args;
  add_verify_command(app, verify_args);
  BomArgs bom_args;
  add_bom_command(app, bom_args);
  DepsArgs deps_args;
  add_deps_command(app, deps_args);
  GraphArgs graph_args;
  add_graph_command(app, graph_args);
  DatasetCli dataset_cli;
  add_dataset_command(app, dataset_cli);
  mlsc::report::AdmitArgs admit_args;
  add_admit_command(app, admit_args);
  AttestCli attest_cli;
  add_attest_command(app, attest_cli);
  CheckpointCli checkpoint_cli;
  add_checkpoint_command(app, checkpoint_cli);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports --help as a "success" parse error; usage errors exit 2 as documented.
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kUsageError;
  }
  if (app.got_subcommand("scan")) return run_scan(scan_args);
  if (app.got_subcommand("rules")) return run_rules(rules_args);
  const bool progress = ::isatty(STDERR_FILENO) != 0;
  if (app.got_subcommand("sign")) {
    sign_args.progress = progress;
    return mlsc::report::run_sign(sign_args, std::cout, std::cerr);
  }
  if (app.got_subcommand("verify")) {
    verify_args.progress = progress;
    return mlsc::report::run_verify(verify_args, std::cout, std::cerr);
  }
  if (app.got_subcommand("bom")) return run_bom(bom_args);
  if (app.got_subcommand("deps")) return run_deps(app, deps_args);
  if (app.got_subcommand("graph")) return run_graph(graph_args);
  if (app.got_subcommand("dataset")) return run_dataset(dataset_cli);
  if (app.got_subcommand("admit")) return mlsc::report::run_admit(admit_args, std::cout, std::cerr);
  if (app.got_subcommand("attest")) return run_attest(attest_cli);
  if (app.got_subcommand("checkpoint")) return run_checkpoint(checkpoint_cli);
  return kUsageError;
}
