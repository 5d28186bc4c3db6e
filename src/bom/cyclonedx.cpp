// CycloneDX 1.6 JSON: machine-learning-model components with their files, hashes and model
// card; data components for the datasets the cards name; libraries for Python and conda
// packages and for CUDA-family runtime pieces; the dependency graph.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "bom_graph.hpp"
#include "bom_ids.hpp"
#include "license_ids.hpp"
#include "mlsc/bom/purl.hpp"
#include "mlsc/bom/writer.hpp"
#include "text_util.hpp"

namespace mlsc::bom {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// Every string that goes out comes from files on disk: make it valid UTF-8 first.
std::string s(std::string_view text) {
  return detail::sanitize_utf8(text);
}

void add_property(ordered_json& props, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  props.push_back({{"name", s(name)}, {"value", s(value)}});
}

ordered_json license_entry(const std::string& text) {
  if (const auto id = detail::spdx_license_id(text); !id.empty())
    return {{"license", {{"id", id}}}};
  return {{"license", {{"name", s(text)}}}};
}

ordered_json licenses_for(const std::string& text, bool is_expression) {
  if (is_expression) return ordered_json::array({{{"expression", s(text)}}});
  return ordered_json::array({license_entry(text)});
}

// What CycloneDX's "iri-reference" format admits, lexically: metadata fields such as a
// package's home page are free text, and one that is not a URL must not make the BOM invalid.
bool is_iri_reference(std::string_view text) {
  return !text.empty() && std::none_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7F ||
           std::string_view("<>\"{}|\\^`").find(c) != std::string_view::npos;
  });
}

std::string hub_url(const std::string& id, bool dataset) {
  return std::string("https://huggingface.co/") + (dataset ? "datasets/" : "") + id;
}

ordered_json model_files(const Model& m, const std::string& model_ref) {
  ordered_json files = ordered_json::array();
  for (const auto& f : m.files) {
    ordered_json c = {
        {"type", "file"},
        {"bom-ref", s(model_ref + "/" + f.path)},
        {"name", s(f.path)},
        {"hashes", ordered_json::array({{{"alg", "SHA-256"}, {"content", f.sha256}}})}};
    c["properties"] =
        ordered_json::array({{{"name", "mlsc:file:size"}, {"value", std::to_string(f.size)}}});
    files.push_back(std::move(c));
  }
  return files;
}

ordered_json model_card(const Model& m, const detail::Graph& g, std::size_t model_index) {
  ordered_json params = ordered_json::object();
  if (!m.task.empty()) params["task"] = s(m.task);
  if (!m.model_type.empty()) params["architectureFamily"] = s(m.model_type);
  if (!m.architectures.empty()) params["modelArchitecture"] = s(m.architectures.front());
  ordered_json datasets = ordered_json::array();
  for (const auto& d : g.datasets) {
    if (std::find(d.models.begin(), d.models.end(), model_index) != d.models.end())
      datasets.push_back({{"ref", s(d.ref)}});
  }
  if (!datasets.empty()) params["datasets"] = std::move(datasets);
  ordered_json card = ordered_json::object();
  if (!params.empty()) card["modelParameters"] = std::move(params);
  ordered_json metrics = ordered_json::array();
  for (const auto& metric : m.card.metrics) {
    ordered_json pm = {{"type", s(metric.type)}, {"value", s(metric.value)}};
    std::string slice = metric.dataset;
    if (!metric.task.empty()) slice += (slice.empty() ? "" : " / ") + metric.task;
    if (!slice.empty()) pm["slice"] = s(slice);
    metrics.push_back(std::move(pm));
  }
  if (!metrics.empty()) card["quantitativeAnalysis"] = {{"performanceMetrics", std::move(metrics)}};
  ordered_json considerations = ordered_json::object();
  if (!m.card.intended_uses.empty())
    considerations["useCases"] = ordered_json::array({s(m.card.intended_uses)});
  if (!m.card.limitations.empty())
    considerations["technicalLimitations"] = ordered_json::array({s(m.card.limitations)});
  if (!m.card.ethical_considerations.empty())
    considerations["ethicalConsiderations"] =
        ordered_json::array({{{"name", s(m.card.ethical_considerations)}}});
  if (!considerations.empty()) card["considerations"] = std::move(considerations);
  return card;
}

