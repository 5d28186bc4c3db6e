#include "mlsc/bom/validate.hpp"

#include <algorithm>
#include <set>

#include "file_util.hpp"
#include "mlsc/bom/sources.hpp"
#include "text_util.hpp"
#include "toml_json.hpp"

#if MLSC_HAVE_BOM_SCHEMAS
namespace mlsc::embedded {
extern const std::string_view cyclonedx_bom_schema;
extern const std::string_view cyclonedx_spdx_schema;
extern const std::string_view cyclonedx_jsf_schema;
extern const std::string_view spdx3_schema;
}  // namespace mlsc::embedded
#endif

namespace mlsc::bom {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view kCdxBase = "http://cyclonedx.org/schema/";

struct SchemaText {
  std::string uri;
  std::string text;
};

Expected<SchemaSet> build_set(const std::vector<SchemaText>& texts) {
  SchemaSet set;
  for (const auto& t : texts) {
    auto doc = json::parse(t.text, nullptr, false);
    if (doc.is_discarded()) return Error(t.uri + ": schema is not valid JSON");
    if (auto r = set.add(std::move(doc), t.uri); !r) return r.error();
  }
  return set;
}

void add_violation(BomValidation& v, std::string path, std::string message) {
  v.violations.push_back({std::move(path), "", std::move(message)});
}

// CycloneDX: bom-refs are unique in the whole BOM, and every dependency ref names one.
void check_cyclonedx_refs(const json& doc, BomValidation& v) {
  std::set<std::string> refs;
  // Walk the whole document: bom-refs appear on components, services, vulnerabilities...
  std::vector<std::pair<const json*, std::string>> work{{&doc, ""}};
  while (!work.empty()) {
    auto [node, path] = work.back();
    work.pop_back();
    if (node->is_object()) {
      if (const auto it = node->find("bom-ref"); it != node->end() && it->is_string()) {
        if (!refs.insert(it->get<std::string>()).second)
          add_violation(
              v, path + "/bom-ref",
              "bom-ref '" + detail::bounded(it->get<std::string>(), 120) + "' is not unique");
      }
      for (const auto& [k, child] : node->items()) {
        if (k == "dependencies" && path.empty()) continue;  // checked below
        if (child.is_structured()) work.push_back({&child, path + "/" + k});
      }
    } else if (node->is_array()) {
      for (std::size_t i = 0; i < node->size(); ++i)
        if ((*node)[i].is_structured())
          work.push_back({&(*node)[i], path + "/" + std::to_string(i)});
    }
  }
  const auto deps = doc.find("dependencies");
  if (deps == doc.end() || !deps->is_array()) return;
  for (std::size_t i = 0; i < deps->size(); ++i) {
    const auto& d = (*deps)[i];
    const auto base = "/dependencies/" + std::to_string(i);
    if (const auto r = d.find("ref");
        r != d.end() && r->is_string() && refs.count(r->get<std::string>()) == 0)
      add_violation(
          v, base + "/ref",
          "ref '" + detail::bounded(r->get<std::string>(), 120) + "' names no bom-ref in this BOM");
    for (const char* key : {"dependsOn", "provides"}) {
      const auto list = d.find(key);
      if (list == d.end() || !list->is_array()) continue;
      for (std::size_t j = 0; j < list->size(); ++j) {
        const auto& t = (*list)[j];
        if (t.is_string() && refs.count(t.get<std::string>()) == 0)
          add_violation(
              v, base + "/" + key + "/" + std::to_string(j),
              "'" + detail::bounded(t.get<std::string>(), 120) + "' names no bom-ref in this BOM");
      }
    }
  }
}

// SPDX 3: every spdxId (and CreationInfo @id) appears once in the graph.
void check_spdx_ids(const json& doc, BomValidation& v) {
  const auto graph = doc.find("@graph");
  if (graph == doc.end() || !graph->is_array()) return;
  std::set<std::string> ids;
  for (std::size_t i = 0; i < graph->size(); ++i) {
    const auto& e = (*graph)[i];
    for (const char* key : {"spdxId", "@id"}) {
      const auto it = e.find(key);
      if (it == e.end() || !it->is_string()) continue;
      if (!ids.insert(it->get<std::string>()).second)
        add_violation(
            v, "/@graph/" + std::to_string(i) + "/" + key,
            "'" + detail::bounded(it->get<std::string>(), 120) + "' is defined more than once");
    }
  }
}

}  // namespace

bool have_embedded_bom_schemas() {
  return MLSC_HAVE_BOM_SCHEMAS != 0;
}

Expected<SchemaSet> load_bom_schemas(const fs::path& dir) {
  std::vector<SchemaText> texts;
  if (dir.empty()) {
#if MLSC_HAVE_BOM_SCHEMAS
    texts = {
        {std::string(kCdxBase) + "spdx.schema.json", std::string(embedded::cyclonedx_spdx_schema)},
        {std::string(kCdxBase) + "jsf-0.82.schema.json",
         std::string(embedded::cyclonedx_jsf_schema)},
        {std::string(kCycloneDxSchemaUri), std::string(embedded::cyclonedx_bom_schema)},
        {std::string(kSpdx3SchemaUri), std::string(embedded::spdx3_schema)}};
#else
    return Error(
        "this build carries no BOM schemas: pass --schemas DIR (a folder with cyclonedx/ and "
        "spdx3/)");
#endif
  } else {
    const std::vector<std::pair<std::string, fs::path>> files = {
        {std::string(kCdxBase) + "spdx.schema.json", dir / "cyclonedx" / "spdx.schema.json"},
        {std::string(kCdxBase) + "jsf-0.82.schema.json",
         dir / "cyclonedx" / "jsf-0.82.schema.json"},
        {std::string(kCycloneDxSchemaUri), dir / "cyclonedx" / "bom-1.6.schema.json"},
        {std::string(kSpdx3SchemaUri), dir / "spdx3" / "spdx-3.0.1-schema.json"}};
    for (const auto& [uri, file] : files) {
      auto text = detail::read_text_file(file, 16U << 20);
      if (!text) return text.error();
      texts.push_back({uri, std::move(*text)});
    }
  }
  return build_set(texts);
}

Expected<BomValidation> validate_bom(std::string_view text, const SchemaSet& schemas) {
  BomValidation v;
  auto doc = detail::parse_json_bounded(text);
  if (!doc) {
    add_violation(v, "", "not JSON: " + doc.error().describe());
    return v;
  }
  std::string uri;
  if (doc->is_object() && detail::json_string(*doc, "bomFormat") == "CycloneDX") {
    v.kind = BomKind::cyclonedx;
    const auto version = detail::json_string(*doc, "specVersion");
    v.spec = "CycloneDX " + version;
    if (version != "1.6") {
      add_violation(
          v, "/specVersion",
          "only CycloneDX 1.6 is validated; this BOM says " + detail::bounded(version, 20));
      return v;
    }
    uri = kCycloneDxSchemaUri;
  } else if (doc->is_object() && doc->contains("@context")) {
    v.kind = BomKind::spdx3;
    v.spec = "SPDX 3.0.1";
    uri = kSpdx3SchemaUri;
  } else {
    add_violation(v, "", "neither CycloneDX (bomFormat) nor SPDX 3 JSON-LD (@context)");
    return v;
  }
  auto violations = schemas.validate(*doc, uri);
  if (!violations) return violations.error();
  v.violations = std::move(*violations);
  if (v.kind == BomKind::cyclonedx) {
    check_cyclonedx_refs(*doc, v);
  } else {
    check_spdx_ids(*doc, v);
  }
  return v;
}

}  // namespace mlsc::bom
