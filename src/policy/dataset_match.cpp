// Whether a dataset matches its manifest. Pending the dataset module (mlsc::dataset), which
// owns the manifest hashing: until it is merged, a folder on disk cannot be compared and the
// rule fails rather than admitting unchecked data.
#include "engine.hpp"

namespace mlsc::policy::detail {

std::string manifest_matches(const Evidence& m, const Subject& s) {
  if (s.content) {
    return "the contents of " + s.content->string() +
           " cannot be compared with the manifest yet (dataset module not merged)";
  }
  for (const auto& d : s.digests) {
    if (m.names_digest(d)) return {};
  }
  return "manifest " + m.file.string() + " names another dataset";
}

}  // namespace mlsc::policy::detail
