#include "onnx_wire.hpp"

#include "protobuf_wire.hpp"

#include <array>
#include <string_view>

namespace mlsc::scan::onnx_wire {

namespace {

using pb::Field;
using pb::WireType;

constexpr std::size_t kMaxTopLevelFields = 4096;  // looks_like_model's walk
constexpr std::uint64_t kMaxIrVersion = 64;       // IR 10 is current; leave room for growth

// Which ONNX message a nested field holds. Only the messages on the way to a TensorProto are
// rewritten; everything else ("other") is copied as it is.
enum class Kind : std::uint8_t {
  other,
  model,
  graph,
  node,
  attribute,
  tensor,
  sparse_tensor,
  function,
  training_info
};

struct Child {
  Kind parent;
  std::uint32_t field;
  Kind kind;
};

// Field numbers from onnx/onnx-ml.proto (IR version 8; FunctionProto.attribute_proto = 11 is
// IR 9's, kept so newer models are stripped too).
constexpr std::array<Child, 19> kChildren = {{
    {Kind::model, 7, Kind::graph},
    {Kind::model, 20, Kind::training_info},
    {Kind::model, 25, Kind::function},
    {Kind::training_info, 1, Kind::graph},
    {Kind::training_info, 2, Kind::graph},
    {Kind::graph, 1, Kind::node},
    {Kind::graph, 5, Kind::tensor},
    {Kind::graph, 15, Kind::sparse_tensor},
    {Kind::node, 5, Kind::attribute},
    {Kind::attribute, 5, Kind::tensor},
    {Kind::attribute, 6, Kind::graph},
    {Kind::attribute, 10, Kind::tensor},
    {Kind::attribute, 11, Kind::graph},
    {Kind::attribute, 22, Kind::sparse_tensor},
    {Kind::attribute, 23, Kind::sparse_tensor},
    {Kind::function, 7, Kind::node},
    {Kind::function, 11, Kind::attribute},
    {Kind::sparse_tensor, 1, Kind::tensor},
    {Kind::sparse_tensor, 2, Kind::tensor},
}};

Kind child_kind(Kind parent, std::uint32_t field) {
  for (const auto& c : kChildren) {
    if (c.parent == parent && c.field == field) return c.kind;
  }
  return Kind::other;
}

// TensorProto fields that hold element data.
bool is_tensor_payload(std::uint32_t field) {
  return field == 4 || field == 5 || field == 6 || field == 7 || field == 9 || field == 10 ||
         field == 11;
}

void append_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void append_bytes(std::string& out, ByteView b) {
  out.append(as_chars(b));
}

// The bytes of field `f` as they were in the input: tag through value.
ByteView raw_field(ByteView message, std::uint64_t message_base, const Field& f,
                   std::uint64_t end_position) {
  const auto begin = static_cast<std::size_t>(f.offset - message_base);
  const auto end = static_cast<std::size_t>(end_position - message_base);
  return message.subspan(begin, end - begin);
}

class Stripper {
 public:
  Stripper(const StripLimits& limits, StripStats& stats) : limits_(limits), stats_(stats) {}

  Expected<void> message(ByteView bytes, std::uint64_t base, Kind kind, std::uint32_t depth,
                         std::string& out) {
    if (depth > limits_.max_depth) {
      return Error::at(
          base, "messages nested more than " + std::to_string(limits_.max_depth) + " levels deep");
    }
    if (kind == Kind::tensor) return tensor(bytes, base, out);
    pb::Reader reader(bytes, base, /*allow_groups=*/true);
    Field f;
    for (;;) {
      auto more = reader.next(f);
      if (!more) return more.error();
      if (!*more) return {};
      const Kind child = f.type == WireType::len ? child_kind(kind, f.number) : Kind::other;
      if (child == Kind::other) {
        append_bytes(out, raw_field(bytes, base, f, reader.position()));
      } else {
        std::string nested;
        if (auto r = message(f.bytes, f.payload_offset, child, depth + 1, nested); !r) return r;
        append_varint(out, (static_cast<std::uint64_t>(f.number) << 3) | 2U);
        append_varint(out, nested.size());
        out += nested;
      }
      if (out.size() > limits_.max_output_bytes) {
        return Error::at(f.offset, "model structure exceeds " +
                                       std::to_string(limits_.max_output_bytes) + " bytes");
      }
    }
  }

 private:
  // Two passes over one tensor: measure its payload, then copy it with or without it.
  Expected<void> tensor(ByteView bytes, std::uint64_t base, std::string& out) {
    std::uint64_t payload = 0;
    {
      pb::Reader reader(bytes, base, /*allow_groups=*/true);
      Field f;
      for (;;) {
        auto more = reader.next(f);
        if (!more) return more.error();
        if (!*more) break;
        if (is_tensor_payload(f.number)) payload += reader.position() - f.offset;
      }
    }
    const bool strip = payload > limits_.keep_payload_bytes;
    if (strip) {
      ++stats_.tensors_stripped;
      stats_.bytes_stripped += payload;
    }
    pb::Reader reader(bytes, base, /*allow_groups=*/true);
    Field f;
    for (;;) {
      auto more = reader.next(f);
      if (!more) return more.error();
      if (!*more) return {};
      if (strip && is_tensor_payload(f.number)) continue;
      append_bytes(out, raw_field(bytes, base, f, reader.position()));
    }
  }

  const StripLimits& limits_;
  StripStats& stats_;
};

// The first field of a GraphProto: node, name, initializer, doc_string, input, output,
// value_info, quantization_annotation, sparse_initializer, or a newer field; all length-delimited.
bool opens_like_graph(ByteView graph) {
  pb::Reader reader(graph);
  Field f;
  auto more = reader.next(f);
  if (!more || !*more || f.type != WireType::len) return false;
  const std::uint32_t n = f.number;
  return n == 1 || n == 2 || n == 5 || (n >= 10 && n <= 16) || n > 16;
}

enum class TopField : std::uint8_t { varint, len, unknown };

TopField model_field_type(std::uint32_t number) {
  switch (number) {
    case 1:  // ir_version
    case 5:  // model_version
      return TopField::varint;
    case 2:   // producer_name
    case 3:   // producer_version
    case 4:   // domain
    case 6:   // doc_string
    case 7:   // graph
    case 8:   // opset_import
    case 14:  // metadata_props
    case 20:  // training_info
    case 25:  // functions
      return TopField::len;
    default:
      return TopField::unknown;
  }
}

}  // namespace

bool looks_like_model(ByteView data) {
  if (data.size() < 4) return false;
  pb::Reader reader(data);
  Field f;
  bool ir_version = false;
  bool graph = false;
  for (std::size_t i = 0; i < kMaxTopLevelFields; ++i) {
    auto more = reader.next(f);
    if (!more) return false;
    if (!*more) break;
    const TopField want = model_field_type(f.number);
    if (want == TopField::varint && f.type != WireType::varint) return false;
    if (want == TopField::len && f.type != WireType::len) return false;
    if (want == TopField::unknown && f.number < 26) return false;
    if (f.number == 1) {
      if (f.varint == 0 || f.varint > kMaxIrVersion) return false;
      ir_version = true;
    } else if (f.number == 7) {
      if (!opens_like_graph(f.bytes)) return false;
      graph = true;
    }
  }
  return ir_version && graph;
}

Expected<std::string> strip_tensor_payloads(ByteView model, const StripLimits& limits,
                                            StripStats& stats) {
  std::string out;
  Stripper stripper(limits, stats);
  if (auto r = stripper.message(model, 0, Kind::model, 0, out); !r) return r.error();
  return out;
}

}  // namespace mlsc::scan::onnx_wire
