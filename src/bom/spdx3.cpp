// SPDX 3.0.1 JSON-LD: ai_AIPackage per model (with its files), dataset_DatasetPackage per named
// dataset, software_Package per Python/conda package, runtime piece and project, and the
// Relationships between them: contains, ancestorOf (base model), trainedOn / testedOn,
// dependsOn, hasDeclaredLicense.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "bom_graph.hpp"
#include "bom_ids.hpp"
#include "license_ids.hpp"
#include "mlsc/bom/purl.hpp"
#include "mlsc/bom/writer.hpp"
#include "text_util.hpp"

namespace mlsc::bom {

namespace {

using nlohmann::ordered_json;

constexpr const char* kCreationInfo = "_:creationinfo";

std::string s(std::string_view text) {
  return detail::sanitize_utf8(text);
}

std::string spdx_hash_alg(std::string_view cyclonedx_alg) {
  if (cyclonedx_alg == "SHA-256") return "sha256";
  if (cyclonedx_alg == "SHA-384") return "sha384";
  if (cyclonedx_alg == "SHA-512") return "sha512";
  if (cyclonedx_alg == "SHA-1") return "sha1";
  if (cyclonedx_alg == "MD5") return "md5";
  if (cyclonedx_alg == "SHA3-256") return "sha3_256";
  if (cyclonedx_alg == "BLAKE2b-256") return "blake2b256";
  return "other";
}

ordered_json hash_entry(std::string_view alg, std::string_view hex) {
  return {{"type", "Hash"}, {"algorithm", spdx_hash_alg(alg)}, {"hashValue", std::string(hex)}};
}

class SpdxWriter {
 public:
  SpdxWriter(const Inventory& inv, std::string ns)
      : inv_(inv), g_(detail::build_graph(inv)), ns_(std::move(ns)) {}

  ordered_json graph(const std::string& created, const std::string& tool_version) {
    add_creation(created, tool_version);
    for (std::size_t i = 0; i < inv_.models.size(); ++i) add_model(i);
    for (const auto& b : g_.base_models)
      if (!b.local) add_base_model(b);
    for (const auto& d : g_.datasets) add_dataset(d);
    for (std::size_t i = 0; i < inv_.projects.size(); ++i) add_project(i);
    for (std::size_t i = 0; i < inv_.packages.size(); ++i) add_package(i);
    for (std::size_t i = 0; i < inv_.runtime.size(); ++i) add_runtime(i);
    add_relationships();
    add_document();
    return graph_;
  }

 private:
  const Inventory& inv_;
  detail::Graph g_;
  std::string ns_;
  ordered_json graph_ = ordered_json::array();
  std::vector<std::string> elements_;
  std::vector<std::string> roots_;
  std::size_t relationship_count_ = 0;
  std::size_t license_count_ = 0;
  std::map<std::string, std::string> license_ids_;  // expression -> element id

  // Element ids are IRIs under the document's namespace; refs are percent-encoded so any
  // name becomes a valid IRI.
  std::string id(std::string_view local) const { return ns_ + purl_encode(local); }

  ordered_json element(std::string_view type, const std::string& spdx_id, std::string_view name) {
    elements_.push_back(spdx_id);
    return {{"type", std::string(type)},
            {"spdxId", spdx_id},
            {"creationInfo", kCreationInfo},
            {"name", s(name)}};
  }

  void add_creation(const std::string& created, const std::string& tool_version) {
    graph_.push_back({{"type", "CreationInfo"},
                      {"@id", kCreationInfo},
                      {"specVersion", "3.0.1"},
                      {"created", created},
                      {"createdBy", ordered_json::array({id("agent/mlsc")})},
                      {"createdUsing", ordered_json::array({id("tool/mlsc")})}});
    graph_.push_back(element("SoftwareAgent", id("agent/mlsc"), "mlsc"));
    graph_.push_back(element("Tool", id("tool/mlsc"), "mlsc " + tool_version));
  }

  void relate(const std::string& from, std::string_view type, std::vector<std::string> to) {
    if (to.empty()) return;
    const auto rel_id = id("relationship/" + std::to_string(++relationship_count_));
    ordered_json r = {{"type", "Relationship"},
                      {"spdxId", rel_id},
                      {"creationInfo", kCreationInfo},
                      {"from", from},
                      {"relationshipType", std::string(type)}};
    r["to"] = to;
    elements_.push_back(rel_id);
    graph_.push_back(std::move(r));
  }

  // hasDeclaredLicense for SPDX ids and expressions; other license texts stay in the comment.
  std::string declare_license(const std::string& from, const std::string& text, bool expression) {
    std::string expr = expression ? text : detail::spdx_license_id(text);
    if (expr.empty()) return "license: " + text;
    auto [it, inserted] = license_ids_.emplace(expr, "");
    if (inserted) {
      it->second = id("license/" + std::to_string(++license_count_));
      ordered_json l = {{"type", "simplelicensing_LicenseExpression"},
                        {"spdxId", it->second},
                        {"creationInfo", kCreationInfo},
                        {"simplelicensing_licenseExpression", s(expr)}};
      elements_.push_back(it->second);
      graph_.push_back(std::move(l));
    }
    relate(from, "hasDeclaredLicense", {it->second});
    return {};
  }

