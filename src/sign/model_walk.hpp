// Enumerating the files of a model the way the reference signer does.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "mlsc/sign/manifest.hpp"

namespace mlsc::sign::detail {

struct ModelFile {
  std::string name;             // resource name: POSIX relative path, or "." for a file model
  std::filesystem::path path;   // where to read it
  std::uint64_t size = 0;
  FileStamp stamp;              // of the file read (the link target for a followed link)
};

struct ModelTree {
  std::vector<ModelFile> files;              // in directory order; sorted later
  std::vector<std::string> recorded_ignores;  // sorted, unique, relative to the root
  std::vector<std::string> warnings;
};

Expected<ModelTree> walk_model(const std::filesystem::path& root, const HashOptions& options);

}  // namespace mlsc::sign::detail
