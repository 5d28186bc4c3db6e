// ONNX on the protobuf wire (protobuf_wire.hpp), for the two jobs the generated ONNX classes
// cannot do safely: recognising an ONNX model by content (cheap, no allocation), and cutting a
// model down to its structure before protobuf parses it. A model's weights are most of its bytes;
// parsing them into std::strings would cost as much memory as the file and hit protobuf's 2 GB
// message limit, while the scanner only needs names, shapes, attributes and small constants.
#pragma once

#include <cstdint>
#include <string>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"

namespace mlsc::scan::onnx_wire {

// True when `data` starts like a serialized onnx.ModelProto: every top-level field has a
// ModelProto field number with its declared wire type, ir_version (field 1) is a small positive
// varint, and graph (field 7) is present and opens with a GraphProto field. Walks at most a few
// thousand top-level fields and skips the graph by its length, so it costs microseconds.
// TensorFlow's SavedModel also opens with a varint field 1, but has no field 7.
bool looks_like_model(ByteView data);

struct StripStats {
  std::uint64_t tensors_stripped = 0;  // tensors whose payload was dropped
  std::uint64_t bytes_stripped = 0;    // payload bytes dropped
};

struct StripLimits {
  std::uint64_t keep_payload_bytes = 4096;  // tensors with at most this much data keep it
  std::uint32_t max_depth = 64;             // nested messages (subgraph nesting costs 3 each)
  std::uint64_t max_output_bytes = 1ULL << 30;
};

// A copy of the serialized ModelProto `model` without the data of large tensors (TensorProto
// fields float_data, int32_data, string_data, int64_data, raw_data, double_data, uint64_data) in
// every place ONNX keeps tensors: graph initializers, sparse initializers, Constant-style
// attributes, subgraphs, functions and training graphs. Everything else is copied verbatim,
// unknown fields included, so the result parses to the same model minus those payloads.
Expected<std::string> strip_tensor_payloads(ByteView model, const StripLimits& limits,
                                            StripStats& stats);

}  // namespace mlsc::scan::onnx_wire
