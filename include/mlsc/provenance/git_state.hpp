// The state of the code a step ran: which commit of which repository, and whether the working
// tree matched that commit. Read with libgit2, so no git binary is needed.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "mlsc/core/expected.hpp"

namespace mlsc::provenance {

struct GitState {
  std::filesystem::path workdir;  // the repository's working tree root
  std::string commit;             // HEAD, 40 lowercase hex digits
  std::string remote_url;         // the "origin" remote's URL; empty when there is none
  // Tracked files modified, staged, deleted or renamed, and untracked files that are not
  // ignored, as repository-relative POSIX paths, sorted. Empty: the tree is clean.
  std::vector<std::string> dirty_paths;
  bool dirty() const { return !dirty_paths.empty(); }
};

// Opens the repository that contains `path` (searching upwards) and reads its state. Errors:
// not inside a repository, a bare repository, HEAD with no commit yet.
Expected<GitState> read_git_state(const std::filesystem::path& path);

// The resource URI of the code: "git+<origin URL>@<commit>", or "git+file://<workdir>@<commit>"
// when the repository has no origin remote.
std::string code_uri(const GitState& state);

}  // namespace mlsc::provenance
