// Pipfile.lock (pipenv): JSON with "default" and "develop" sections mapping names to
// {"version": "==X", "hashes": [...], "markers": ..., "git"/"ref", "extras"}.
#include "mlsc/bom/sources.hpp"
#include "mlsc/core/text.hpp"
#include "text_util.hpp"
#include "toml_json.hpp"

namespace mlsc::bom {

namespace {

using nlohmann::json;

Package read_entry(const std::string& name, const json& entry, PackageScope scope,
                   const std::string& source) {
  Package p;
  p.name = name;
  p.scope = scope;
  p.source = source;
  const auto version = detail::json_string(entry, "version");
  p.version = pinned_version(version);
  if (p.version.empty() && version != "*") p.specifier = version;
  p.marker = detail::json_string(entry, "markers");
  if (entry.contains("hashes") && entry["hashes"].is_array()) {
    for (const auto& h : entry["hashes"]) {
      if (!h.is_string()) continue;
      if (auto parsed = parse_prefixed_hash(h.get<std::string>())) p.hashes.push_back(*parsed);
    }
  }
  if (entry.contains("extras") && entry["extras"].is_array()) {
    for (const auto& e : entry["extras"])
      if (e.is_string()) p.extras.push_back(e.get<std::string>());
  }
  if (auto git = detail::json_string(entry, "git"); !git.empty()) {
    p.url = git.rfind("git+", 0) == 0 ? git : "git+" + git;
    p.vcs_commit = ascii_lower(detail::json_string(entry, "ref"));
  } else if (auto file = detail::json_string(entry, "file"); !file.empty()) {
    p.url = file;
  } else if (auto path = detail::json_string(entry, "path"); !path.empty()) {
    p.url = path;
  }
  return p;
}

}  // namespace

Expected<std::vector<Package>> parse_pipfile_lock(std::string_view text,
                                                  const std::string& source) {
  auto doc = detail::parse_json_bounded(text);
  if (!doc) return doc.error();
  if (!doc->is_object()) return Error::at(0, "Pipfile.lock: top level is not an object");
  if (!doc->contains("default") && !doc->contains("develop"))
    return Error::at(0, "Pipfile.lock: neither \"default\" nor \"develop\" section");
  std::vector<Package> out;
  for (const auto& [section, scope] :
       {std::pair{"default", PackageScope::required}, std::pair{"develop", PackageScope::dev}}) {
    if (!doc->contains(section) || !(*doc)[section].is_object()) continue;
    for (const auto& [name, entry] : (*doc)[section].items()) {
      if (!entry.is_object()) continue;
      out.push_back(read_entry(name, entry, scope, source));
    }
  }
  return out;
}

}  // namespace mlsc::bom