  void add_model(std::size_t i) {
    const auto& m = inv_.models[i];
    const auto model_id = id(g_.model_refs[i]);
    auto e = element("ai_AIPackage", model_id, m.name);
    if (!m.revision.empty()) e["software_packageVersion"] = m.revision;
    if (const auto purl = huggingface_purl(m.hub_id, m.revision); !purl.empty()) {
      e["software_packageUrl"] = purl;
      e["software_downloadLocation"] = "https://huggingface.co/" + m.hub_id;
    }
    e["software_primaryPurpose"] = "model";
    if (m.files.size() == 1)
      e["verifiedUsing"] = ordered_json::array({hash_entry("SHA-256", m.files[0].sha256)});
    ordered_json types = ordered_json::array();
    if (!m.model_type.empty()) types.push_back(s(m.model_type));
    for (const auto& a : m.architectures) types.push_back(s(a));
    if (!types.empty()) e["ai_typeOfModel"] = std::move(types);
    if (!m.task.empty()) e["ai_domain"] = ordered_json::array({s(m.task)});
    ordered_json metrics = ordered_json::array();
    for (const auto& metric : m.card.metrics) {
      const auto key = metric.type + (metric.dataset.empty() ? "" : " (" + metric.dataset + ")");
      metrics.push_back({{"type", "DictionaryEntry"}, {"key", s(key)}, {"value", s(metric.value)}});
    }
    if (!metrics.empty()) e["ai_metric"] = std::move(metrics);
    if (!m.card.limitations.empty()) e["ai_limitation"] = s(m.card.limitations);
    if (!m.card.intended_uses.empty())
      e["ai_informationAboutApplication"] = s(m.card.intended_uses);
    std::string comment = model_comment(m);
    if (!m.card.license.empty()) {
      const bool other = m.card.license == "other" && !m.card.license_name.empty();
      if (auto rest =
              declare_license(model_id, other ? m.card.license_name : m.card.license, false);
          !rest.empty())
        comment += "; " + rest;
    }
    e["comment"] = s(comment);
    graph_.push_back(std::move(e));
    roots_.push_back(model_id);
    if (m.files.size() > 1) add_model_files(m, model_id, g_.model_refs[i]);
  }

  static std::string model_comment(const Model& m) {
    std::string c = "mlsc: model at " + m.location;
    if (!m.formats.empty()) {
      c += "; format";
      for (const auto& f : m.formats) c += " " + f;
    }
    if (m.parameters) c += "; " + std::to_string(*m.parameters) + " parameters";
    if (!m.dtypes.empty()) {
      c += "; dtypes";
      for (const auto& d : m.dtypes) c += " " + d;
    }
    if (m.files.size() > 1) c += "; file manifest sha256 " + detail::model_manifest_sha256(m);
    for (const auto& n : m.notes) c += "; note: " + n;
    return c;
  }

  void add_model_files(const Model& m, const std::string& model_id, const std::string& model_ref) {
    std::vector<std::string> files;
    for (const auto& f : m.files) {
      const auto file_id = id(model_ref + "/" + f.path);
      auto e = element("software_File", file_id, f.path);
      e["verifiedUsing"] = ordered_json::array({hash_entry("SHA-256", f.sha256)});
      graph_.push_back(std::move(e));
      files.push_back(file_id);
    }
    relate(model_id, "contains", std::move(files));
  }

  void add_base_model(const detail::BaseModel& b) {
    auto e = element("ai_AIPackage", id(b.ref), b.id);
    if (const auto purl = huggingface_purl(b.id, ""); !purl.empty()) {
      e["software_packageUrl"] = purl;
      e["software_downloadLocation"] = "https://huggingface.co/" + b.id;
    }
    e["software_primaryPurpose"] = "model";
    e["comment"] = "base model named by a model card; not present locally";
    graph_.push_back(std::move(e));
  }

  void add_dataset(const detail::NamedDataset& d) {
    auto e = element("dataset_DatasetPackage", id(d.ref), d.id);
    if (is_hub_repo_id(d.id))
      e["software_downloadLocation"] = "https://huggingface.co/datasets/" + d.id;
    e["software_primaryPurpose"] = "data";
    e["dataset_datasetType"] =
        ordered_json::array({"noAssertion"});  // a card name says nothing of the content
    graph_.push_back(std::move(e));
  }

  void add_project(std::size_t i) {
    const auto& p = inv_.projects[i];
    auto e = element("software_Package", id(g_.project_refs[i]), p.name);
    if (!p.version.empty()) e["software_packageVersion"] = s(p.version);
    e["software_packageUrl"] = pypi_purl(p.name, p.version);
    e["software_primaryPurpose"] = "application";
    e["comment"] = s("mlsc: declared in " + p.source);
    graph_.push_back(std::move(e));
    roots_.push_back(id(g_.project_refs[i]));
  }

