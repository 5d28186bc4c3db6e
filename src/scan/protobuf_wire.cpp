#include "protobuf_wire.hpp"

#include <string>

namespace mlsc::scan::pb {

namespace {

constexpr std::uint64_t kMaxFieldNumber = (1U << 29) - 1;
constexpr std::uint32_t kMaxGroupNesting = 32;

}  // namespace

Expected<std::uint64_t> Reader::varint() {
  std::uint64_t v = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (pos_ >= data_.size()) return Error::at(base_ + pos_, "protobuf varint runs past the end");
    const std::uint8_t b = data_[pos_++];
    if (shift == 63 && b > 1) return Error::at(base_ + pos_ - 1, "protobuf varint over 64 bits");
    v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return v;
  }
  return Error::at(base_ + pos_, "protobuf varint longer than 10 bytes");
}

Expected<void> Reader::skip_group(std::uint32_t number) {
  std::uint32_t open[kMaxGroupNesting];
  std::uint32_t depth = 0;
  open[depth++] = number;
  while (depth > 0) {
    const std::uint64_t tag_at = base_ + pos_;
    auto tag = varint();
    if (!tag) return tag.error();
    const auto type = static_cast<std::uint32_t>(*tag & 7);
    const std::uint64_t field = *tag >> 3;
    if (field == 0 || field > kMaxFieldNumber) {
      return Error::at(tag_at, "protobuf field number " + std::to_string(field) + " is invalid");
    }
    std::uint64_t skip = 0;
    if (type == 0) {
      if (auto v = varint(); !v) return v.error();
    } else if (type == 1 || type == 5) {
      skip = type == 1 ? 8 : 4;
    } else if (type == 2) {
      auto len = varint();
      if (!len) return len.error();
      skip = *len;
    } else if (type == 3) {
      if (depth == kMaxGroupNesting) return Error::at(tag_at, "protobuf groups nested too deep");
      open[depth++] = static_cast<std::uint32_t>(field);
    } else if (type == 4) {
      if (open[depth - 1] != field) return Error::at(tag_at, "unbalanced protobuf group end");
      --depth;
    } else {
      return Error::at(tag_at, "protobuf wire type " + std::to_string(type) + " is invalid");
    }
    if (skip > data_.size() - pos_)
      return Error::at(tag_at, "protobuf field runs past its message");
    pos_ += static_cast<std::size_t>(skip);
  }
  return {};
}

Expected<bool> Reader::next(Field& f) {
  if (pos_ >= data_.size()) return false;
  f = Field{};
  f.offset = base_ + pos_;
  auto tag = varint();
  if (!tag) return tag.error();
  const std::uint64_t number = *tag >> 3;
  const auto type = static_cast<std::uint8_t>(*tag & 7);
  if (number == 0 || number > kMaxFieldNumber) {
    return Error::at(f.offset, "protobuf field number " + std::to_string(number) + " is invalid");
  }
  f.number = static_cast<std::uint32_t>(number);
  f.type = static_cast<WireType>(type);
  const std::size_t value_at = pos_;
  std::uint64_t len = 0;
  switch (f.type) {
    case WireType::varint: {
      auto v = varint();
      if (!v) return v.error();
      f.varint = *v;
      return true;
    }
    case WireType::i64:
    case WireType::i32:
      len = f.type == WireType::i64 ? 8 : 4;
      break;
    case WireType::len: {
      auto n = varint();
      if (!n) return n.error();
      len = *n;
      break;
    }
    case WireType::group_start:
      if (!allow_groups_) {
        return Error::at(f.offset, "protobuf group in field " + std::to_string(number));
      }
      if (auto skipped = skip_group(f.number); !skipped) return skipped.error();
      f.payload_offset = base_ + value_at;
      f.bytes = data_.subspan(value_at, pos_ - value_at);
      return true;
    default:
      return Error::at(f.offset, "protobuf wire type " + std::to_string(type) + " in field " +
                                     std::to_string(number));
  }
  if (len > data_.size() - pos_) {
    return Error::at(f.offset, "protobuf field " + std::to_string(number) + " declares " +
                                   std::to_string(len) + " bytes but only " +
                                   std::to_string(data_.size() - pos_) + " are left");
  }
  f.payload_offset = base_ + pos_;
  f.bytes = data_.subspan(pos_, static_cast<std::size_t>(len));
  if (f.type != WireType::len) {
    for (std::size_t i = 0; i < len; ++i)
      f.varint |= static_cast<std::uint64_t>(f.bytes[i]) << (8 * i);
  }
  pos_ += static_cast<std::size_t>(len);
  return true;
}

}  // namespace mlsc::scan::pb
