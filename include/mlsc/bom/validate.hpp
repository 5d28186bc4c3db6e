// `mlsc bom validate FILE`: checks a CycloneDX 1.6 or SPDX 3.0.1 JSON document against its
// official JSON schema (with our own validator, see json_schema.hpp), plus the cross-reference
// rules the schemas cannot express (unique bom-refs / spdxIds, dependency refs that resolve).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/bom/json_schema.hpp"
#include "mlsc/core/expected.hpp"

namespace mlsc::bom {

enum class BomKind : std::uint8_t { unknown, cyclonedx, spdx3 };

struct BomValidation {
  BomKind kind = BomKind::unknown;
  std::string spec;  // "CycloneDX 1.6", "SPDX 3.0.1"
  std::vector<SchemaViolation> violations;
  bool valid() const { return kind != BomKind::unknown && violations.empty(); }
};

// The URIs the schemas are registered under.
inline constexpr std::string_view kCycloneDxSchemaUri =
    "http://cyclonedx.org/schema/bom-1.6.schema.json";
inline constexpr std::string_view kSpdx3SchemaUri =
    "https://spdx.org/schema/3.0.1/spdx-json-schema.json";

// Whether this build carries the schemas (they are compiled in when the build finds them).
bool have_embedded_bom_schemas();
// The schemas compiled into this build, or from `dir` laid out like shared/specs
// (cyclonedx/{bom-1.6,spdx,jsf-0.82}.schema.json, spdx3/spdx-3.0.1-schema.json).
Expected<SchemaSet> load_bom_schemas(const std::filesystem::path& dir);

// Which standard the document claims, then every violation found. Errors only for problems
// of the validator itself (a schema missing from the set); a document that is not JSON or not
// a BOM is reported as a violation.
Expected<BomValidation> validate_bom(std::string_view text, const SchemaSet& schemas);

}  // namespace mlsc::bom
