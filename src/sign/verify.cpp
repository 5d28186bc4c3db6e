#include "mlsc/sign/verify.hpp"

#include <algorithm>
#include <unordered_map>

namespace mlsc::sign {

ManifestDiff compare_manifests(const Manifest& expected, const Manifest& actual, bool allow_extra) {
  std::unordered_map<std::string_view, const Resource*> on_disk;
  on_disk.reserve(actual.resources.size());
  for (const auto& r : actual.resources) on_disk.emplace(r.name, &r);
  ManifestDiff d;
  for (const auto& want : expected.resources) {
    const auto it = on_disk.find(want.name);
    if (it == on_disk.end()) {
      d.missing.push_back(want.name);
      continue;
    }
    if (it->second->digest != want.digest) d.changed.push_back({want.name, want.digest.hex(), it->second->digest.hex()});
    on_disk.erase(it);
  }
  if (!allow_extra) {
    // Report extras in the actual manifest's (canonical) order, not the hash map's.
    for (const auto& r : actual.resources) {
      if (on_disk.contains(r.name)) d.extra.push_back(r.name);
    }
  }
  return d;
}

HashOptions options_for(const Manifest& expected, const VerifyOptions& v) {
  HashOptions o;
  o.hash = expected.hash;
  o.method = expected.method;
  o.shard_size = expected.method == Method::shards ? expected.shard_size : kDefaultShardSize;
  o.allow_symlinks = expected.allow_symlinks;
  o.ignore_git_paths = v.ignore_git_paths;
  o.ignore_paths = expected.ignore_paths;
  o.ignore_paths.insert(o.ignore_paths.end(), v.ignore_paths.begin(), v.ignore_paths.end());
  o.signature = v.signature;
  o.allow_empty = true;  // an empty model against a non-empty manifest is a "missing" report
  o.blake3_shards_as_files = false;  // follow the statement exactly
  o.threads = v.threads;
  o.model_name = expected.model_name;
  return o;
}

Expected<ManifestDiff> verify_model(const std::filesystem::path& model, const Manifest& expected,
                                    const VerifyOptions& v) {
  auto actual = hash_model(model, options_for(expected, v));
  if (!actual) return actual.error();
  return compare_manifests(expected, *actual, v.allow_extra);
}

nlohmann::json to_json(const ManifestDiff& d) {
  nlohmann::json changed = nlohmann::json::array();
  for (const auto& c : d.changed) changed.push_back({{"name", c.name}, {"expected", c.expected}, {"actual", c.actual}});
  return {{"ok", d.ok()}, {"missing", d.missing}, {"extra", d.extra}, {"changed", std::move(changed)}};
}

}  // namespace mlsc::sign
