// libFuzzer target: the Jinja lexer, parser and injection analysis on arbitrary text, and the
// JSON-config and template-text scanners that feed it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mlsc/scan/scanners.hpp"
#include "scan/jinja.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mlsc::scan;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  jinja::analyse(text);
  static const Registry registry = [] {
    Registry r;
    r.add(make_hf_json_scanner());
    r.add(make_template_scanner());
    return r;
  }();
  static const ScanOptions options;  // building the import policy per input would dominate
  scan_bytes("fuzz", mlsc::ByteView(data, size), options, registry);
  return 0;
}
