// Severity levels shared by every scanner, formatter and gate.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mlsc {

// Ordered: a larger value is worse. `none` only describes a file with no findings.
enum class Severity : std::uint8_t { none, info, low, medium, high, critical };

std::string_view to_string(Severity s);
std::optional<Severity> parse_severity(std::string_view text);

}  // namespace mlsc
