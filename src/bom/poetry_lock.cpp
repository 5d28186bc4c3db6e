// poetry.lock (lock formats 1.1 and 2.x): [[package]] entries with version, files and their
// hashes, optional git/url sources; format 1.1 keeps the hashes in [metadata.files].
#include "mlsc/bom/sources.hpp"
#include "mlsc/core/text.hpp"
#include "text_util.hpp"
#include "toml_json.hpp"

namespace mlsc::bom {

namespace {

using nlohmann::json;

void add_file_hashes(const json& files, Package& p) {
  if (!files.is_array()) return;
  for (const auto& f : files) {
    if (auto h = parse_prefixed_hash(detail::json_string(f, "hash"))) {
      if (std::find(p.hashes.begin(), p.hashes.end(), *h) == p.hashes.end()) p.hashes.push_back(*h);
    }
  }
}

PackageScope poetry_scope(const json& pkg) {
  if (pkg.contains("optional") && pkg["optional"].is_boolean() && pkg["optional"].get<bool>())
    return PackageScope::optional;
  if (detail::json_string(pkg, "category") == "dev") return PackageScope::dev;
  if (pkg.contains("groups") && pkg["groups"].is_array()) {
    for (const auto& g : pkg["groups"])
      if (g.is_string() && g.get<std::string>() == "main") return PackageScope::required;
    return PackageScope::dev;
  }
  return PackageScope::required;
}

}  // namespace

Expected<std::vector<Package>> parse_poetry_lock(std::string_view text, const std::string& source) {
  auto doc = detail::parse_toml_as_json(text);
  if (!doc) return doc.error();
  if (!doc->contains("package") || !(*doc)["package"].is_array())
    return Error("poetry.lock: no [[package]] entries");
  const json* legacy_files = nullptr;
  if (doc->contains("metadata") && (*doc)["metadata"].is_object() &&
      (*doc)["metadata"].contains("files"))
    legacy_files = &(*doc)["metadata"]["files"];
  std::vector<Package> out;
  for (const auto& pkg : (*doc)["package"]) {
    Package p;
    p.name = detail::json_string(pkg, "name");
    p.version = detail::json_string(pkg, "version");
    if (p.name.empty()) continue;
    p.summary = detail::json_string(pkg, "description");
    p.scope = poetry_scope(pkg);
    p.source = source;
    if (pkg.contains("files")) add_file_hashes(pkg["files"], p);
    if (legacy_files != nullptr && legacy_files->is_object() && legacy_files->contains(p.name))
      add_file_hashes((*legacy_files)[p.name], p);
    if (pkg.contains("source") && pkg["source"].is_object()) {
      const auto& src = pkg["source"];
      const auto type = detail::json_string(src, "type");
      const auto url = detail::json_string(src, "url");
      // "legacy" sources are package indexes, not the package's own location.
      if (!url.empty() && type != "legacy") {
        p.url = (type == "git" ? "git+" : "") + url;
        p.vcs_commit = ascii_lower(detail::json_string(src, "resolved_reference"));
      }
    }
    if (pkg.contains("dependencies") && pkg["dependencies"].is_object()) {
      for (const auto& [dep, spec] : pkg["dependencies"].items()) {
        const bool optional_dep = spec.is_object() && spec.contains("optional") &&
                                  spec["optional"].is_boolean() && spec["optional"].get<bool>();
        if (!optional_dep) p.requires_names.push_back(dep);
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace mlsc::bom
