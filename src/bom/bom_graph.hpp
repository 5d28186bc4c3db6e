// What both BOM writers agree on: one reference per element, the datasets and base models the
// model cards name, and the dependency edges (private to src/bom).
#pragma once

#include <string>
#include <vector>

#include "mlsc/bom/inventory.hpp"

namespace mlsc::bom::detail {

struct NamedDataset {
  std::string id;                   // as the card names it ("glue", "org/name")
  std::string ref;                  // element reference
  bool trained_on = false;          // listed in `datasets:`
  bool tested_on = false;           // named in model-index results
  std::vector<std::size_t> models;  // indices into Inventory::models that name it
};

struct BaseModel {
  std::string id;   // hub id as the card names it
  std::string ref;  // a local model's ref when the inventory holds it, else its own
  bool local = false;
  std::vector<std::size_t> derived;  // indices of models fine-tuned from it
};

struct Graph {
  std::vector<std::string> model_refs;
  std::vector<std::string> package_refs;
  std::vector<std::string> runtime_refs;
  std::vector<std::string> project_refs;
  std::vector<NamedDataset> datasets;
  std::vector<BaseModel> base_models;
  std::vector<std::vector<std::size_t>> package_deps;  // package -> packages it requires
  std::vector<std::vector<std::size_t>> project_deps;  // project -> its direct packages
};

Graph build_graph(const Inventory& inv);

// Purl of a package (pypi or conda); empty for packages without a name a purl can carry.
std::string package_purl(const Package& p);

// "SHA-256 of the sorted 'sha256  path' lines": one digest standing for a whole model folder.
std::string model_manifest_sha256(const Model& m);

}  // namespace mlsc::bom::detail