ordered_json model_properties(const Model& m) {
  ordered_json props = ordered_json::array();
  std::string formats;
  for (const auto& f : m.formats) formats += (formats.empty() ? "" : ",") + f;
  add_property(props, "mlsc:model:format", formats);
  if (m.parameters) add_property(props, "mlsc:model:parameterCount", std::to_string(*m.parameters));
  std::string dtypes;
  for (const auto& d : m.dtypes) dtypes += (dtypes.empty() ? "" : ",") + d;
  add_property(props, "mlsc:model:dtypes", dtypes);
  for (const auto& a : m.architectures) add_property(props, "mlsc:model:architecture", a);
  add_property(props, "mlsc:model:modelType", m.model_type);
  add_property(props, "mlsc:model:libraryName", m.card.library_name);
  for (const auto& l : m.card.languages) add_property(props, "mlsc:model:language", l);
  for (const auto& t : m.card.tags) add_property(props, "mlsc:model:tag", t);
  add_property(props, "mlsc:model:location", m.location);
  add_property(props, "mlsc:model:manifestSha256", detail::model_manifest_sha256(m));
  for (const auto& n : m.notes) add_property(props, "mlsc:note", n);
  return props;
}

ordered_json model_component(const Model& m, const detail::Graph& g, std::size_t i) {
  const auto& ref = g.model_refs[i];
  ordered_json c = {{"type", "machine-learning-model"}, {"bom-ref", s(ref)}, {"name", s(m.name)}};
  if (!m.revision.empty()) c["version"] = m.revision;
  if (const auto purl = huggingface_purl(m.hub_id, m.revision); !purl.empty()) c["purl"] = purl;
  if (m.files.size() == 1)
    c["hashes"] = ordered_json::array({{{"alg", "SHA-256"}, {"content", m.files[0].sha256}}});
  if (!m.card.license.empty()) {
    const bool other = m.card.license == "other" && !m.card.license_name.empty();
    c["licenses"] =
        ordered_json::array({license_entry(other ? m.card.license_name : m.card.license)});
  }
  if (!m.hub_id.empty() && is_hub_repo_id(m.hub_id))
    c["externalReferences"] =
        ordered_json::array({{{"type", "distribution"}, {"url", hub_url(m.hub_id, false)}}});
  ordered_json ancestors = ordered_json::array();
  for (const auto& b : g.base_models) {
    if (std::find(b.derived.begin(), b.derived.end(), i) == b.derived.end()) continue;
    ordered_json a = {{"type", "machine-learning-model"}, {"name", s(b.id)}};
    if (const auto purl = huggingface_purl(b.id, ""); !purl.empty()) a["purl"] = purl;
    ancestors.push_back(std::move(a));
  }
  if (!ancestors.empty()) c["pedigree"] = {{"ancestors", std::move(ancestors)}};
  c["modelCard"] = model_card(m, g, i);
  c["properties"] = model_properties(m);
  if (!m.files.empty() && m.files.size() > 1) c["components"] = model_files(m, ref);
  return c;
}

ordered_json base_model_component(const detail::BaseModel& b) {
  ordered_json c = {{"type", "machine-learning-model"}, {"bom-ref", s(b.ref)}, {"name", s(b.id)}};
  if (const auto purl = huggingface_purl(b.id, ""); !purl.empty()) {
    c["purl"] = purl;
    c["externalReferences"] =
        ordered_json::array({{{"type", "distribution"}, {"url", hub_url(b.id, false)}}});
  }
  c["properties"] = ordered_json::array(
      {{{"name", "mlsc:model:role"}, {"value", "base model named by a model card"}}});
  return c;
}

ordered_json dataset_component(const detail::NamedDataset& d) {
  ordered_json c = {{"type", "data"}, {"bom-ref", s(d.ref)}, {"name", s(d.id)}};
  c["data"] = ordered_json::array({{{"type", "dataset"}, {"name", s(d.id)}}});
  if (is_hub_repo_id(d.id))
    c["externalReferences"] =
        ordered_json::array({{{"type", "distribution"}, {"url", hub_url(d.id, true)}}});
  ordered_json props = ordered_json::array();
  if (d.trained_on) add_property(props, "mlsc:dataset:role", "training (model card datasets)");
  if (d.tested_on) add_property(props, "mlsc:dataset:role", "evaluation (model card model-index)");
  c["properties"] = std::move(props);
  return c;
}

