// libFuzzer target: OSV records as JSON and as YAML, then every affected entry evaluated and
// scored, and the inventory readers (requirements, BOM JSON, core metadata) on the same bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mlsc/vuln/cvss.hpp"
#include "mlsc/vuln/inventory.hpp"
#include "mlsc/vuln/osv.hpp"
#include "mlsc/vuln/requirements.hpp"

namespace {

void exercise(const mlsc::vuln::OsvRecord& record) {
  using namespace mlsc::vuln;
  for (const auto& affected : record.affected) {
    for (const char* v : {"0", "1.0", "1.13.0+cu117", "2.0rc1", "french toast"}) {
      const Version version = Version::parse(v);
      (void)affects(affected, version);
      (void)lowest_fix_above(affected, version);
    }
    (void)assess_severity(record, affected);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mlsc::vuln;
  if (size > (1U << 20)) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto r = parse_osv_json(text)) exercise(*r);
  if (auto r = parse_osv_yaml(text)) exercise(*r);
  (void)parse_cvss(text);
  (void)inventory_from_requirements(text, "fuzz.txt");
  (void)inventory_from_bom_json(text, "fuzz.json");
  (void)parse_core_metadata(text);
  return 0;
}
