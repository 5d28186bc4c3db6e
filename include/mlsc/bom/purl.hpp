// Package URLs (https://github.com/package-url/purl-spec) for what the BOM lists.
#pragma once

#include <string>
#include <string_view>

namespace mlsc::bom {

// PEP 503 normalisation: lowercase, every run of '-', '_', '.' becomes one '-'.
std::string normalize_pypi_name(std::string_view name);

// Percent-encodes everything outside the purl spec's unreserved set (and ':' which it allows).
std::string purl_encode(std::string_view text);

// pkg:pypi/<normalised name>[@version]
std::string pypi_purl(std::string_view name, std::string_view version);

// pkg:conda/<name>[@version][?build=..&channel=..&subdir=..] (qualifiers sorted, empty ones
// left out)
std::string conda_purl(std::string_view name, std::string_view version, std::string_view build,
                       std::string_view channel, std::string_view subdir);

// pkg:huggingface/<namespace>/<name>[@revision] for a hub repo id "namespace/name" (or "name");
// the revision (a commit hash) is lowercased as the purl type requires. Empty when the id is
// not a plausible hub id.
std::string huggingface_purl(std::string_view repo_id, std::string_view revision);

// A plausible Hugging Face repo id: "name" or "namespace/name", of [A-Za-z0-9._-], no "..",
// at most 96 characters per part.
bool is_hub_repo_id(std::string_view id);

}  // namespace mlsc::bom
