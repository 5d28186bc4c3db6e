// Reference files for the Sigstore fuzz targets: read once at start-up from ../shared (the path
// fuzz/CMakeLists.txt compiles in, or $MLSC_SHARED_DIR), so the targets run against the real
// public-good trusted root.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace mlsc::fuzz {

inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("MLSC_SHARED_DIR"); env != nullptr) return env;
  // Not from __FILE__: compiler caches rewrite it to a path relative to the build directory.
  return MLSC_SHARED_DIR;
}

inline std::string read_shared(const std::string& relative) {
  const auto path = shared_dir() / relative;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string() + " (set MLSC_SHARED_DIR)");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace mlsc::fuzz
