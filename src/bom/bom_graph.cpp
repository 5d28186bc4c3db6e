#include "bom_graph.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "mlsc/bom/purl.hpp"
#include "mlsc/sign/hashing.hpp"
#include "text_util.hpp"

namespace mlsc::bom::detail {

namespace {

class RefAllocator {
 public:
  // The wanted ref, or the wanted ref with "#2", "#3"... when it is taken.
  std::string take(const std::string& wanted) {
    auto ref = wanted;
    for (int n = 2; !used_.insert(ref).second; ++n) ref = wanted + "#" + std::to_string(n);
    return ref;
  }

 private:
  std::set<std::string> used_;
};

std::string model_ref_name(const Model& m) {
  std::string ref = "model:" + (m.hub_id.empty() ? m.name : m.hub_id);
  if (!m.revision.empty()) ref += "@" + m.revision;
  return ref;
}

void add_datasets(const Inventory& inv, RefAllocator& refs, Graph& g) {
  std::map<std::string, std::size_t> index;
  auto touch = [&](const std::string& id, std::size_t model) -> NamedDataset& {
    auto [it, inserted] = index.emplace(id, g.datasets.size());
    if (inserted) g.datasets.push_back({id, refs.take("dataset:" + id), false, false, {}});
    auto& d = g.datasets[it->second];
    if (std::find(d.models.begin(), d.models.end(), model) == d.models.end())
      d.models.push_back(model);
    return d;
  };
  for (std::size_t i = 0; i < inv.models.size(); ++i) {
    for (const auto& id : inv.models[i].card.datasets) touch(id, i).trained_on = true;
    for (const auto& id : inv.models[i].card.eval_datasets) touch(id, i).tested_on = true;
  }
}

void add_base_models(const Inventory& inv, RefAllocator& refs, Graph& g) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < inv.models.size(); ++i) {
    for (const auto& id : inv.models[i].card.base_models) {
      auto [it, inserted] = index.emplace(id, g.base_models.size());
      if (inserted) {
        BaseModel b{id, {}, false, {}};
        for (std::size_t j = 0; j < inv.models.size(); ++j) {
          if (j != i && !inv.models[j].hub_id.empty() && inv.models[j].hub_id == id) {
            b.ref = g.model_refs[j];
            b.local = true;
            break;
          }
        }
        if (!b.local) b.ref = refs.take("model:" + id);
        g.base_models.push_back(std::move(b));
      }
      g.base_models[it->second].derived.push_back(i);
    }
  }
}

void add_package_edges(const Inventory& inv, Graph& g) {
  std::map<std::string, std::vector<std::size_t>> by_name;
  for (std::size_t i = 0; i < inv.packages.size(); ++i) {
    const auto& p = inv.packages[i];
    by_name[p.ecosystem + "|" + normalize_pypi_name(p.name)].push_back(i);
  }
  g.package_deps.resize(inv.packages.size());
  for (std::size_t i = 0; i < inv.packages.size(); ++i) {
    const auto& p = inv.packages[i];
    std::set<std::size_t> targets;
    for (const auto& r : p.requires_names) {
      const auto it = by_name.find(p.ecosystem + "|" + normalize_pypi_name(r));
      if (it == by_name.end()) continue;
      // Only installed (versioned) targets from the same kind of source: a lock's entry
      // depends on the lock's entries, an installed package on installed ones.
      for (const auto t : it->second)
        if (t != i && !inv.packages[t].version.empty()) targets.insert(t);
    }
    g.package_deps[i].assign(targets.begin(), targets.end());
  }
  g.project_deps.resize(inv.projects.size());
  for (std::size_t pi = 0; pi < inv.projects.size(); ++pi) {
    std::set<std::size_t> targets;
    for (const auto& name : inv.projects[pi].direct_dependencies) {
      const auto it = by_name.find("pypi|" + normalize_pypi_name(name));
      if (it == by_name.end()) continue;
      for (const auto t : it->second) targets.insert(t);
    }
    g.project_deps[pi].assign(targets.begin(), targets.end());
  }
}

}  // namespace

std::string package_purl(const Package& p) {
  if (p.ecosystem == "conda") return conda_purl(p.name, p.version, p.build, p.channel, p.subdir);
  return pypi_purl(p.name, p.version);
}

std::string model_manifest_sha256(const Model& m) {
  std::string manifest;
  for (const auto& f : m.files) manifest += f.sha256 + "  " + f.path + "\n";
  auto digest = sign::hash_bytes(sign::HashType::sha256, as_bytes(manifest));
  return digest ? digest->hex() : std::string{};
}

Graph build_graph(const Inventory& inv) {
  Graph g;
  RefAllocator refs;
  for (const auto& m : inv.models) g.model_refs.push_back(refs.take(model_ref_name(m)));
  for (const auto& p : inv.packages) g.package_refs.push_back(refs.take(package_purl(p)));
  for (const auto& r : inv.runtime)
    g.runtime_refs.push_back(
        refs.take("runtime:" + r.name + (r.version.empty() ? "" : "@" + r.version)));
  for (const auto& p : inv.projects) g.project_refs.push_back(refs.take("project:" + p.name));
  add_datasets(inv, refs, g);
  add_base_models(inv, refs, g);
  add_package_edges(inv, g);
  return g;
}

}  // namespace mlsc::bom::detail
