// The walk behind `mlsc bom PATH...`: decides what each folder is (hub cache repo, model
// folder, Python environment, conda environment, project) and hands files to the parsers.
#include "mlsc/bom/collect.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "file_util.hpp"
#include "mlsc/bom/purl.hpp"
#include "mlsc/bom/sources.hpp"
#include "mlsc/core/text.hpp"
#include "mlsc/sign/hashing.hpp"
#include "text_util.hpp"

namespace mlsc::bom {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxMetadata = 8U << 20;

bool skipped_dir(const std::string& name) {
  return name == ".git" || name == ".hg" || name == ".svn" || name == "__pycache__" ||
         name == "node_modules" || name == ".mypy_cache" || name == ".pytest_cache" ||
         name == ".ruff_cache";
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_requirements_name(std::string_view name) {
  return name.rfind("requirements", 0) == 0 && ends_with(name, ".txt");
}

bool is_project_file(std::string_view name) {
  return is_requirements_name(name) || name == "pyproject.toml" || name == "poetry.lock" ||
         name == "uv.lock" || name == "Pipfile.lock";
}

class Walker {
 public:
  Walker(Inventory& inv, const CollectOptions& options) : inv_(inv), options_(options) {}

  Expected<void> add_path(const fs::path& path) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) return Error(path.string() + ": no such file or directory");
    if (fs::is_directory(status)) return walk(path);
    return add_file_argument(path);
  }

 private:
  Inventory& inv_;
  const CollectOptions& options_;
  std::size_t entries_ = 0;
  std::set<fs::path> requirement_files_seen_;

  void note(const std::string& text) { inv_.notes.push_back(text); }

  Expected<void> add_file_argument(const fs::path& file) {
    const auto name = file.filename().string();
    if (is_project_file(name)) {
      read_project_file(file);
      return {};
    }
    if (is_weights_file_name(name)) return add_model(file, file.parent_path());
    if (file.parent_path().filename() == "conda-meta" && ends_with(name, ".json")) {
      read_conda_meta(file);
      return {};
    }
    if (name == "METADATA" || name == "PKG-INFO" || ends_with(name, ".egg-info")) {
      read_metadata(file, {});
      return {};
    }
    return Error(file.string() + ": not a file mlsc bom reads (see docs/bom.md)");
  }

  Expected<void> add_model(const fs::path& path, const fs::path& root) {
    auto model = read_model(path, root, options_);
    if (!model) return model.error();
    inv_.models.push_back(std::move(*model));
    return {};
  }

  struct DirInfo {
    std::vector<fs::path> files;
    std::vector<fs::path> dirs;
    bool has_distributions = false;  // *.dist-info / *.egg-info: a site-packages folder
    bool looks_like_model = false;
  };

