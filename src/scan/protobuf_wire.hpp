// A bounded reader for the protobuf wire format: tags, varints and length-delimited fields over
// a byte view, nothing else. mlsc walks TensorFlow's SavedModel with it instead of linking
// generated classes: the scanner needs a dozen fields of a schema that has hundreds, a hostile
// file must never make it allocate more than it reads, and every error should name an offset.
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
  ByteView bytes;                    // len payload
  std::uint64_t offset = 0;          // absolute offset of the tag
  std::uint64_t payload_offset = 0;  // absolute offset of a len payload
};

class Reader {
 public:
  // `base` is the absolute offset of data[0], so errors and fields point into the whole file.
  explicit Reader(ByteView data, std::uint64_t base = 0) : data_(data), base_(base) {}

  // The next field, or nullopt-like `false` at the end of the message.
  Expected<bool> next(Field& field);

 private:
  Expected<std::uint64_t> varint();

  ByteView data_;
  std::uint64_t base_;
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