  void add_package(std::size_t i) {
    const auto& p = inv_.packages[i];
    const auto pkg_id = id(g_.package_refs[i]);
    auto e = element("software_Package", pkg_id, p.name);
    if (!p.version.empty()) e["software_packageVersion"] = s(p.version);
    if (const auto purl = detail::package_purl(p); !purl.empty()) e["software_packageUrl"] = purl;
    if (!p.url.empty()) e["software_downloadLocation"] = s(p.url);
    if (!p.homepage.empty()) e["software_homePage"] = s(p.homepage);
    if (!p.summary.empty()) e["summary"] = s(p.summary);
    e["software_primaryPurpose"] = "library";
    if (!p.hashes.empty()) {
      ordered_json hashes = ordered_json::array();
      for (const auto& h : p.hashes) hashes.push_back(hash_entry(h.alg, h.hex));
      e["verifiedUsing"] = std::move(hashes);
    }
    std::string comment = "mlsc: " + std::string(to_string(p.scope)) + ", from " + p.source;
    if (!p.specifier.empty()) comment += "; specifier " + p.specifier;
    if (!p.marker.empty()) comment += "; marker " + p.marker;
    if (!p.record_sha256.empty()) comment += "; RECORD sha256 " + p.record_sha256;
    if (!p.license.empty()) {
      const bool expression = p.license.find(" OR ") != std::string::npos ||
                              p.license.find(" AND ") != std::string::npos;
      if (auto rest = declare_license(pkg_id, p.license, expression); !rest.empty())
        comment += "; " + rest;
    }
    e["comment"] = s(comment);
    graph_.push_back(std::move(e));
  }

  void add_runtime(std::size_t i) {
    const auto& r = inv_.runtime[i];
    auto e = element("software_Package", id(g_.runtime_refs[i]), r.name);
    if (!r.version.empty()) e["software_packageVersion"] = s(r.version);
    e["software_primaryPurpose"] = r.driver ? "deviceDriver" : "library";
    e["comment"] = s("mlsc: native ML runtime, seen in " + r.evidence);
    graph_.push_back(std::move(e));
  }

  void add_relationships() {
    for (const auto& b : g_.base_models) {
      std::vector<std::string> derived;
      for (const auto i : b.derived) derived.push_back(id(g_.model_refs[i]));
      relate(id(b.ref), "ancestorOf", std::move(derived));
    }
    for (std::size_t i = 0; i < inv_.models.size(); ++i) {
      std::vector<std::string> trained;
      std::vector<std::string> tested;
      for (const auto& d : g_.datasets) {
        if (std::find(d.models.begin(), d.models.end(), i) == d.models.end()) continue;
        const bool in_train =
            std::find(inv_.models[i].card.datasets.begin(), inv_.models[i].card.datasets.end(),
                      d.id) != inv_.models[i].card.datasets.end();
        (in_train ? trained : tested).push_back(id(d.ref));
      }
      relate(id(g_.model_refs[i]), "trainedOn", std::move(trained));
      relate(id(g_.model_refs[i]), "testedOn", std::move(tested));
    }
    for (std::size_t i = 0; i < inv_.packages.size(); ++i) {
      std::vector<std::string> to;
      for (const auto t : g_.package_deps[i]) to.push_back(id(g_.package_refs[t]));
      relate(id(g_.package_refs[i]), "dependsOn", std::move(to));
    }
    for (std::size_t i = 0; i < inv_.projects.size(); ++i) {
      std::vector<std::string> to;
      for (const auto t : g_.project_deps[i]) to.push_back(id(g_.package_refs[t]));
      relate(id(g_.project_refs[i]), "dependsOn", std::move(to));
    }
  }

  void add_document() {
    ordered_json doc = {
        {"type", "SpdxDocument"},
        {"spdxId", id("document")},
        {"creationInfo", kCreationInfo},
        {"name", "mlsc AI-BOM"},
        {"profileConformance",
         ordered_json::array({"core", "software", "ai", "dataset", "simpleLicensing"})}};
    if (!roots_.empty()) doc["rootElement"] = roots_;
    doc["element"] = elements_;
    graph_.push_back(std::move(doc));
  }
};

}  // namespace

Expected<std::string> write_spdx3(const Inventory& inv, const BomOptions& options) {
  std::string created = detail::utc_now();
  if (!options.timestamp.empty()) {
    auto t = normalize_timestamp(options.timestamp);
    if (!t) return t.error();
    created = *t;
  }
  // The namespace derives from the content when the timestamp is fixed (reproducible), else
  // it is random: two runs never mint the same element IRIs.
  std::string seed;
  if (!options.timestamp.empty()) {
    auto probe = SpdxWriter(inv, "urn:mlsc:seed:").graph(created, options.tool_version);
    seed = probe.dump();
  }
  const std::string ns = "urn:mlsc:spdx:" + detail::make_uuid(seed) + ":";
  ordered_json out = {{"@context", "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"}};
  out["@graph"] = SpdxWriter(inv, ns).graph(created, options.tool_version);
  return out.dump(2) + "\n";
}

}  // namespace mlsc::bom
