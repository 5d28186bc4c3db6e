// uv.lock: [[package]] with name, version, source (registry, git, url, path, editable,
// virtual), sdist/wheels with hashes, and dependencies by name.
#include "mlsc/bom/sources.hpp"
#include "mlsc/core/text.hpp"
#include "text_util.hpp"
#include "toml_json.hpp"

namespace mlsc::bom {

namespace {

using nlohmann::json;

void add_hash(const json& artifact, Package& p) {
  if (auto h = parse_prefixed_hash(detail::json_string(artifact, "hash"))) {
    if (std::find(p.hashes.begin(), p.hashes.end(), *h) == p.hashes.end()) p.hashes.push_back(*h);
  }
}

// source = { git = "https://host/repo?rev=v1#<commit>" }: the commit after '#'.
void read_source(const json& src, Package& p) {
  if (!src.is_object()) return;
  if (auto git = detail::json_string(src, "git"); !git.empty()) {
    const auto hash = git.find('#');
    if (hash != std::string::npos) p.vcs_commit = ascii_lower(git.substr(hash + 1));
    p.url = "git+" + git.substr(0, hash);
    return;
  }
  for (const char* key : {"url", "path", "directory", "editable", "virtual"}) {
    if (auto v = detail::json_string(src, key); !v.empty()) {
      p.url = v;
      return;
    }
  }
}

}  // namespace

Expected<std::vector<Package>> parse_uv_lock(std::string_view text, const std::string& source) {
  auto doc = detail::parse_toml_as_json(text);
  if (!doc) return doc.error();
  if (!doc->contains("package") || !(*doc)["package"].is_array())
    return Error("uv.lock: no [[package]] entries");
  std::vector<Package> out;
  for (const auto& pkg : (*doc)["package"]) {
    Package p;
    p.name = detail::json_string(pkg, "name");
    if (p.name.empty()) continue;
    p.version = detail::json_string(pkg, "version");
    p.source = source;
    if (pkg.contains("source")) read_source(pkg["source"], p);
    if (pkg.contains("sdist")) add_hash(pkg["sdist"], p);
    if (pkg.contains("wheels") && pkg["wheels"].is_array()) {
      for (const auto& w : pkg["wheels"]) add_hash(w, p);
    }
    if (pkg.contains("dependencies") && pkg["dependencies"].is_array()) {
      for (const auto& d : pkg["dependencies"]) {
        if (auto name = detail::json_string(d, "name"); !name.empty())
          p.requires_names.push_back(name);
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace mlsc::bom