std::string_view cyclonedx_scope(PackageScope scope) {
  switch (scope) {
    case PackageScope::required:
      return "required";
    case PackageScope::optional:
    case PackageScope::constraint:
      return "optional";
    case PackageScope::dev:
    case PackageScope::build:
      return "excluded";
  }
  return "required";
}

ordered_json package_component(const Package& p, const std::string& ref) {
  ordered_json c = {{"type", "library"}, {"bom-ref", s(ref)}, {"name", s(p.name)}};
  if (!p.version.empty()) c["version"] = s(p.version);
  if (!p.summary.empty()) c["description"] = s(p.summary);
  c["scope"] = cyclonedx_scope(p.scope);
  if (!p.hashes.empty()) {
    ordered_json hashes = ordered_json::array();
    for (const auto& h : p.hashes) hashes.push_back({{"alg", h.alg}, {"content", h.hex}});
    c["hashes"] = std::move(hashes);
  }
  if (!p.license.empty()) {
    const bool expression =
        p.license.find(" OR ") != std::string::npos || p.license.find(" AND ") != std::string::npos;
    c["licenses"] = licenses_for(p.license, expression && detail::is_valid_utf8(p.license));
  }
  if (const auto purl = detail::package_purl(p); !purl.empty()) c["purl"] = purl;
  ordered_json refs = ordered_json::array();
  if (is_iri_reference(p.homepage)) refs.push_back({{"type", "website"}, {"url", s(p.homepage)}});
  if (is_iri_reference(p.url)) {
    const bool vcs =
        p.url.rfind("git+", 0) == 0 || p.url.rfind("hg+", 0) == 0 || p.url.rfind("svn+", 0) == 0;
    refs.push_back({{"type", vcs ? "vcs" : "distribution"}, {"url", s(p.url)}});
  }
  if (!refs.empty()) c["externalReferences"] = std::move(refs);
  ordered_json props = ordered_json::array();
  add_property(props, "mlsc:package:source", p.source);
  if (!is_iri_reference(p.homepage)) add_property(props, "mlsc:package:homepage", p.homepage);
  if (!is_iri_reference(p.url)) add_property(props, "mlsc:package:url", p.url);
  add_property(props, "mlsc:package:scope", to_string(p.scope));
  add_property(props, "mlsc:package:specifier", p.specifier);
  add_property(props, "mlsc:package:marker", p.marker);
  for (const auto& e : p.extras) add_property(props, "mlsc:package:extra", e);
  add_property(props, "mlsc:package:vcsCommit", p.vcs_commit);
  add_property(props, "mlsc:package:record", p.record_path);
  add_property(props, "mlsc:package:recordSha256", p.record_sha256);
  if (!p.record_path.empty())
    add_property(props, "mlsc:package:recordHashedFiles", std::to_string(p.record_entries));
  if (!props.empty()) c["properties"] = std::move(props);
  return c;
}

ordered_json runtime_component(const RuntimePiece& r, const std::string& ref) {
  ordered_json c = {{"type", r.driver ? "device-driver" : "library"},
                    {"bom-ref", s(ref)},
                    {"group", "nvidia"},
                    {"name", s(r.name)}};
  if (r.name.rfind("rocm", 0) == 0) c["group"] = "amd";
  if (!r.version.empty()) c["version"] = s(r.version);
  c["properties"] =
      ordered_json::array({{{"name", "mlsc:runtime:evidence"}, {"value", s(r.evidence)}}});
  return c;
}

ordered_json project_component(const Project& p, const std::string& ref) {
  ordered_json c = {{"type", "application"}, {"bom-ref", s(ref)}, {"name", s(p.name)}};
  if (!p.version.empty()) c["version"] = s(p.version);
  c["purl"] = pypi_purl(p.name, p.version);
  c["properties"] =
      ordered_json::array({{{"name", "mlsc:project:source"}, {"value", s(p.source)}}});
  return c;
}

