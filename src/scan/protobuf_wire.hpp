// A bounded reader for the protobuf wire format: tags, varints, fixed and length-delimited
// fields over a byte view, nothing else. The TensorFlow and ONNX scanners walk their files with
// it instead of generated classes where those cannot be trusted with the input: a scanner needs
// a dozen fields of schemas that have hundreds, a hostile file must never make it allocate more
// than it reads (a model's weights would otherwise be copied into strings, and hit protobuf's
// 2 GB message limit), and every error should name an offset in the file.
#pragma once

#include <cstdint>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"

namespace mlsc::scan::pb {

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
  std::uint64_t varint = 0;          // varint, i64 and i32 values
  ByteView bytes;                    // the value's bytes: len payload, fixed bytes, whole group
  std::uint64_t offset = 0;          // absolute offset of the tag
  std::uint64_t payload_offset = 0;  // absolute offset of `bytes`
};

class Reader {
 public:
  // `base` is the absolute offset of data[0], so errors and fields point into the whole file.
  // `allow_groups`: accept the deprecated group encoding, returned as one group_start field
  // whose bytes run to its matching end. Skipping a group reads up to its end, so cheap content
  // tests refuse groups instead.
  explicit Reader(ByteView data, std::uint64_t base = 0, bool allow_groups = false)
      : data_(data), base_(base), allow_groups_(allow_groups) {}

  // The next field; false at the end of the message; an Error on malformed input (truncated
  // varint or value, field number 0 or above 2^29-1, unknown wire type, unbalanced group).
  Expected<bool> next(Field& field);
  // Absolute offset just past the last field read.
  std::uint64_t position() const { return base_ + pos_; }

 private:
  Expected<std::uint64_t> varint();
  Expected<void> skip_group(std::uint32_t number);

  ByteView data_;
  std::uint64_t base_;
  bool allow_groups_;
  std::size_t pos_ = 0;
};

// True when every field of `data` parses and matches `accept(number, type)`; the whole message
// must be consumed. For content recognition.
template <class Accept>
bool all_fields(ByteView data, Accept accept, std::size_t max_fields = 1U << 20) {
  Reader r(data);
  Field f;
  for (std::size_t n = 0; n < max_fields; ++n) {
    auto more = r.next(f);
    if (!more) return false;
    if (!*more) return true;
    if (!accept(f)) return false;
  }
  return false;
}

}  // namespace mlsc::scan::pb
