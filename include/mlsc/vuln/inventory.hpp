// What `mlsc deps` audits: a list of Python packages with versions, read from a requirements
// file or pinned list, a CycloneDX or SPDX JSON BOM, or an installed environment folder
// (*.dist-info/METADATA, *.egg-info/PKG-INFO). Deliberately small: the richer project and
// environment readers of `mlsc bom` are meant to replace the reading side (see docs/deps.md).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "mlsc/core/expected.hpp"

namespace mlsc::vuln {

struct InventoryPackage {
  std::string name;       // as written
  std::string version;    // empty when the input does not fix one (e.g. "requests>=2")
  std::string purl;       // "pkg:pypi/name@version"
  std::string location;   // "requirements.txt:12", "site-packages/x.dist-info", BOM ref
  std::string specifier;  // the requirement's specifier when not pinned
  std::vector<std::string> hashes;
};

struct Inventory {
  std::string path;
  std::string kind;  // "requirements", "cyclonedx", "spdx", "environment"
  std::vector<InventoryPackage> packages;
  std::vector<std::string> warnings;  // lines or components that could not be used
};

struct InventoryOptions {
  std::size_t max_file_bytes = 64U << 20;
  std::size_t max_depth = 8;  // environment folders: how deep to look for *.dist-info
};

// Decides by content: a directory is an environment; a JSON file with bomFormat CycloneDX or
// spdxVersion / an SPDX 3 @graph is a BOM; anything else is read as a requirements list.
Expected<Inventory> read_inventory(const std::string& path, const InventoryOptions& options = {});

// The parts of an inventory input that need no file system (also used by the fuzz target).
Inventory inventory_from_bom_json(std::string_view text, const std::string& path);
Inventory inventory_from_requirements(std::string_view text, const std::string& path);
// RFC 822 style core metadata (METADATA, PKG-INFO): Name and Version from the header block.
struct CoreMetadata {
  std::string name;
  std::string version;
};
CoreMetadata parse_core_metadata(std::string_view text);

}  // namespace mlsc::vuln
