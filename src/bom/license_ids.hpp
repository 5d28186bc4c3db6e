// Mapping license names found in model cards and package metadata to SPDX license ids
// (private to src/bom).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mlsc::bom::detail {

// The SPDX id for a license name written as an id in any letter case ("apache-2.0" ->
// "Apache-2.0"), for the common licenses of models, datasets and Python packages; empty when
// the name is not one of them (the writers then use a free-text name).
std::string spdx_license_id(std::string_view name);

// Every id spdx_license_id can return (tests check each against the SPDX list).
std::vector<std::string_view> known_spdx_license_ids();

}  // namespace mlsc::bom::detail
