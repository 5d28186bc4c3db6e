// Whether a dataset matches its manifest, through the dataset module (which owns manifest
// hashing): a folder on disk is re-hashed and compared file by file; an input known only by
// digest matches when the manifest's recomputed Merkle root is that digest.
#include "engine.hpp"
#include "mlsc/dataset/manifest.hpp"

namespace mlsc::policy::detail {
namespace {

std::string describe(const dataset::DatasetDiff& d) {
  std::vector<std::string> parts;
  if (!d.added.empty()) {
    parts.push_back(std::to_string(d.added.size()) + " added (" + join(d.added, ", ", 3) + ")");
  }
  if (!d.removed.empty()) {
    parts.push_back(std::to_string(d.removed.size()) + " removed (" + join(d.removed, ", ", 3) +
                    ")");
  }
  if (!d.changed.empty()) {
    std::vector<std::string> keys;
    for (const auto& c : d.changed) keys.push_back(c.key);
    parts.push_back(std::to_string(keys.size()) + " changed (" + join(keys, ", ", 3) + ")");
  }
  return join(parts, ", ");
}

}  // namespace

std::string manifest_matches(const Evidence& m, const Subject& s) {
  auto manifest = dataset::manifest_from_statement(m.statement);
  if (!manifest) {
    return "manifest " + m.file.string() + " is malformed: " + manifest.error().describe();
  }
  if (s.content) {
    std::error_code ec;
    if (!std::filesystem::is_directory(*s.content, ec)) {
      return s.content->string() + " is not a dataset folder";
    }
    auto diff = dataset::verify_directory(*s.content, *manifest);
    if (!diff) return "cannot hash " + s.content->string() + ": " + diff.error().describe();
    if (!diff->empty())
      return s.content->string() + " differs from its manifest: " + describe(*diff);
    return {};
  }
  for (const auto& d : s.digests) {
    if (d == "sha256:" + manifest->merkle_root) return {};
  }
  return "manifest " + m.file.string() + " names another dataset";
}

}  // namespace mlsc::policy::detail