  Expected<DirInfo> list_dir(const fs::path& dir) {
    DirInfo info;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      if (++entries_ > options_.max_entries)
        return Error("more than " + std::to_string(options_.max_entries) +
                     " directory entries; stopping");
      const auto& entry = *it;
      const auto name = entry.path().filename().string();
      std::error_code ec2;
      if (entry.is_symlink(ec2)) {
        // Links are not followed by the walk (loops, escapes); a model folder's own links are
        // handled by read_model.
        if (is_weights_file_name(name) && entry.is_regular_file(ec2)) info.looks_like_model = true;
        continue;
      }
      if (entry.is_directory(ec2)) {
        info.dirs.push_back(entry.path());
        if (ends_with(name, ".dist-info") || ends_with(name, ".egg-info"))
          info.has_distributions = true;
      } else if (entry.is_regular_file(ec2)) {
        info.files.push_back(entry.path());
        if (ends_with(name, ".egg-info")) info.has_distributions = true;
        if (is_weights_file_name(name)) info.looks_like_model = true;
      }
    }
    if (ec) return Error(dir.string() + ": " + ec.message());
    std::sort(info.files.begin(), info.files.end());
    std::sort(info.dirs.begin(), info.dirs.end());
    return info;
  }

  bool config_names_model(const fs::path& config) {
    auto text = detail::read_text_file(config, 4U << 20);
    if (!text) return false;
    Model probe;
    return parse_model_config(*text, probe) &&
           (!probe.model_type.empty() || !probe.architectures.empty());
  }

  Expected<void> walk(const fs::path& root) {
    struct Pending {
      fs::path dir;
      std::size_t depth;
      bool in_environment;  // below a site-packages folder: package code, no models
    };
    std::vector<Pending> stack{{root, 0, false}};
    while (!stack.empty()) {
      const auto current = std::move(stack.back());
      stack.pop_back();
      auto r = visit(current.dir, current.depth, current.in_environment,
                     [&](const fs::path& d, bool env) {
                       if (current.depth + 1 <= options_.max_depth)
                         stack.push_back({d, current.depth + 1, env});
                     });
      if (!r) return r;
    }
    return {};
  }

  template <class Push>
  Expected<void> visit(const fs::path& dir, std::size_t depth, bool in_environment, Push push) {
    const auto name = dir.filename().string();
    if (depth > 0 && skipped_dir(name)) return {};
    if (!in_environment && is_hub_cache_repo(dir)) {
      auto models = read_hub_cache_repo(dir, options_);
      if (!models) {
        note(models.error().describe());
        return {};
      }
      for (auto& m : *models) inv_.models.push_back(std::move(m));
      return {};
    }
    if (ends_with(name, ".dist-info") || ends_with(name, ".egg-info")) {
      read_distribution(dir);
      return {};
    }
    if (name == "conda-meta") {
      read_conda_env(dir);
      return {};
    }
    auto info = list_dir(dir);
    if (!info) return info.error();
    const bool environment = in_environment || info->has_distributions;
    if (!environment && (info->looks_like_model || has_model_config(*info))) {
      // A project that keeps a model next to its requirements: read both.
      for (const auto& f : info->files)
        if (is_project_file(f.filename().string())) read_project_file(f);
      auto r = add_model(dir, dir);
      if (!r) note(r.error().describe());
      return {};
    }
    for (const auto& f : info->files) visit_file(f, environment);
    // Reverse so that the stack pops folders in sorted order.
    for (auto it = info->dirs.rbegin(); it != info->dirs.rend(); ++it) push(*it, environment);
    return {};
  }

  bool has_model_config(const DirInfo& info) {
    for (const auto& f : info.files) {
      if (f.filename() == "config.json") return config_names_model(f);
    }
    return false;
  }

  void visit_file(const fs::path& file, bool in_environment) {
    const auto name = file.filename().string();
    if (auto piece = runtime_from_library_name(name, file.string())) inv_.runtime.push_back(*piece);
    if (name == "version.py" && file.parent_path().filename() == "torch") read_torch_version(file);
    if (in_environment) {
      if (ends_with(name, ".egg-info")) read_metadata(file, {});
      return;
    }
    if (is_project_file(name)) read_project_file(file);
  }

  void read_torch_version(const fs::path& file) {
    auto text = detail::read_text_file(file, 1U << 20);
    if (!text) return;
    for (auto& piece : runtime_from_torch_version(*text, file.string()))
      inv_.runtime.push_back(std::move(piece));
  }

  // *.dist-info (METADATA, RECORD) or *.egg-info (PKG-INFO; a file or a folder).
  void read_distribution(const fs::path& dir) {
    const auto name = dir.filename().string();
    if (ends_with(name, ".egg-info")) {
      read_metadata(dir / "PKG-INFO", {});
      if (auto egg_requires = detail::read_text_file(dir / "requires.txt", kMaxMetadata);
          egg_requires && !inv_.packages.empty() && inv_.packages.back().source == dir.string()) {
        for (auto& r : parse_egg_requires(*egg_requires))
          inv_.packages.back().requires_names.push_back(std::move(r));
      }
      return;
    }
    read_metadata(dir / "METADATA", dir / "RECORD");
  }

  void read_metadata(const fs::path& metadata, const fs::path& record) {
    auto text = detail::read_text_file(metadata, kMaxMetadata);
    if (!text) {
      note(text.error().describe());
      return;
    }
    auto package = parse_core_metadata(*text, metadata.parent_path().string());
    if (!package) {
      note(metadata.string() + ": " + package.error().describe());
      return;
    }
    if (!record.empty()) read_record(record, *package);
    add_package(std::move(*package));
  }

  void read_record(const fs::path& record, Package& package) {
    auto text = detail::read_text_file(record, kMaxTextFile);
    if (!text) return;  // RECORD is optional for Debian-built and some vendored installs
    auto entries = parse_record(*text);
    if (!entries) {
      note(record.string() + ": " + entries.error().describe());
      return;
    }
    auto digest = sign::hash_bytes(sign::HashType::sha256, as_bytes(*text));
    if (!digest) return;
    package.record_path = record.string();
    package.record_sha256 = digest->hex();
    package.record_entries = *entries;
  }

  void read_conda_env(const fs::path& conda_meta) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(conda_meta, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      if (++entries_ > options_.max_entries) break;
      if (it->is_regular_file(ec) && it->path().extension() == ".json") files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) read_conda_meta(f);
  }

  void read_conda_meta(const fs::path& file) {
    auto text = detail::read_text_file(file, kMaxTextFile);
    if (!text) {
      note(text.error().describe());
      return;
    }
    auto package = parse_conda_meta(*text, file.string());
    if (!package) {
      note(file.string() + ": " + package.error().describe());
      return;
    }
    add_package(std::move(*package));
  }

  void add_package(Package p) {
    if (auto piece = runtime_from_package(p)) inv_.runtime.push_back(*piece);
    inv_.packages.push_back(std::move(p));
  }

  void read_project_file(const fs::path& file) {
    const auto name = file.filename().string();
    if (is_requirements_name(name)) {
      read_requirements(file, 0, false);
      return;
    }
    auto text = detail::read_text_file(file, kMaxTextFile);
    if (!text) {
      note(text.error().describe());
      return;
    }
    const auto source = file.string();
    if (name == "pyproject.toml") {
      auto project = parse_pyproject(*text, source);
      if (!project) return note(source + ": " + project.error().describe());
      if (!project->project.name.empty()) inv_.projects.push_back(project->project);
      for (auto& p : project->packages) add_package(std::move(p));
      return;
    }
    auto packages = name == "poetry.lock" ? parse_poetry_lock(*text, source)
                    : name == "uv.lock"   ? parse_uv_lock(*text, source)
                                          : parse_pipfile_lock(*text, source);
    if (!packages) return note(source + ": " + packages.error().describe());
    for (auto& p : *packages) add_package(std::move(p));
  }

  void read_requirements(const fs::path& file, std::size_t depth, bool constraint) {
    std::error_code ec;
    const auto canonical = fs::weakly_canonical(file, ec);
    if (ec || !requirement_files_seen_.insert(canonical).second) return;  // cycles, repeats
    if (requirement_files_seen_.size() > options_.max_requirement_files) {
      return note(file.string() + ": too many requirement files, include not followed");
    }
    auto text = detail::read_text_file(file, kMaxTextFile);
    if (!text) return note(text.error().describe());
    auto parsed = parse_requirements(*text, file.string());
    if (!parsed) return note(file.string() + ": " + parsed.error().describe());
    for (auto& n : parsed->notes) note(std::move(n));
    for (auto& u : parsed->index_urls) inv_.index_urls.push_back(u + " (" + file.string() + ")");
    for (auto& p : parsed->packages) {
      if (constraint) p.scope = PackageScope::constraint;
      add_package(std::move(p));
    }
    for (const auto& inc : parsed->includes) {
      if (depth + 1 > options_.max_include_depth) {
        note(file.string() + ": includes nested deeper than " +
             std::to_string(options_.max_include_depth));
        continue;
      }
      fs::path target(inc.path);
      if (target.is_relative()) target = file.parent_path() / target;
      read_requirements(target, depth + 1, constraint || inc.constraint);
    }
  }
};

