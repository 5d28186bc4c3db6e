// Bounds-checked views over attacker-controlled bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

namespace mlsc {

using ByteView = std::span<const std::uint8_t>;

inline std::string_view as_chars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Little-endian integer at `off`, or nullopt when it would read past the end.
template <class T>
std::optional<T> load_le(ByteView b, std::uint64_t off) {
  if (off > b.size() || b.size() - off < sizeof(T)) return std::nullopt;
  T v{};
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    v = static_cast<T>(v | (static_cast<T>(b[off + i]) << (8 * i)));
  }
  return v;
}

// `len` bytes at `off`, or nullopt when the range leaves the buffer (overflow-safe).
inline std::optional<ByteView> slice(ByteView b, std::uint64_t off, std::uint64_t len) {
  if (off > b.size() || len > b.size() - off) return std::nullopt;
  return b.subspan(static_cast<std::size_t>(off), static_cast<std::size_t>(len));
}

inline bool starts_with(ByteView b, std::string_view prefix) {
  return b.size() >= prefix.size() && std::memcmp(b.data(), prefix.data(), prefix.size()) == 0;
}

}  // namespace mlsc
