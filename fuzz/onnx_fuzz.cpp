// libFuzzer target: the ONNX scanner on arbitrary bytes. Exercises the wire-format recogniser,
// the payload stripper, protobuf parsing under our limits, and every check on whatever model
// comes out (operator domains, external-data text checks, the backdoor dataflow analysis).
// The scanner runs even when the recogniser says no, so the parser sees every input.
// Seed it with the ONNX fixtures: build/integration-work/test_onnx/fixtures.
#include <cstddef>
#include <cstdint>

#include "mlsc/scan/scanners.hpp"
#include "scan/onnx_wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mlsc::scan;
  const mlsc::ByteView input(data, size);
  static const ScanOptions options;
  static const Registry registry;  // empty: nothing below recurses into members
  static const auto scanner = make_onnx_scanner();
  const bool recognised = onnx_wire::looks_like_model(input);
  mlsc::FileReport report;
  ScanContext ctx(options, registry, report);  // in memory: no file system checks
  scanner->scan(input, ctx);
  // A recognised model always yields at least its summary or an unscannable finding.
  if (recognised && report.findings.empty()) __builtin_trap();
  return 0;
}
