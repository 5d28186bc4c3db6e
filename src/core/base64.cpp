#include "mlsc/core/base64.hpp"

#include <array>

namespace mlsc {
namespace {

constexpr std::string_view kStandard =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::uint8_t kInvalid = 0xff;

// Value of each character in either alphabet; '-' and '_' are marked URL-safe by bit 0x40.
constexpr std::array<std::uint8_t, 256> make_table() {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  for (std::size_t i = 0; i < kStandard.size(); ++i) {
    t[static_cast<unsigned char>(kStandard[i])] = static_cast<std::uint8_t>(i);
  }
  t[static_cast<unsigned char>('-')] = 62 | 0x40;
  t[static_cast<unsigned char>('_')] = 63 | 0x40;
  return t;
}
constexpr auto kTable = make_table();

}  // namespace

Expected<std::vector<std::uint8_t>> base64_decode(std::string_view text, Base64Options opts) {
  if (text.size() > opts.max_input) {
    return Error{"base64 text of " + std::to_string(text.size()) +
                 " characters exceeds the limit of " + std::to_string(opts.max_input)};
  }
  std::size_t data_len = text.size();
  while (data_len > 0 && text[data_len - 1] == '=') --data_len;
  const std::size_t padding = text.size() - data_len;
  if (padding > 2) return Error::at(data_len, "base64: too much padding");
  if (data_len % 4 == 1)
    return Error::at(data_len, "base64: truncated (length leaves one character)");
  if (padding > 0 && data_len % 4 + padding != 4)
    return Error::at(data_len, "base64: wrong padding length");
  if (padding == 0 && data_len % 4 != 0 && !opts.allow_unpadded) {
    return Error::at(data_len, "base64: missing padding");
  }

  std::vector<std::uint8_t> out;
  out.reserve(data_len / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < data_len; ++i) {
    std::uint8_t v = kTable[static_cast<unsigned char>(text[i])];
    if (v == kInvalid) return Error::at(i, "base64: invalid character");
    if (v & 0x40) {
      if (!opts.allow_url_safe)
        return Error::at(i, "base64: URL-safe character in standard base64");
      v &= 0x3f;
    }
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  if (acc != 0) return Error::at(data_len - 1, "base64: non-zero trailing bits");
  return out;
}

std::string base64_encode(ByteView bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v =
        (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out += kStandard[v >> 18];
    out += kStandard[(v >> 12) & 63];
    out += kStandard[(v >> 6) & 63];
    out += kStandard[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = std::uint32_t{bytes[i]} << 16;
    out += kStandard[v >> 18];
    out += kStandard[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8);
    out += kStandard[v >> 18];
    out += kStandard[(v >> 12) & 63];
    out += kStandard[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

}  // namespace mlsc
