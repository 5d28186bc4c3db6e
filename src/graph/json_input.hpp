// Bounded JSON reading shared by the graph's document parsers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlsc/core/expected.hpp"
#include "mlsc/graph/ingest.hpp"

namespace mlsc::graph::detail {

using nlohmann::json;

// Parses after checking size and nesting depth (so the parser never recurses past the limit).
Expected<json> parse_bounded_json(std::string_view text, const ParseLimits& limits);

// Typed, never-throwing access to attacker-shaped JSON.
const json* member(const json& object, std::string_view key);
std::string text(const json& object, std::string_view key);  // "" unless a string
const json& array_or_empty(const json& object, std::string_view key);

// The preferred digest key of an in-toto DigestSet / CycloneDX hash list: sha256 first, then
// sha512, sha384, blake3, gitCommit, then the first valid one in key order.
std::optional<std::string> digest_set_key(const json& digest_set);

// Parsers per format; each adds to `doc` and sets doc.format.
Expected<void> add_statement(const json& statement, GraphDocument& doc,
                             const std::vector<std::string>& signer_keys);
Expected<void> add_cyclonedx(const json& bom, GraphDocument& doc);
Expected<void> add_scan_report(const json& report, GraphDocument& doc);

}  // namespace mlsc::graph::detail
