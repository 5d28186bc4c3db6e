// Timestamps and document identifiers for the BOM writers (private to src/bom).
#pragma once

#include <string>
#include <string_view>

namespace mlsc::bom::detail {

// Now, as "YYYY-MM-DDTHH:MM:SSZ".
std::string utc_now();

// A UUID in 8-4-4-4-12 lowercase hex. Random (version 4) when `seed` is empty, else derived
// from SHA-256 of the seed (version 8, RFC 9562's custom layout) for reproducible output.
std::string make_uuid(std::string_view seed);

}  // namespace mlsc::bom::detail
