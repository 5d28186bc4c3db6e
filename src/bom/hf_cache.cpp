// The Hugging Face hub cache: <cache>/models--<org>--<name>/{refs/<ref>, snapshots/<commit>/
// (symlinks into ../../blobs/), blobs/}. Each snapshot is one model at one revision; links are
// followed only inside the repo folder, so a crafted cache cannot make us hash /etc/shadow.
#include <algorithm>

#include "file_util.hpp"
#include "mlsc/bom/collect.hpp"
#include "text_util.hpp"

namespace mlsc::bom {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "models--";
constexpr std::size_t kMaxSnapshots = 1000;

// "models--org--name" -> "org/name"; "models--name" -> "name".
std::string hub_id_from_dir(const std::string& dir_name) {
  auto rest = dir_name.substr(kPrefix.size());
  const auto sep = rest.find("--");
  if (sep != std::string::npos) rest.replace(sep, 2, "/");
  return rest;
}

bool is_commit_hash(std::string_view s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

bool is_hub_cache_repo(const fs::path& dir) {
  const auto name = dir.filename().string();
  std::error_code ec;
  return name.size() > kPrefix.size() && name.rfind(kPrefix, 0) == 0 &&
         fs::is_directory(dir / "snapshots", ec);
}

Expected<std::vector<Model>> read_hub_cache_repo(const fs::path& repo_dir,
                                                 const CollectOptions& options) {
  if (!is_hub_cache_repo(repo_dir))
    return Error(repo_dir.string() + ": not a hub cache repo (models--*/snapshots)");
  const auto hub_id = hub_id_from_dir(repo_dir.filename().string());
  std::vector<fs::path> snapshots;
  std::error_code ec;
  for (fs::directory_iterator it(repo_dir / "snapshots", ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) snapshots.push_back(it->path());
    if (snapshots.size() > kMaxSnapshots)
      return Error(repo_dir.string() + ": more than 1000 snapshots");
  }
  if (ec) return Error(repo_dir.string() + ": " + ec.message());
  std::sort(snapshots.begin(), snapshots.end());
  std::vector<Model> out;
  for (const auto& snap : snapshots) {
    auto model = read_model(snap, repo_dir, options);
    if (!model) return model.error();
    model->hub_id = hub_id;
    model->name = hub_id;
    const auto rev = snap.filename().string();
    if (is_commit_hash(rev)) {
      model->revision = rev;
    } else {
      model->notes.push_back("snapshot folder name is not a commit hash: " +
                             detail::bounded(rev, 80));
    }
    out.push_back(std::move(*model));
  }
  return out;
}

}  // namespace mlsc::bom
