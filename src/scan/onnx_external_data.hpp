// ONNX external data: a tensor whose bytes live in another file, named by the tensor's
// external_data "location" entry and read by the loader from the model's folder. The location is
// attacker-controlled; onnx before 1.13 joined it to the folder as it was (CVE-2022-25882), so
// "../", absolute paths and symlinks make the loader read any file the user can read into a
// tensor, and from there into the model's outputs.
#pragma once

#include <string>

#include "onnx_model.hpp"

namespace mlsc::scan::onnx_scan {

// Checks every external-data reference in `model`. `model_path` is the model file on disk; when
// it is empty (bytes from memory, or a member of a container) only the location text can be
// checked, and an issue says what was left unverified.
Issues check_external_data(const onnx::ModelProto& model, const std::string& model_path);

}  // namespace mlsc::scan::onnx_scan
