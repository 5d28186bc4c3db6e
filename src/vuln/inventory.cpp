// Reading the package list that `mlsc deps audit` checks. See inventory.hpp.
#include "mlsc/vuln/inventory.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "mlsc/vuln/package_name.hpp"
#include "mlsc/vuln/requirements.hpp"

namespace mlsc::vuln {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::size_t kMaxComponents = 1000000;
constexpr std::size_t kMaxBomDepth = 32;
constexpr std::size_t kMetadataBytes = 256U << 10;

std::string pypi_purl(const std::string& name, const std::string& version) {
  std::string purl = "pkg:pypi/" + normalize_name(name);
  if (!version.empty()) purl += "@" + version;
  return purl;
}

std::string json_string(const json& obj, const char* key) {
  if (!obj.is_object()) return {};
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

// A component/package given by purl (and maybe a separate version field).
void add_from_purl(Inventory& inv, const std::string& purl_text, const std::string& version_field,
                   const std::string& location) {
  const auto purl = parse_purl(purl_text);
  if (!purl) {
    inv.warnings.push_back(location + ": malformed purl '" + purl_text.substr(0, 200) + "'");
    return;
  }
  if (purl->type != "pypi") return;  // other ecosystems are not audited here
  InventoryPackage p;
  p.name = purl->name;
  p.version = purl->version.empty() ? version_field : purl->version;
  p.purl = pypi_purl(p.name, p.version);
  p.location = location;
  inv.packages.push_back(std::move(p));
}

void cyclonedx_components(const json& list, Inventory& inv, std::size_t depth) {
  if (!list.is_array() || depth > kMaxBomDepth) return;
  for (const auto& c : list) {
    if (inv.packages.size() >= kMaxComponents) return;
    const std::string purl = json_string(c, "purl");
    std::string ref = json_string(c, "bom-ref");
    if (ref.empty()) ref = json_string(c, "name");
    if (!purl.empty()) add_from_purl(inv, purl, json_string(c, "version"), "component " + ref);
    if (c.is_object() && c.contains("components")) {
      cyclonedx_components(c["components"], inv, depth + 1);
    }
  }
}

void spdx2_packages(const json& doc, Inventory& inv) {
  const auto it = doc.find("packages");
  if (it == doc.end() || !it->is_array()) return;
  for (const auto& p : *it) {
    const auto refs = p.is_object() ? p.find("externalRefs") : p.end();
    if (!p.is_object() || refs == p.end() || !refs->is_array()) continue;
    for (const auto& r : *refs) {
      if (json_string(r, "referenceType") != "purl") continue;
      add_from_purl(inv, json_string(r, "referenceLocator"), json_string(p, "versionInfo"),
                    "package " + json_string(p, "SPDXID"));
    }
  }
}

void spdx3_elements(const json& doc, Inventory& inv) {
  const auto it = doc.find("@graph");
  if (it == doc.end() || !it->is_array()) return;
  for (const auto& e : *it) {
    if (json_string(e, "type") != "software_Package") continue;
    std::string purl = json_string(e, "software_packageUrl");
    const auto ids = e.find("externalIdentifier");
    if (purl.empty() && ids != e.end() && ids->is_array()) {
      for (const auto& id : *ids) {
        if (json_string(id, "externalIdentifierType") == "packageUrl") {
          purl = json_string(id, "identifier");
        }
      }
    }
    if (!purl.empty()) {
      add_from_purl(inv, purl, json_string(e, "software_packageVersion"),
                    "element " + json_string(e, "spdxId"));
    }
  }
}

Expected<std::string> read_text(const fs::path& path, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(path.string() + ": cannot open");
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  // One byte more than the limit tells the caller the file was cut.
  std::string text(ec ? limit + 1 : std::min<std::uintmax_t>(size, limit + 1), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

bool has_suffix(const std::string& s, std::string_view suffix) {
  return s.size() > suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void add_metadata(Inventory& inv, const fs::path& metadata, const std::string& location,
                  std::set<std::pair<std::string, std::string>>& seen) {
  auto text = read_text(metadata, kMetadataBytes);
  if (!text) {
    inv.warnings.push_back(location + ": unreadable metadata");
    return;
  }
  const CoreMetadata meta = parse_core_metadata(*text);
  if (meta.name.empty() || meta.version.empty()) {
    inv.warnings.push_back(location + ": metadata without Name and Version");
    return;
  }
  if (!seen.emplace(normalize_name(meta.name), meta.version).second) return;
  inv.packages.push_back(
      {meta.name, meta.version, pypi_purl(meta.name, meta.version), location, "", {}});
}

void walk_environment(const fs::path& root, Inventory& inv, const InventoryOptions& options) {
  std::set<std::pair<std::string, std::string>> seen;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  for (const fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const bool dir = it->is_directory(ec);
    if (has_suffix(name, ".dist-info") || has_suffix(name, ".egg-info")) {
      const fs::path meta = !dir                             ? it->path()
                            : has_suffix(name, ".dist-info") ? it->path() / "METADATA"
                                                             : it->path() / "PKG-INFO";
      if (fs::is_regular_file(meta, ec)) {
        add_metadata(inv, meta, fs::relative(it->path(), root, ec).string(), seen);
      }
      if (dir) it.disable_recursion_pending();
      continue;
    }
    if (dir && (static_cast<std::size_t>(it.depth()) + 1 >= options.max_depth ||
                name == "__pycache__" || name == "node_modules" || name == ".git")) {
      it.disable_recursion_pending();
    }
  }
  std::sort(inv.packages.begin(), inv.packages.end(),
            [](const InventoryPackage& a, const InventoryPackage& b) {
              return normalize_name(a.name) < normalize_name(b.name);
            });
}

bool starts_like_json(std::string_view text) {
  const std::size_t i = text.find_first_not_of(" \t\r\n");
  return i != std::string_view::npos && text[i] == '{';
}

}  // namespace

CoreMetadata parse_core_metadata(std::string_view text) {
  CoreMetadata meta;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // the header block ends at the first blank line
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || line.front() == ' ' || line.front() == '\t') continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    const std::string_view key = line.substr(0, colon);
    if (key == "Name" && meta.name.empty()) meta.name = std::string(value.substr(0, 256));
    if (key == "Version" && meta.version.empty()) meta.version = std::string(value.substr(0, 256));
  }
  return meta;
}

Inventory inventory_from_bom_json(std::string_view text, const std::string& path) {
  Inventory inv;
  inv.path = path;
  json doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    inv.kind = "unknown";
    inv.warnings.push_back(path + ": not a JSON object");
    return inv;
  }
  if (json_string(doc, "bomFormat") == "CycloneDX") {
    inv.kind = "cyclonedx";
    if (doc.contains("metadata") && doc["metadata"].is_object() &&
        doc["metadata"].contains("component")) {
      cyclonedx_components(json::array({doc["metadata"]["component"]}), inv, 0);
    }
    if (doc.contains("components")) cyclonedx_components(doc["components"], inv, 0);
  } else if (doc.contains("spdxVersion")) {
    inv.kind = "spdx";
    spdx2_packages(doc, inv);
  } else if (doc.contains("@graph")) {
    inv.kind = "spdx";
    spdx3_elements(doc, inv);
  } else {
    inv.kind = "unknown";
    inv.warnings.push_back(path + ": JSON but neither a CycloneDX nor an SPDX document");
  }
  return inv;
}

Inventory inventory_from_requirements(std::string_view text, const std::string& path) {
  Inventory inv;
  inv.path = path;
  inv.kind = "requirements";
  const RequirementsFile file = parse_requirements(text);
  for (const auto& problem : file.problems) {
    inv.warnings.push_back(path + ":" + std::to_string(problem.line) + ": " + problem.message);
  }
  for (const auto& req : file.requirements) {
    const std::string location = path + ":" + std::to_string(req.line);
    if (req.name.empty()) {
      inv.warnings.push_back(location + ": requirement without a package name (" +
                             req.url.substr(0, 200) + "), not audited");
      continue;
    }
    InventoryPackage p;
    p.name = req.name;
    p.version = req.pinned_version().value_or("");
    p.purl = pypi_purl(req.name, p.version);
    p.location = location;
    if (p.version.empty()) p.specifier = req.url.empty() ? req.specifier.str() : "@ " + req.url;
    p.hashes = req.hashes;
    inv.packages.push_back(std::move(p));
  }
  return inv;
}

Expected<Inventory> read_inventory(const std::string& path, const InventoryOptions& options) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return Error(path + ": no such file or folder");
  if (fs::is_directory(status)) {
    Inventory inv;
    inv.path = path;
    inv.kind = "environment";
    walk_environment(path, inv, options);
    return inv;
  }
  auto text = read_text(path, options.max_file_bytes);
  if (!text) return text.error();
  if (text->size() > options.max_file_bytes) {
    return Error(path + ": larger than " + std::to_string(options.max_file_bytes) + " bytes");
  }
  if (starts_like_json(*text)) return inventory_from_bom_json(*text, path);
  return inventory_from_requirements(*text, path);
}

}  // namespace mlsc::vuln
