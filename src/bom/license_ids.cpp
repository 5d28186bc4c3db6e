#include "license_ids.hpp"

#include <array>

#include "text_util.hpp"

namespace mlsc::bom::detail {

namespace {

// Exact SPDX spellings; lookup is case-insensitive. Hugging Face's license tags for these
// licenses are the lowercased ids, and so are most metadata License fields that name an id.
constexpr std::array<std::string_view, 62> kIds = {"0BSD",
                                                   "AFL-3.0",
                                                   "AGPL-3.0",
                                                   "AGPL-3.0-only",
                                                   "AGPL-3.0-or-later",
                                                   "Apache-1.1",
                                                   "Apache-2.0",
                                                   "Artistic-2.0",
                                                   "BSD-1-Clause",
                                                   "BSD-2-Clause",
                                                   "BSD-3-Clause",
                                                   "BSD-3-Clause-Clear",
                                                   "BSD-4-Clause",
                                                   "BSL-1.0",
                                                   "CC-BY-2.0",
                                                   "CC-BY-2.5",
                                                   "CC-BY-3.0",
                                                   "CC-BY-4.0",
                                                   "CC-BY-NC-2.0",
                                                   "CC-BY-NC-3.0",
                                                   "CC-BY-NC-4.0",
                                                   "CC-BY-NC-ND-3.0",
                                                   "CC-BY-NC-ND-4.0",
                                                   "CC-BY-NC-SA-2.0",
                                                   "CC-BY-NC-SA-3.0",
                                                   "CC-BY-NC-SA-4.0",
                                                   "CC-BY-ND-4.0",
                                                   "CC-BY-SA-3.0",
                                                   "CC-BY-SA-4.0",
                                                   "CC0-1.0",
                                                   "CDLA-Permissive-1.0",
                                                   "CDLA-Permissive-2.0",
                                                   "CDLA-Sharing-1.0",
                                                   "ECL-2.0",
                                                   "EPL-1.0",
                                                   "EPL-2.0",
                                                   "EUPL-1.1",
                                                   "EUPL-1.2",
                                                   "GPL-2.0",
                                                   "GPL-2.0-only",
                                                   "GPL-2.0-or-later",
                                                   "GPL-3.0",
                                                   "GPL-3.0-only",
                                                   "GPL-3.0-or-later",
                                                   "HPND",
                                                   "ISC",
                                                   "LGPL-2.1",
                                                   "LGPL-2.1-only",
                                                   "LGPL-2.1-or-later",
                                                   "LGPL-3.0",
                                                   "LGPL-3.0-only",
                                                   "LGPL-3.0-or-later",
                                                   "MIT",
                                                   "MIT-0",
                                                   "MPL-2.0",
                                                   "MS-PL",
                                                   "ODbL-1.0",
                                                   "ODC-By-1.0",
                                                   "PDDL-1.0",
                                                   "PSF-2.0",
                                                   "Unlicense",
                                                   "Zlib"};

}  // namespace

std::string spdx_license_id(std::string_view name) {
  const auto trimmed = trim(name);
  for (const auto id : kIds) {
    if (iequals(id, trimmed)) return std::string(id);
  }
  // Hugging Face spells a few differently from SPDX.
  if (iequals(trimmed, "odc-by")) return "ODC-By-1.0";
  if (iequals(trimmed, "odbl")) return "ODbL-1.0";
  if (iequals(trimmed, "pddl")) return "PDDL-1.0";
  if (iequals(trimmed, "wtfpl")) return "WTFPL";
  return {};
}

std::vector<std::string_view> known_spdx_license_ids() {
  std::vector<std::string_view> out(kIds.begin(), kIds.end());
  out.push_back("WTFPL");
  return out;
}

}  // namespace mlsc::bom::detail
