// TOML documents (pyproject.toml, poetry.lock, uv.lock) read with toml++ and handed to the
// parsers as nlohmann::json, so one JSON-walking style serves TOML and JSON lock files alike.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "mlsc/core/expected.hpp"

namespace mlsc::bom::detail {

// Dates and times become their TOML text; errors name line and column.
Expected<nlohmann::json> parse_toml_as_json(std::string_view text);

// JSON from an untrusted file: parse errors and depth over 256 become Errors, not exceptions.
Expected<nlohmann::json> parse_json_bounded(std::string_view text);

// Member access that never throws: the string at `key`, or empty when absent or not a string.
std::string json_string(const nlohmann::json& object, std::string_view key);

}  // namespace mlsc::bom::detail
