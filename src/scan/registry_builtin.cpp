// The built-in scanner set. Kept apart from scanner.cpp so tests and fuzzers can build a
// Registry with just the scanners they exercise.
#include "mlsc/scan/scanners.hpp"

namespace mlsc::scan {

namespace {
Registry make_builtin() {
  Registry r;
  // Most specific magic first; the raw pickle scanner parses, so it goes last.
  // HDF5 with its signature at offset 0 first; after a user block (where another format's
  // magic may sit) only once the other magic-based scanners have declined.
  r.add(make_keras_h5_scanner());
  r.add(make_zip_scanner());
  r.add(make_archive_scanner());
  r.add(make_compressed_scanner());
  r.add(make_numpy_scanner());
  r.add(make_torch_legacy_scanner());
  r.add(make_safetensors_scanner());
  r.add(make_gguf_scanner());
  r.add(make_hdf5_user_block_scanner());
  // Protobuf has no magic: these accept only their exact message shapes.
  r.add(make_tf_savedmodel_scanner());
  r.add(make_keras_metadata_scanner());
  // ONNX has no magic number: it is recognised by the shape of its protobuf fields, a weaker
  // test than every magic above, so it runs after them; pickle must parse to decide, so ONNX
  // runs before it (no pickle opens with a valid ModelProto field layout).
  r.add(make_onnx_scanner());
  // JSON and template text have no magic: they come after every binary format. Keras JSON
  // accepts only Keras's top-level keys, so it goes before the Hugging Face JSON scanner.
  r.add(make_keras_json_scanner());
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
