// CycloneDX JSON BOM -> graph: components (by hash, purl or name), dependencies[], ML-BOM
// modelCard datasets and pedigree ancestors.
#include <algorithm>
#include <iterator>
#include <unordered_map>

#include "json_input.hpp"

namespace mlsc::graph::detail {
namespace {

constexpr int kMaxComponentNesting = 16;

class BomReader {
 public:
  explicit BomReader(GraphDocument& doc) : doc_(doc) {}

  Expected<void> read(const json& bom) {
    const json* metadata = member(bom, "metadata");
    const json* subject = metadata ? member(*metadata, "component") : nullptr;
    std::optional<std::string> subject_key;
    if (subject) {
      auto k = component(*subject, 0);
      if (!k) return k.error();
      subject_key = *k;
    }
    std::vector<std::string> top;
    for (const auto& c : array_or_empty(bom, "components")) {
      auto k = component(c, 0);
      if (!k) return k.error();
      top.push_back(*k);
    }
    const auto& deps = array_or_empty(bom, "dependencies");
    for (const auto& d : deps) dependency(d);
    // Without a dependency graph, the BOM still says its subject is made of its components.
    if (deps.empty() && subject_key) {
      for (const auto& k : top) doc_.add_edge(*subject_key, EdgeKind::depends_on, k);
    }
    for (const auto& [model, datasets] : model_datasets_) {
      for (const auto& d : datasets) doc_.add_edge(model, EdgeKind::trained_on, resolve(d));
    }
    return {};
  }

 private:
  Expected<std::string> component(const json& c, int nesting) {
    if (!c.is_object()) return Error{"CycloneDX component is not an object"};
    if (nesting > kMaxComponentNesting) return Error{"CycloneDX components nested too deeply"};
    auto key = key_of(c);
    if (!key) return key.error();
    doc_.add_node(*key, label_of(c));
    if (const auto ref = text(c, "bom-ref"); !ref.empty()) refs_.emplace(ref, *key);
    for (const auto& child : array_or_empty(c, "components")) {
      auto k = component(child, nesting + 1);
      if (!k) return k.error();
      doc_.add_edge(*key, EdgeKind::depends_on, *k);
    }
    if (const json* pedigree = member(c, "pedigree")) {
      for (const auto& ancestor : array_or_empty(*pedigree, "ancestors")) {
        auto k = component(ancestor, nesting + 1);
        if (!k) return k.error();
        doc_.add_edge(*key, EdgeKind::derived_from, *k);
      }
    }
    if (text(c, "type") == "machine-learning-model") model_card(c, *key);
    return key;
  }

  // Datasets are resolved after all components are read: a {"ref"} may point forward.
  void model_card(const json& c, const std::string& key) {
    const json* card = member(c, "modelCard");
    const json* params = card ? member(*card, "modelParameters") : nullptr;
    if (!params) return;
    for (const auto& d : array_or_empty(*params, "datasets")) {
      if (auto ref = text(d, "ref"); !ref.empty()) {
        model_datasets_[key].push_back(ref);
        continue;
      }
      std::string name = text(d, "name");
      if (const json* contents = member(d, "contents"); name.empty() && contents) {
        name = text(*contents, "url");
      }
      if (name.empty()) continue;
      doc_.add_node(dataset_key(name), name);
      refs_.emplace("\x01" + name, dataset_key(name));
      model_datasets_[key].push_back("\x01" + name);
    }
  }

  void dependency(const json& d) {
    const auto ref = text(d, "ref");
    if (ref.empty()) return;
    const auto from = resolve(ref);
    for (const auto& target : array_or_empty(d, "dependsOn")) {
      if (target.is_string()) doc_.add_edge(from, EdgeKind::depends_on, resolve(target));
    }
  }

  // A bom-ref to its node; a ref not declared as a component stands for itself.
  std::string resolve(const std::string& ref) {
    if (auto it = refs_.find(ref); it != refs_.end()) return it->second;
    return is_purl(ref) ? ref : "component:" + ref;
  }

  Expected<std::string> key_of(const json& c) {
    std::optional<std::string> digest;
    for (const auto& h : array_or_empty(c, "hashes")) {
      auto k = digest_key(text(h, "alg"), text(h, "content"));
      if (k && (!digest || k->starts_with("sha256:"))) digest = k;
    }
    const auto purl = text(c, "purl");
    const auto name = text(c, "name");
    std::optional<std::string> named;
    if (is_purl(purl)) {
      named = purl;
    } else if (text(c, "type") == "data" && !name.empty()) {
      named = dataset_key(name);
    } else if (!name.empty()) {
      const auto version = text(c, "version");
      named = "component:" + name + (version.empty() ? "" : "@" + version);
    }
    if (digest) {
      if (named) doc_.add_edge(*digest, EdgeKind::instance_of, *named);
      return *digest;
    }
    if (named) return *named;
    return Error{"CycloneDX component without hashes, purl or name"};
  }

  static std::string label_of(const json& c) {
    const auto name = text(c, "name");
    const auto version = text(c, "version");
    return version.empty() ? name : name + " " + version;
  }

  GraphDocument& doc_;
  std::unordered_map<std::string, std::string> refs_;
  std::unordered_map<std::string, std::vector<std::string>> model_datasets_;
};

}  // namespace

Expected<void> add_cyclonedx(const json& bom, GraphDocument& doc) {
  doc.format = "cyclonedx";
  return BomReader(doc).read(bom);
}

Expected<void> add_scan_report(const json& report, GraphDocument& doc) {
  doc.format = "mlsc-scan";
  for (const auto& f : array_or_empty(report, "files")) {
    const auto path = text(f, "path");
    const auto severity = text(f, "max_severity");
    if (path.empty()) return Error{"scan report entry without a path"};
    static constexpr std::string_view kSeverities[] = {"none",   "info", "low",
                                                       "medium", "high", "critical"};
    if (std::find(std::begin(kSeverities), std::end(kSeverities), severity) ==
        std::end(kSeverities)) {
      return Error{"scan report entry with unknown max_severity"};
    }
    doc.add_node(file_key(path), path);
    doc.add_edge(file_key(path), EdgeKind::scanned_as, verdict_key(severity));
  }
  return {};
}

}  // namespace mlsc::graph::detail
