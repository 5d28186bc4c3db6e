// conda environments: conda-meta/<name>-<version>-<build>.json, one per installed package.
#include "mlsc/bom/sources.hpp"
#include "text_util.hpp"
#include "toml_json.hpp"

namespace mlsc::bom {

namespace {

// "https://conda.anaconda.org/conda-forge/linux-64" -> "conda-forge";
// "https://repo.anaconda.com/pkgs/main/linux-64" -> "main"; "conda-forge" stays.
std::string channel_name(std::string channel, const std::string& subdir) {
  while (!channel.empty() && channel.back() == '/') channel.pop_back();
  if (!subdir.empty() && channel.size() > subdir.size() &&
      channel.compare(channel.size() - subdir.size(), subdir.size(), subdir) == 0) {
    channel.resize(channel.size() - subdir.size());
    while (!channel.empty() && channel.back() == '/') channel.pop_back();
  }
  const auto slash = channel.rfind('/');
  return slash == std::string::npos ? channel : channel.substr(slash + 1);
}

}  // namespace

Expected<Package> parse_conda_meta(std::string_view text, const std::string& source) {
  auto doc = detail::parse_json_bounded(text);
  if (!doc) return doc.error();
  if (!doc->is_object()) return Error::at(0, "conda-meta: top level is not an object");
  Package p;
  p.ecosystem = "conda";
  p.source = source;
  p.name = detail::json_string(*doc, "name");
  p.version = detail::json_string(*doc, "version");
  if (p.name.empty() || p.version.empty()) return Error::at(0, "conda-meta: no name or version");
  p.build = detail::json_string(*doc, "build");
  p.subdir = detail::json_string(*doc, "subdir");
  p.channel = channel_name(detail::json_string(*doc, "channel"), p.subdir);
  p.license = detail::bounded(detail::json_string(*doc, "license"), 200);
  for (const char* alg : {"sha256", "md5"}) {
    if (auto h = parse_prefixed_hash(std::string(alg) + ":" + detail::json_string(*doc, alg)))
      p.hashes.push_back(*h);
  }
  if (doc->contains("depends") && (*doc)["depends"].is_array()) {
    for (const auto& d : (*doc)["depends"]) {
      if (!d.is_string()) continue;
      const auto spec = d.get<std::string>();
      p.requires_names.push_back(spec.substr(0, spec.find(' ')));
    }
  }
  return p;
}

}  // namespace mlsc::bom
