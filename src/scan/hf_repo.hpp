// Hugging Face repositories on disk: a model folder, or the hub cache layout
// (models--org--name/snapshots/<rev>/ whose files are symlinks into models--org--name/blobs/).
// Two questions need the file system rather than one file's bytes: which Python files would
// `trust_remote_code=True` import (auto_map, custom_pipelines), and does a cache symlink lead
// out of the cache (a snapshot entry pointing at ~/.ssh/id_rsa is not part of any model).
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "mlsc/scan/scanner.hpp"

namespace mlsc::scan::hf {

// One class reference from auto_map or custom_pipelines.
struct CodeRef {
  std::string key;        // "auto_map.AutoModelForCausalLM", "custom_pipelines.my-task.impl"
  std::string reference;  // as written: "modeling_x.XModel" or "org/repo--modeling_x.XModel"
  std::string repo;       // "org/repo" for a reference into another repository, else empty
  std::string module;     // "modeling_x"
};

// The class references a config's top-level `auto_map` / `custom_pipelines` members hold.
std::vector<CodeRef> code_references(const nlohmann::json& members);

// Reports that the repository needs trust_remote_code, which files that imports, and what those
// files (and the files they import relatively) do. Reads neighbours of ctx.file_path().
void check_remote_code(ScanContext& ctx, const nlohmann::json& members);

// For a path inside a hub cache snapshot (…/models--org--name/snapshots/<rev>/…): the repository
// root (…/models--org--name). nullopt for other paths.
std::optional<std::filesystem::path> cache_repo_root(const std::filesystem::path& path);

// When `path` is a hub cache snapshot entry whose symlinks resolve outside its repository root,
// a message saying where it leads; nullopt otherwise. mlsc then does not open it.
std::optional<std::string> cache_link_escape(const std::string& path);

// Whether `path` resolves (following every symlink) to a place inside `root`.
bool resolves_inside(const std::filesystem::path& path, const std::filesystem::path& root);

}  // namespace mlsc::scan::hf
