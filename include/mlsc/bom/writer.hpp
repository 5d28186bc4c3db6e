// BOM writers: CycloneDX 1.6 JSON and SPDX 3.0.1 JSON-LD from one Inventory.
#pragma once

#include <string>

#include "mlsc/bom/inventory.hpp"
#include "mlsc/core/expected.hpp"

namespace mlsc::bom {

struct BomOptions {
  // ISO 8601 UTC ("2024-05-01T12:00:00Z"). Empty: now. A fixed timestamp also makes the
  // serial number / document ids derive from the content, so the output is reproducible.
  std::string timestamp;
  std::string tool_version = MLSC_VERSION;
};

// "2024-05-01T12:00:00Z" (seconds, 'Z'); the canonical form of a user-supplied --timestamp,
// or an Error when it is not a valid UTC date-time.
Expected<std::string> normalize_timestamp(std::string_view text);

Expected<std::string> write_cyclonedx(const Inventory& inventory, const BomOptions& options);
Expected<std::string> write_spdx3(const Inventory& inventory, const BomOptions& options);

}  // namespace mlsc::bom
