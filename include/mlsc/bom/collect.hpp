// `mlsc bom PATH...`: walks files and folders and gathers the Inventory the BOM writers turn
// into CycloneDX or SPDX. What is read from where is in docs/bom.md.
#pragma once

#include <cstddef>
#include <filesystem>
#include <vector>

#include "mlsc/bom/inventory.hpp"
#include "mlsc/core/expected.hpp"

namespace mlsc::bom {

struct CollectOptions {
  unsigned jobs = 0;                        // hashing threads; 0: all cores
  std::size_t max_entries = 2'000'000;      // directory entries visited over the whole walk
  std::size_t max_depth = 48;               // directory nesting below an input path
  std::size_t max_model_files = 100'000;    // files hashed per model
  std::size_t max_requirement_files = 256;  // -r / -c includes followed, in total
  std::size_t max_include_depth = 8;        // -r inside -r inside ...
};

// A path that does not exist or cannot be listed is an Error; a file that cannot be parsed is
// a note in Inventory::notes (or Model::notes) and the walk goes on.
Expected<Inventory> collect(const std::vector<std::filesystem::path>& paths,
                            const CollectOptions& options);

// One model folder (or a single weights file): every file hashed, headers, config and card
// read. Symlinks are followed only when their target stays inside `containment_root` (the
// folder itself, or a hub-cache repo for its snapshots).
Expected<Model> read_model(const std::filesystem::path& path,
                           const std::filesystem::path& containment_root,
                           const CollectOptions& options);

// Hub cache: `repo_dir` is ".../models--org--name". One Model per snapshot, with hub id and
// revision set. Error when the folder does not have the cache layout.
Expected<std::vector<Model>> read_hub_cache_repo(const std::filesystem::path& repo_dir,
                                                 const CollectOptions& options);
bool is_hub_cache_repo(const std::filesystem::path& dir);

// Files recognised as model weights by name (used to spot model folders).
bool is_weights_file_name(std::string_view file_name);

}  // namespace mlsc::bom
