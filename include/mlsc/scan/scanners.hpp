// Factories for the built-in scanners. Each lives in its own file under src/scan/.
#pragma once

#include <memory>

#include "mlsc/scan/scanner.hpp"

namespace mlsc::scan {

std::unique_ptr<Scanner> make_keras_h5_scanner();      // keras_h5_scanner.cpp (HDF5, Keras .h5)
std::unique_ptr<Scanner> make_zip_scanner();           // zip_scanner.cpp (PyTorch zip, npz, ...)
std::unique_ptr<Scanner> make_archive_scanner();       // archive_scanner.cpp (7z, tar)
std::unique_ptr<Scanner> make_compressed_scanner();    // compressed_scanner.cpp (gz, bz2, xz, ...)
std::unique_ptr<Scanner> make_numpy_scanner();         // numpy_scanner.cpp (.npy)
std::unique_ptr<Scanner> make_torch_legacy_scanner();  // torch_legacy_scanner.cpp
// tf_savedmodel_scanner.cpp: saved_model.pb and keras_metadata.pb
std::unique_ptr<Scanner> make_tf_savedmodel_scanner();
std::unique_ptr<Scanner> make_keras_metadata_scanner();
// keras_h5_scanner.cpp: HDF5 whose signature follows a user block
std::unique_ptr<Scanner> make_hdf5_user_block_scanner();
// keras_json_scanner.cpp: Keras config.json / metadata.json / model JSON
std::unique_ptr<Scanner> make_keras_json_scanner();
std::unique_ptr<Scanner> make_onnx_scanner();         // onnx_scanner.cpp (onnx.ModelProto)
std::unique_ptr<Scanner> make_safetensors_scanner();  // safetensors_scanner.cpp
std::unique_ptr<Scanner> make_gguf_scanner();         // gguf_scanner.cpp (GGUF v1-v3)
std::unique_ptr<Scanner> make_hf_json_scanner();      // hf_json_scanner.cpp (JSON configs)
std::unique_ptr<Scanner> make_template_scanner();     // template_scanner.cpp (.jinja text)
std::unique_ptr<Scanner> make_pickle_scanner();       // pickle_scanner.cpp (raw, joblib)

}  // namespace mlsc::scan
