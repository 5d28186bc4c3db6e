#include "protobuf_wire.hpp"

#include <string>

namespace mlsc::scan::pb {

Expected<std::uint64_t> Reader::varint() {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= data_.size()) return Error::at(base_ + pos_, "protobuf varint runs past the end");
    const std::uint8_t b = data_[pos_++];
    v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return v;
  }
  return Error::at(base_ + pos_, "protobuf varint longer than 10 bytes");
}

Expected<bool> Reader::next(Field& f) {
  if (pos_ >= data_.size()) return false;
  f = Field{};
  f.offset = base_ + pos_;
  auto tag = varint();
  if (!tag) return tag.error();
  const std::uint64_t number = *tag >> 3;
  const auto type = static_cast<std::uint8_t>(*tag & 7);
  if (number == 0 || number > 0x1FFFFFFF) {
    return Error::at(f.offset, "protobuf field number " + std::to_string(number) + " is invalid");
  }
  f.number = static_cast<std::uint32_t>(number);
  f.type = static_cast<WireType>(type);
  switch (f.type) {
    case WireType::varint: {
      auto v = varint();
      if (!v) return v.error();
      f.varint = *v;
      return true;
    }
    case WireType::i64:
    case WireType::i32: {
      const std::size_t n = f.type == WireType::i64 ? 8 : 4;
      if (data_.size() - pos_ < n) return Error::at(f.offset, "protobuf fixed field truncated");
      for (std::size_t i = 0; i < n; ++i)
        f.varint |= static_cast<std::uint64_t>(data_[pos_ + i]) << (8 * i);
      pos_ += n;
      return true;
    }
    case WireType::len: {
      auto n = varint();
      if (!n) return n.error();
      if (*n > data_.size() - pos_) {
        return Error::at(f.offset, "protobuf field " + std::to_string(number) + " declares " +
                                       std::to_string(*n) + " bytes but only " +
                                       std::to_string(data_.size() - pos_) + " are left");
      }
      f.payload_offset = base_ + pos_;
      f.bytes = data_.subspan(pos_, static_cast<std::size_t>(*n));
      pos_ += static_cast<std::size_t>(*n);
      return true;
    }
    default:
      return Error::at(f.offset, "protobuf wire type " + std::to_string(type) +
                                     " (groups or invalid) in field " + std::to_string(number));
  }
}

}  // namespace mlsc::scan::pb
