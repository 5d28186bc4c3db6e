// Magic-number tests shared by the container scanners, so that the zip scanner (which also
// accepts a zip found only by its end record) can leave tar and 7z files to the archive scanner
// even when their last member is a zip.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "mlsc/core/bytes.hpp"

namespace mlsc::scan::magic {

inline constexpr std::array<std::uint8_t, 6> k7z = {'7', 'z', 0xBC, 0xAF, 0x27, 0x1C};
inline constexpr std::size_t kTarBlock = 512;

inline bool is_7z(ByteView data) {
  return data.size() >= k7z.size() && std::equal(k7z.begin(), k7z.end(), data.begin());
}

// POSIX and GNU tar put a header checksum at 148: the sum of the header bytes with the
// checksum field counted as spaces. Python's tarfile.is_tarfile accepts on that alone.
inline bool tar_checksum_ok(ByteView data) {
  if (data.size() < kTarBlock || data[0] == 0) return false;
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < kTarBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : data[i];
  std::size_t i = 148;
  while (i < 156 && data[i] == ' ') ++i;
  const std::size_t digits = i;
  std::uint64_t stored = 0;
  for (; i < 156 && data[i] >= '0' && data[i] <= '7'; ++i) stored = stored * 8 + (data[i] - '0');
  if (i == digits || (i < 156 && data[i] != 0 && data[i] != ' ')) return false;
  return stored == sum;
}

inline bool is_tar(ByteView data) {
  const auto ustar = slice(data, 257, 5);
  return (ustar && as_chars(*ustar) == "ustar") || tar_checksum_ok(data);
}

}  // namespace mlsc::scan::magic
