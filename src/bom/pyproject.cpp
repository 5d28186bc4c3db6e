// pyproject.toml: PEP 621 [project] (dependencies, optional-dependencies), PEP 735
// [dependency-groups], [build-system].requires and Poetry's [tool.poetry] tables.
#include "mlsc/bom/sources.hpp"
#include "text_util.hpp"
#include "toml_json.hpp"

namespace mlsc::bom {

namespace {

using nlohmann::json;

void add_pep508_list(const json& list, PackageScope scope, const std::string& source,
                     PyProject& out) {
  if (!list.is_array()) return;
  for (const auto& item : list) {
    if (!item.is_string()) continue;  // PEP 735 {include-group = ...} entries name no package
    auto r = parse_pep508(item.get<std::string>());
    if (!r) continue;
    Package p;
    p.name = r->name;
    p.extras = r->extras;
    p.marker = r->marker;
    p.url = r->url;
    p.version = pinned_version(r->specifier);
    if (p.version.empty()) p.specifier = r->specifier;
    p.scope = scope;
    p.source = source;
    if (scope == PackageScope::required) out.project.direct_dependencies.push_back(p.name);
    out.packages.push_back(std::move(p));
  }
}

// Poetry's constraint syntax ("^1.2", "~1.2", "1.2.*", ">=1,<2") kept as written; "1.2.3" alone
// is an exact pin.
void set_poetry_version(const std::string& constraint, Package& p) {
  const auto c = std::string(detail::trim(constraint));
  const bool exact = !c.empty() && std::isdigit(static_cast<unsigned char>(c.front())) != 0 &&
                     c.find_first_of("*,<>^~| ") == std::string::npos;
  if (exact) {
    p.version = c;
  } else if (c.rfind("==", 0) == 0 && c.find_first_of("*,") == std::string::npos) {
    p.version = c.substr(2);
  } else if (c != "*") {
    p.specifier = c;
  }
}

void add_poetry_table(const json& deps, PackageScope scope, const std::string& source,
                      PyProject& out) {
  if (!deps.is_object()) return;
  for (const auto& [name, spec] : deps.items()) {
    if (detail::iequals(name, "python")) continue;  // the interpreter, not a package
    Package p;
    p.name = name;
    p.scope = scope;
    p.source = source;
    if (spec.is_string()) {
      set_poetry_version(spec.get<std::string>(), p);
    } else if (spec.is_object()) {
      set_poetry_version(detail::json_string(spec, "version"), p);
      for (const char* key : {"git", "url", "path"}) {
        if (auto v = detail::json_string(spec, key); !v.empty()) p.url = v;
      }
      if (const auto rev = detail::json_string(spec, "rev"); !rev.empty() && !p.url.empty()) {
        p.url += "@" + rev;
      }
      p.marker = detail::json_string(spec, "markers");
      if (spec.contains("optional") && spec["optional"].is_boolean() &&
          spec["optional"].get<bool>())
        p.scope = PackageScope::optional;
      if (spec.contains("extras") && spec["extras"].is_array()) {
        for (const auto& e : spec["extras"])
          if (e.is_string()) p.extras.push_back(e.get<std::string>());
      }
    } else {
      continue;  // a list of alternatives per platform: too ambiguous to name one version
    }
    if (p.scope == PackageScope::required) out.project.direct_dependencies.push_back(p.name);
    out.packages.push_back(std::move(p));
  }
}

void read_poetry(const json& poetry, const std::string& source, PyProject& out) {
  if (out.project.name.empty()) out.project.name = detail::json_string(poetry, "name");
  if (out.project.version.empty()) out.project.version = detail::json_string(poetry, "version");
  if (poetry.contains("dependencies"))
    add_poetry_table(poetry["dependencies"], PackageScope::required, source, out);
  if (poetry.contains("dev-dependencies"))
    add_poetry_table(poetry["dev-dependencies"], PackageScope::dev, source, out);
  if (poetry.contains("group") && poetry["group"].is_object()) {
    for (const auto& [group, table] : poetry["group"].items()) {
      if (table.is_object() && table.contains("dependencies")) {
        add_poetry_table(table["dependencies"],
                         group == "main" ? PackageScope::required : PackageScope::dev, source, out);
      }
    }
  }
}

}  // namespace

Expected<PyProject> parse_pyproject(std::string_view text, const std::string& source) {
  auto doc = detail::parse_toml_as_json(text);
  if (!doc) return doc.error();
  PyProject out;
  out.project.source = source;
  if (doc->contains("project") && (*doc)["project"].is_object()) {
    const auto& project = (*doc)["project"];
    out.project.name = detail::json_string(project, "name");
    out.project.version = detail::json_string(project, "version");
    if (project.contains("dependencies"))
      add_pep508_list(project["dependencies"], PackageScope::required, source, out);
    if (project.contains("optional-dependencies") && project["optional-dependencies"].is_object()) {
      for (const auto& [extra, list] : project["optional-dependencies"].items())
        add_pep508_list(list, PackageScope::optional, source, out);
    }
  }
  if (doc->contains("dependency-groups") && (*doc)["dependency-groups"].is_object()) {
    for (const auto& [group, list] : (*doc)["dependency-groups"].items())
      add_pep508_list(list, PackageScope::dev, source, out);
  }
  if (doc->contains("build-system") && (*doc)["build-system"].is_object()) {
    const auto& build = (*doc)["build-system"];
    if (build.contains("requires"))
      add_pep508_list(build["requires"], PackageScope::build, source, out);
  }
  if (doc->contains("tool") && (*doc)["tool"].is_object() && (*doc)["tool"].contains("poetry")) {
    const auto& poetry = (*doc)["tool"]["poetry"];
    if (poetry.is_object()) read_poetry(poetry, source, out);
  }
  return out;
}

}  // namespace mlsc::bom
