// Model enumeration, matching the reference signer: every regular file below the root, hidden
// ones included; ignore paths matched as whole leading path components from the root; a
// symbolic link is an error unless links are allowed, in which case its target is hashed under
// the link's own name.
#include "sign/model_walk.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "mlsc/core/text.hpp"

namespace mlsc::sign::detail {

namespace fs = std::filesystem;

namespace {

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

FileStamp stamp_of(const struct stat& st) {
  constexpr std::int64_t kNs = 1'000'000'000;
  FileStamp s;
  s.size = static_cast<std::uint64_t>(st.st_size);
  s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * kNs + st.st_mtim.tv_nsec;
  s.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * kNs + st.st_ctim.tv_nsec;
  s.dev = static_cast<std::uint64_t>(st.st_dev);
  s.ino = static_cast<std::uint64_t>(st.st_ino);
  return s;
}

// The directory part resolved (symlinks, "..") but not the last component, so that a path
// which is itself a link is still recognised by its own name.
fs::path resolved_parent(const fs::path& p) {
  std::error_code ec;
  const fs::path abs = fs::absolute(p, ec);
  const fs::path parent = fs::weakly_canonical(abs.parent_path(), ec);
  return parent / abs.filename();
}

// `p`, relative to the model root, when it lies inside it.
std::optional<std::string> relative_inside(const fs::path& root, const fs::path& p) {
  std::error_code ec;
  const fs::path croot = fs::weakly_canonical(fs::absolute(root, ec), ec);
  const fs::path rel = resolved_parent(p).lexically_relative(croot);
  return canonical_relative_path(rel.generic_string());
}

std::vector<std::string> ignore_list(const fs::path& root, const HashOptions& o) {
  std::vector<std::string> out;
  if (o.ignore_git_paths) out.insert(out.end(), std::begin(kGitPaths), std::end(kGitPaths));
  for (const auto& p : o.ignore_paths) {
    const auto rel =
        fs::path(p).is_absolute() ? relative_inside(root, p) : canonical_relative_path(p);
    if (rel) out.push_back(*rel);
  }
  if (o.signature) {
    if (auto rel = relative_inside(root, *o.signature)) out.push_back(*rel);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool is_under(std::string_view rel, std::string_view prefix) {
  return rel == prefix ||
         (rel.size() > prefix.size() && rel.starts_with(prefix) && rel[prefix.size()] == '/');
}

class Walker {
 public:
  Walker(const fs::path& root, const HashOptions& o, std::vector<std::string> ignores)
      : options_(o), ignores_(std::move(ignores)) {
    std::error_code ec;
    canonical_root_ = fs::weakly_canonical(fs::absolute(root, ec), ec);
  }

  Expected<void> walk_dir(const fs::path& dir, const std::string& rel);
  ModelTree& tree() { return tree_; }

 private:
  struct DirId {
    dev_t dev;
    ino_t ino;
  };

  Expected<void> visit(const fs::path& path, const std::string& rel);
  Expected<struct stat> follow_link(const fs::path& path, const std::string& rel);

  const HashOptions& options_;
  std::vector<std::string> ignores_;
  fs::path canonical_root_;
  std::vector<DirId> ancestors_;  // directories on the current path, to refuse link cycles
  ModelTree tree_;
};

Expected<void> Walker::walk_dir(const fs::path& dir, const std::string& rel) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return Error{errno_text(dir.string())};
  ancestors_.push_back({st.st_dev, st.st_ino});
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    auto ok = visit(it->path(), rel.empty() ? name : rel + "/" + name);
    if (!ok) return ok;
  }
  if (ec) return Error{dir.string() + ": " + ec.message()};
  ancestors_.pop_back();
  return {};
}

Expected<struct stat> Walker::follow_link(const fs::path& path, const std::string& rel) {
  if (!options_.allow_symlinks) {
    return Error{rel + ": is a symbolic link; links are refused unless allowed (allow_symlinks)"};
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error{errno_text(rel + ": broken symbolic link")};
  std::error_code ec;
  const fs::path target = fs::weakly_canonical(path, ec);
  const fs::path back = target.lexically_relative(canonical_root_);
  if (ec || back.empty() || *back.begin() == "..") {
    tree_.warnings.push_back(rel + ": symbolic link points outside the model (" + target.string() +
                             ")");
  }
  return st;
}

Expected<void> Walker::visit(const fs::path& path, const std::string& rel) {
  for (const auto& ig : ignores_) {
    if (is_under(rel, ig)) return {};
  }
  if (!is_valid_utf8(rel)) return Error{path.string() + ": file name is not valid UTF-8"};
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return Error{errno_text(rel)};
  if (S_ISLNK(st.st_mode)) {
    auto followed = follow_link(path, rel);
    if (!followed) return followed.error();
    st = *followed;
  }
  if (S_ISREG(st.st_mode)) {
    tree_.files.push_back({rel, path, static_cast<std::uint64_t>(st.st_size), stamp_of(st)});
    return {};
  }
  if (!S_ISDIR(st.st_mode)) return Error{rel + ": neither a regular file nor a directory"};
  for (const auto& a : ancestors_) {
    if (a.dev == st.st_dev && a.ino == st.st_ino) return Error{rel + ": symbolic link loop"};
  }
  return walk_dir(path, rel);
}

}  // namespace

Expected<ModelTree> walk_model(const fs::path& root, const HashOptions& options) {
  struct stat st {};
  if (::lstat(root.c_str(), &st) != 0) return Error{errno_text(root.string())};
  if (S_ISLNK(st.st_mode) && !options.allow_symlinks) {
    return Error{root.string() +
                 ": the model path is a symbolic link; links are refused unless allowed"};
  }
  if (::stat(root.c_str(), &st) != 0) return Error{errno_text(root.string())};
  std::vector<std::string> ignores = ignore_list(root, options);
  Walker w(root, options, ignores);
  if (S_ISREG(st.st_mode)) {
    w.tree().files.push_back({".", root, static_cast<std::uint64_t>(st.st_size), stamp_of(st)});
  } else if (S_ISDIR(st.st_mode)) {
    auto ok = w.walk_dir(root, "");
    if (!ok) return ok.error();
  } else {
    return Error{root.string() + ": neither a regular file nor a directory"};
  }
  ModelTree tree = std::move(w.tree());
  tree.recorded_ignores = std::move(ignores);
  return tree;
}

}  // namespace mlsc::sign::detail
