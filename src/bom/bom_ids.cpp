#include "bom_ids.hpp"

#include <openssl/rand.h>
#include <algorithm>

#include <array>
#include <ctime>

#include "mlsc/bom/writer.hpp"
#include "mlsc/sign/hashing.hpp"

namespace mlsc::bom {

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

int days_in_month(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[static_cast<std::size_t>(month - 1)];
}

}  // namespace

Expected<std::string> normalize_timestamp(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z — UTC only, so every consumer reads the same instant.
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  const bool shape = text.size() >= 20 && digits(text, 0, 4, year) && text[4] == '-' &&
                     digits(text, 5, 2, month) && text[7] == '-' && digits(text, 8, 2, day) &&
                     (text[10] == 'T' || text[10] == 't') && digits(text, 11, 2, hour) &&
                     text[13] == ':' && digits(text, 14, 2, minute) && text[16] == ':' &&
                     digits(text, 17, 2, second);
  if (!shape) return Error("timestamp must look like 2024-05-01T12:00:00Z");
  std::size_t pos = 19;
  if (text[pos] == '.') {
    ++pos;
    int ignored = 0;
    while (pos < text.size() && digits(text, pos, 1, ignored)) ++pos;
  }
  if (pos + 1 != text.size() || (text[pos] != 'Z' && text[pos] != 'z'))
    return Error("timestamp must be UTC and end in 'Z'");
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
      minute > 59 || second > 59)
    return Error("timestamp is not a valid date and time");
  return std::string(text.substr(0, 19)) + "Z";
}

namespace detail {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf.data();
}

std::string make_uuid(std::string_view seed) {
  std::array<std::uint8_t, 16> b{};
  std::string fallback;
  if (seed.empty() && RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    // No randomness available: derive from the clock so the id still differs run to run.
    fallback = utc_now() + "/" + std::to_string(std::clock());
    seed = fallback;
  }
  unsigned version = 4;
  if (!seed.empty()) {
    auto digest = sign::hash_bytes(sign::HashType::sha256, as_bytes(seed));
    if (digest) std::copy_n(digest->bytes.begin(), b.size(), b.begin());
    version = 8;
  }
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0FU) | (version << 4));
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3FU) | 0x80U);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0xF];
  }
  return out;
}

}  // namespace detail
}  // namespace mlsc::bom
