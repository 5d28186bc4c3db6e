// in-toto Statement v1 -> graph: SLSA Provenance v1 and OpenSSF model-signing predicates.
#include <algorithm>
#include <cctype>

#include "json_input.hpp"
#include "mlsc/core/text.hpp"
#include "mlsc/sign/statement.hpp"

namespace mlsc::graph::detail {
namespace {

constexpr std::string_view kSlsaV1 = "https://slsa.dev/provenance/v1";
constexpr std::string_view kModelSigningPrefix = "https://model_signing/";
constexpr std::string_view kDatasetManifest = "https://mlsc.dev/dataset-manifest/v1";

// What a resolved dependency is, from its annotations ("kind", "type" or "mlsc.kind") or its
// URI: a base model is derived_from; a dataset is a built_from input whose digest is an
// instance_of its dataset name; everything else is a plain built_from input.
enum class Role { input, dataset, base_model };

Role dependency_role(const json& dep) {
  const json* ann = member(dep, "annotations");
  for (const auto key : {"mlsc.kind", "kind", "type"}) {
    const auto v = ann ? ascii_lower(text(*ann, key)) : std::string();
    if (v == "dataset" || v == "data") return Role::dataset;
    if (v == "base_model" || v == "base-model" || v == "model" || v == "checkpoint") {
      return Role::base_model;
    }
  }
  const auto uri = text(dep, "uri");
  if (uri.find("/datasets/") != std::string::npos || uri.starts_with("dataset:")) {
    return Role::dataset;
  }
  return Role::input;
}

// The node of a resource descriptor: its digest when it has one (plus an instance_of edge to
// the purl or dataset name it is a copy of), else its purl, dataset name or URI.
std::optional<std::string> descriptor_node(const json& dep, Role role, GraphDocument& doc) {
  const auto uri = text(dep, "uri");
  const auto name = text(dep, "name");
  const std::string label = name.empty() ? uri : name;
  std::optional<std::string> named;
  if (is_purl(uri)) {
    named = uri;
  } else if (role == Role::dataset && !(uri.empty() && name.empty())) {
    named = dataset_key(uri.starts_with("dataset:") ? uri.substr(8) : (uri.empty() ? name : uri));
  } else if (!uri.empty()) {
    named = "uri:" + uri;
  }
  const json* digest = member(dep, "digest");
  auto key = digest ? digest_set_key(*digest) : std::nullopt;
  if (key) {
    doc.add_node(*key, label);
    if (named) doc.add_edge(*key, EdgeKind::instance_of, *named);
    return key;
  }
  if (named) doc.add_node(*named, label);
  return named;
}

EdgeKind edge_for(Role role) {
  switch (role) {
    case Role::base_model:
      return EdgeKind::derived_from;
    case Role::dataset:
    case Role::input:
      return EdgeKind::built_from;
  }
  return EdgeKind::built_from;
}

Expected<std::vector<std::string>> subjects(const json& statement, GraphDocument& doc) {
  std::vector<std::string> keys;
  for (const auto& s : array_or_empty(statement, "subject")) {
    const json* digest = member(s, "digest");
    auto key = digest ? digest_set_key(*digest) : std::nullopt;
    if (!key) return Error{"statement subject without a usable digest"};
    doc.add_node(*key, text(s, "name"));
    keys.push_back(*key);
  }
  if (keys.empty()) return Error{"statement has no subject"};
  return keys;
}

Expected<void> add_slsa(const json& statement, const std::vector<std::string>& outputs,
                        GraphDocument& doc) {
  doc.format = "slsa-provenance-v1";
  const json* predicate = member(statement, "predicate");
  const json* definition = predicate ? member(*predicate, "buildDefinition") : nullptr;
  if (!definition) return Error{"SLSA provenance without predicate.buildDefinition"};
  for (const auto& dep : array_or_empty(*definition, "resolvedDependencies")) {
    if (!dep.is_object()) return Error{"resolvedDependencies entry is not an object"};
    const Role role = dependency_role(dep);
    auto node = descriptor_node(dep, role, doc);
    if (!node) return Error{"resolved dependency with no digest, uri or name"};
    for (const auto& out : outputs) doc.add_edge(out, edge_for(role), *node);
  }
  const json* run = member(*predicate, "runDetails");
  const json* builder = run ? member(*run, "builder") : nullptr;
  const auto id = builder ? text(*builder, "id") : std::string();
  if (!id.empty()) {
    for (const auto& out : outputs) doc.add_edge(out, EdgeKind::produced_by, builder_key(id));
  }
  return {};
}

// The model-signing predicate is validated by the signing module's parser (types, resource
// digests, root digest = hash of the resources), then each resource becomes a contained file.
Expected<void> add_model_signing(const json& statement, const std::vector<std::string>& outputs,
                                 GraphDocument& doc) {
  doc.format = "model-signing";
  auto manifest = mlsc::sign::parse_statement_document(statement);
  if (!manifest) return Error{"model-signing statement: " + manifest.error().describe()};
  // v0.1 lists the files themselves as subjects; there is no model digest to hang them on.
  if (text(statement, "predicateType") == mlsc::sign::kPredicateTypeV01) return {};
  const std::string_view algorithm = mlsc::sign::to_string(manifest->hash);
  for (const auto& r : manifest->resources) {
    auto key = digest_key(algorithm, r.digest.hex());
    if (!key) return Error{"model-signing resource with an unusable digest"};
    doc.add_node(*key, r.name);
    for (const auto& model : outputs) doc.add_edge(model, EdgeKind::contains, *key);
  }
  return {};
}

// A signed dataset manifest (docs/dataset.md): its subject, the Merkle root, is an instance of
// the named dataset, and contains each file or fetched record by its SHA-256, so a poisoned
// file's digest leads to the dataset and everything trained on it.
Expected<void> add_dataset_manifest(const json& statement, const std::vector<std::string>& outputs,
                                    GraphDocument& doc) {
  doc.format = "dataset-manifest";
  const json* predicate = member(statement, "predicate");
  if (!predicate || !predicate->is_object()) return Error{"dataset manifest without a predicate"};
  const auto name = text(*predicate, "name");
  if (!name.empty()) {
    for (const auto& root : outputs) doc.add_edge(root, EdgeKind::instance_of, dataset_key(name));
  }
  for (const auto* list : {"files", "records"}) {
    for (const auto& entry : array_or_empty(*predicate, list)) {
      auto key = digest_key("sha256", text(entry, "sha256"));
      if (!key) return Error{std::string("dataset manifest ") + list + " entry without a sha256"};
      const auto label = text(entry, std::string(list) == "files" ? "path" : "url");
      doc.add_node(*key, label);
      for (const auto& root : outputs) doc.add_edge(root, EdgeKind::contains, *key);
    }
  }
  return {};
}

}  // namespace

Expected<void> add_statement(const json& statement, GraphDocument& doc,
                             const std::vector<std::string>& signer_keys) {
  if (!text(statement, "_type").starts_with("https://in-toto.io/Statement/")) {
    return Error{"not an in-toto statement"};
  }
  auto outputs = subjects(statement, doc);
  if (!outputs) return outputs.error();
  const auto type = text(statement, "predicateType");
  Expected<void> added;
  if (type.starts_with(kSlsaV1)) {
    added = add_slsa(statement, *outputs, doc);
  } else if (type.starts_with(kModelSigningPrefix)) {
    added = add_model_signing(statement, *outputs, doc);
  } else if (type == kDatasetManifest) {
    added = add_dataset_manifest(statement, *outputs, doc);
  } else {
    return Error{"unsupported predicateType '" + type.substr(0, 200) + "'"};
  }
  if (!added) return added;
  for (const auto& signer : signer_keys) {
    for (const auto& out : *outputs) doc.add_edge(out, EdgeKind::signed_by, signer);
  }
  return {};
}

}  // namespace mlsc::graph::detail
