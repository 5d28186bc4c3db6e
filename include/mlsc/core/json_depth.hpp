// Bracket nesting of JSON text, measured before parsing: nlohmann::json recurses once per level,
// so every reader of untrusted JSON refuses deep documents with this first.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace mlsc {

// The offset of the first `[` or `{` (outside strings) that opens level max_depth + 1, or
// nullopt when the text never nests deeper than max_depth.
std::optional<std::size_t> json_too_deep_at(std::string_view text, std::size_t max_depth);

}  // namespace mlsc
