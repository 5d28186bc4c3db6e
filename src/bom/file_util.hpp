// Bounded file reading and path containment for the BOM collectors (private to src/bom).
#pragma once

#include <filesystem>
#include <string>

#include "mlsc/core/expected.hpp"

namespace mlsc::bom::detail {

// The whole file, or an Error when it is larger than `max_bytes` or unreadable.
Expected<std::string> read_text_file(const std::filesystem::path& file, std::size_t max_bytes);

// True when `path` (resolved, symlinks followed) lies inside `root` (resolved).
bool resolves_inside(const std::filesystem::path& path, const std::filesystem::path& root);

// POSIX relative path of `path` below `base`, as a BOM names files.
std::string relative_name(const std::filesystem::path& path, const std::filesystem::path& base);

}  // namespace mlsc::bom::detail
