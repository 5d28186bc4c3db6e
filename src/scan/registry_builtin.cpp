// The built-in scanner set. Kept apart from scanner.cpp so tests and fuzzers can build a
// Registry with just the scanners they exercise.
#include "mlsc/scan/scanners.hpp"

namespace mlsc::scan {

namespace {
Registry make_builtin() {
  Registry r;
  // Most specific magic first; the raw pickle scanner parses, so it goes last.
  r.add(make_zip_scanner());
  r.add(make_archive_scanner());
  r.add(make_compressed_scanner());
  r.add(make_numpy_scanner());
  r.add(make_torch_legacy_scanner());
  r.add(make_safetensors_scanner());
  r.add(make_gguf_scanner());
  // JSON and template text have no magic: they come after every binary format.
  r.add(make_hf_json_scanner());
  r.add(make_template_scanner());
  r.add(make_pickle_scanner());
  return r;
}
}  // namespace

const Registry& Registry::builtin() {
  // Immutable after construction; thread-safe initialisation.
  static const Registry registry = make_builtin();
  return registry;
}

}  // namespace mlsc::scan
