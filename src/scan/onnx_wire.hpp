// The protobuf wire format, read directly, for the two jobs the generated ONNX classes cannot do
// safely: recognising an ONNX model by content (cheap, no allocation), and cutting a model down to
// its structure before protobuf parses it. A model's weights are most of its bytes; parsing them
// into std::strings would cost as much memory as the file and hit protobuf's 2 GB message limit,
// while the scanner only needs names, shapes, attributes and small constants.
#pragma once

#include <cstdint>
#include <string>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"

namespace mlsc::scan::onnx_wire {

enum class WireType : std::uint8_t {
  varint = 0,
  i64 = 1,
  len = 2,
  group_start = 3,
  group_end = 4,
  i32 = 5
};

struct Field {
  std::uint32_t number = 0;
  WireType type = WireType::varint;
  std::uint64_t varint = 0;  // the value of a varint field
  ByteView payload;          // the bytes of a len field (and of i32/i64/group fields)
  std::uint64_t offset = 0;  // of the tag, relative to the start of the outermost buffer
};

// Iterates the fields of one message. Offsets are absolute: `base` is the offset of `bytes` in
// the outermost buffer, so errors name a position in the file.
class FieldReader {
 public:
  // `allow_groups`: accept (and skip) the deprecated group encoding. Skipping a group reads up
  // to its end, so cheap content tests refuse groups instead.
  explicit FieldReader(ByteView bytes, std::uint64_t base = 0, bool allow_groups = true)
      : bytes_(bytes), base_(base), allow_groups_(allow_groups) {}

  // Reads the next field into `out`. Returns false at the end of the message, an Error on
  // malformed input (truncated varint or length, field number 0, unknown wire type,
  // unbalanced group).
  Expected<bool> next(Field& out);
  std::uint64_t position() const { return base_ + pos_; }

 private:
  Expected<std::uint64_t> read_varint();
  Expected<void> skip_group(std::uint32_t number);

  ByteView bytes_;
  std::uint64_t base_;
  bool allow_groups_;
  std::uint64_t pos_ = 0;
};

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