std::string package_key(const Package& p) {
  const auto name = p.ecosystem == "pypi" ? normalize_pypi_name(p.name) : ascii_lower(p.name);
  return p.ecosystem + "|" + name + "|" + p.version + "|" + p.build + "|" + p.url;
}

void merge_into(Package& kept, Package&& other) {
  for (auto& h : other.hashes) {
    if (std::find(kept.hashes.begin(), kept.hashes.end(), h) == kept.hashes.end())
      kept.hashes.push_back(h);
  }
  if (kept.source.find(other.source) == std::string::npos) kept.source += ", " + other.source;
  if (kept.license.empty()) kept.license = other.license;
  if (kept.summary.empty()) kept.summary = other.summary;
  if (kept.homepage.empty()) kept.homepage = other.homepage;
  if (kept.specifier.empty()) kept.specifier = other.specifier;
  if (kept.record_path.empty()) {
    kept.record_path = other.record_path;
    kept.record_sha256 = other.record_sha256;
    kept.record_entries = other.record_entries;
  }
  // The strongest claim wins: required over optional/dev/constraint.
  if (other.scope == PackageScope::required) kept.scope = PackageScope::required;
  for (auto& r : other.requires_names) {
    if (std::find(kept.requires_names.begin(), kept.requires_names.end(), r) ==
        kept.requires_names.end())
      kept.requires_names.push_back(std::move(r));
  }
}

// One component per package identity, whichever files named it.
void merge_packages(Inventory& inv) {
  std::map<std::string, std::size_t> index;
  std::vector<Package> merged;
  for (auto& p : inv.packages) {
    const auto key = package_key(p);
    const auto [it, inserted] = index.emplace(key, merged.size());
    if (inserted) {
      merged.push_back(std::move(p));
    } else {
      merge_into(merged[it->second], std::move(p));
    }
  }
  inv.packages = std::move(merged);
}

void merge_runtime(Inventory& inv) {
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  std::vector<RuntimePiece> merged;
  std::map<std::size_t, std::size_t> evidence_count;
  for (auto& r : inv.runtime) {
    const auto [it, inserted] = index.emplace(std::pair{r.name, r.version}, merged.size());
    if (inserted) {
      merged.push_back(std::move(r));
      continue;
    }
    auto& kept = merged[it->second];
    // Keep the BOM readable: a few places of evidence, then a count.
    if (++evidence_count[it->second] <= 3) kept.evidence += ", " + r.evidence;
  }
  for (const auto& [i, n] : evidence_count) {
    if (n > 3) merged[i].evidence += " (and " + std::to_string(n - 3) + " more)";
  }
  inv.runtime = std::move(merged);
}

}  // namespace

Expected<Inventory> collect(const std::vector<fs::path>& paths, const CollectOptions& options) {
  Inventory inv;
  Walker walker(inv, options);
  for (const auto& p : paths) {
    if (auto r = walker.add_path(p); !r) return r.error();
  }
  merge_packages(inv);
  merge_runtime(inv);
  return inv;
}

}  // namespace mlsc::bom
