#include "mlsc/provenance/git_state.hpp"

#include <git2.h>

#include <algorithm>
#include <memory>

namespace mlsc::provenance {

namespace fs = std::filesystem;

namespace {

// libgit2 keeps a reference count of its global state; one Library per use keeps it balanced
// without any global of ours.
struct Library {
  Library() { git_libgit2_init(); }
  ~Library() { git_libgit2_shutdown(); }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
};

struct RepoFree {
  void operator()(git_repository* r) const { git_repository_free(r); }
};
struct ConfigFree {
  void operator()(git_config* c) const { git_config_free(c); }
};
struct StatusFree {
  void operator()(git_status_list* s) const { git_status_list_free(s); }
};

Error libgit2_error(const std::string& what) {
  const ::git_error* e = git_error_last();
  return Error(what + (e != nullptr && e->message != nullptr ? std::string(": ") + e->message
                                                             : std::string()));
}

// The configured URL of "origin", read from a config snapshot. Not git_remote_lookup: it also
// applies url.*.insteadOf through libgit2's PCRE2 regex path, which leaks with Debian 12's
// libgit2 1.5.1 / PCRE2 10.42 (LeakSanitizer), and the recorded URL should be the configured one.
std::string remote_url(git_repository* repo) {
  git_config* raw = nullptr;
  if (git_repository_config_snapshot(&raw, repo) != 0) return {};
  const std::unique_ptr<git_config, ConfigFree> config(raw);
  const char* url = nullptr;
  if (git_config_get_string(&url, config.get(), "remote.origin.url") != 0 || url == nullptr)
    return {};
  return url;
}

Expected<std::vector<std::string>> dirty_paths(git_repository* repo) {
  // The function, not GIT_STATUS_OPTIONS_INIT: clang flags the macro's partial initialiser.
  git_status_options options{};
  if (git_status_options_init(&options, GIT_STATUS_OPTIONS_VERSION) != 0)
    return libgit2_error("git status options");
  options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
                  GIT_STATUS_OPT_RENAMES_HEAD_TO_INDEX | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
  git_status_list* raw = nullptr;
  if (git_status_list_new(&raw, repo, &options) != 0) return libgit2_error("git status");
  const std::unique_ptr<git_status_list, StatusFree> list(raw);
  std::vector<std::string> paths;
  const std::size_t n = git_status_list_entrycount(list.get());
  for (std::size_t i = 0; i < n; ++i) {
    const git_status_entry* e = git_status_byindex(list.get(), i);
    if (e == nullptr || e->status == GIT_STATUS_CURRENT || (e->status & GIT_STATUS_IGNORED) != 0)
      continue;
    const git_diff_delta* d =
        e->index_to_workdir != nullptr ? e->index_to_workdir : e->head_to_index;
    if (d == nullptr) continue;
    const char* p = d->new_file.path != nullptr ? d->new_file.path : d->old_file.path;
    if (p != nullptr) paths.emplace_back(p);
  }
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  return paths;
}

}  // namespace

Expected<GitState> read_git_state(const fs::path& path) {
  const Library library;
  git_repository* raw = nullptr;
  if (git_repository_open_ext(&raw, path.c_str(), 0, nullptr) != 0)
    return libgit2_error(path.string() + ": not inside a git repository");
  const std::unique_ptr<git_repository, RepoFree> repo(raw);
  if (git_repository_is_bare(repo.get()) != 0)
    return Error(path.string() + ": a bare repository has no working tree to attest");
  GitState state;
  state.workdir = fs::path(git_repository_workdir(repo.get())).lexically_normal();
  if (state.workdir.has_filename() == false && state.workdir.has_parent_path())
    state.workdir = state.workdir.parent_path();
  git_oid head{};
  if (git_reference_name_to_id(&head, repo.get(), "HEAD") != 0)
    return libgit2_error(path.string() + ": HEAD does not name a commit (no commit yet?)");
  char hex[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(hex, sizeof hex, &head);
  state.commit = hex;
  state.remote_url = remote_url(repo.get());
  auto dirty = dirty_paths(repo.get());
  if (!dirty) return dirty.error();
  state.dirty_paths = std::move(*dirty);
  return state;
}

std::string code_uri(const GitState& state) {
  const std::string where =
      state.remote_url.empty() ? "file://" + state.workdir.generic_string() : state.remote_url;
  return "git+" + where + "@" + state.commit;
}

}  // namespace mlsc::provenance