void add_dependency(ordered_json& deps, const std::string& from, std::vector<std::string> to) {
  std::sort(to.begin(), to.end());
  to.erase(std::unique(to.begin(), to.end()), to.end());
  ordered_json d = {{"ref", s(from)}};
  ordered_json list = ordered_json::array();
  for (const auto& t : to) list.push_back(s(t));
  d["dependsOn"] = std::move(list);
  deps.push_back(std::move(d));
}

ordered_json dependencies(const Inventory& inv, const detail::Graph& g) {
  ordered_json deps = ordered_json::array();
  for (std::size_t i = 0; i < inv.models.size(); ++i) {
    std::vector<std::string> to;
    for (const auto& b : g.base_models)
      if (std::find(b.derived.begin(), b.derived.end(), i) != b.derived.end()) to.push_back(b.ref);
    for (const auto& d : g.datasets)
      if (d.trained_on && std::find(d.models.begin(), d.models.end(), i) != d.models.end())
        to.push_back(d.ref);
    add_dependency(deps, g.model_refs[i], std::move(to));
  }
  for (std::size_t i = 0; i < inv.packages.size(); ++i) {
    std::vector<std::string> to;
    for (const auto t : g.package_deps[i]) to.push_back(g.package_refs[t]);
    add_dependency(deps, g.package_refs[i], std::move(to));
  }
  for (std::size_t i = 0; i < inv.projects.size(); ++i) {
    std::vector<std::string> to;
    for (const auto t : g.project_deps[i]) to.push_back(g.package_refs[t]);
    add_dependency(deps, g.project_refs[i], std::move(to));
  }
  return deps;
}

ordered_json components(const Inventory& inv, const detail::Graph& g) {
  ordered_json out = ordered_json::array();
  for (std::size_t i = 0; i < inv.models.size(); ++i)
    out.push_back(model_component(inv.models[i], g, i));
  for (const auto& b : g.base_models)
    if (!b.local) out.push_back(base_model_component(b));
  for (const auto& d : g.datasets) out.push_back(dataset_component(d));
  for (std::size_t i = 0; i < inv.projects.size(); ++i)
    out.push_back(project_component(inv.projects[i], g.project_refs[i]));
  for (std::size_t i = 0; i < inv.packages.size(); ++i)
    out.push_back(package_component(inv.packages[i], g.package_refs[i]));
  for (std::size_t i = 0; i < inv.runtime.size(); ++i)
    out.push_back(runtime_component(inv.runtime[i], g.runtime_refs[i]));
  return out;
}

}  // namespace

Expected<std::string> write_cyclonedx(const Inventory& inv, const BomOptions& options) {
  std::string timestamp = detail::utc_now();
  if (!options.timestamp.empty()) {
    auto t = normalize_timestamp(options.timestamp);
    if (!t) return t.error();
    timestamp = *t;
  }
  const auto g = detail::build_graph(inv);
  ordered_json bom = {
      {"bomFormat", "CycloneDX"}, {"specVersion", "1.6"}, {"serialNumber", ""}, {"version", 1}};
  ordered_json tool = {
      {"type", "application"}, {"name", "mlsc"}, {"version", options.tool_version}};
  ordered_json metadata = {{"timestamp", timestamp},
                           {"tools", {{"components", ordered_json::array({tool})}}}};
  ordered_json notes = ordered_json::array();
  for (const auto& n : inv.notes) add_property(notes, "mlsc:note", n);
  for (const auto& u : inv.index_urls) add_property(notes, "mlsc:packageIndex", u);
  if (!notes.empty()) metadata["properties"] = std::move(notes);
  bom["metadata"] = std::move(metadata);
  bom["components"] = components(inv, g);
  bom["dependencies"] = dependencies(inv, g);
  // Reproducible output with a fixed timestamp: the serial derives from the content.
  const auto body = bom.dump();
  bom["serialNumber"] =
      "urn:uuid:" + detail::make_uuid(options.timestamp.empty() ? std::string_view{} : body);
  return bom.dump(2) + "\n";
}

}  // namespace mlsc::bom
