#include "scan/pickle_text.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>

namespace mlsc::scan::pickle::text {

namespace {

constexpr std::size_t kMaxStrDigits = 4300;  // sys.int_info.default_max_str_digits (3.11+)

bool py_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {  // surrogates too, as CPython's surrogatepass writes them
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes one UTF-8 sequence at s[i]; returns its length (0 when invalid) and the code point.
std::size_t utf8_next(std::string_view s, std::size_t i, bool surrogatepass, std::uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t len = 0;
  std::uint32_t min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF && !surrogatepass) return 0;
  return len;
}

}  // namespace

bool valid_utf8(std::string_view s, bool surrogatepass) {
  std::size_t i = 0;
  while (i < s.size()) {
    // Fast path: ASCII runs dominate real pickles.
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    std::uint32_t cp = 0;
    const auto n = utf8_next(s, i, surrogatepass, cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

bool is_ascii(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) append_utf8(out, static_cast<unsigned char>(c));
  return out;
}

std::optional<std::string> utf8_to_latin1(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    std::uint32_t cp = 0;
    const auto n = utf8_next(s, i, true, cp);
    if (n == 0 || cp > 0xFF) return std::nullopt;
    out += static_cast<char>(cp);
    i += n;
  }
  return out;
}

Decoded decode_escape(std::string_view s) {
  Decoded d;
  d.text.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] != '\\') {
      d.text += s[i++];
      continue;
    }
    ++i;
    if (i == s.size()) {
      d.error = "ValueError: Trailing \\ in string";
      return d;
    }
    const char c = s[i++];
    switch (c) {
      case '\n':
        break;
      case '\\':
        d.text += '\\';
        break;
      case '\'':
        d.text += '\'';
        break;
      case '"':
        d.text += '"';
        break;
      case 'b':
        d.text += '\b';
        break;
      case 'f':
        d.text += '\f';
        break;
      case 't':
        d.text += '\t';
        break;
      case 'n':
        d.text += '\n';
        break;
      case 'r':
        d.text += '\r';
        break;
      case 'v':
        d.text += '\v';
        break;
      case 'a':
        d.text += '\a';
        break;
      case 'x':
        if (i + 1 < s.size() && digit_value(s[i]) < 16 && digit_value(s[i + 1]) < 16) {
          d.text += static_cast<char>(digit_value(s[i]) * 16 + digit_value(s[i + 1]));
          i += 2;
          break;
        }
        d.error = "ValueError: invalid \\x escape at position " + std::to_string(i - 2);
        return d;
      default:
        if (c >= '0' && c <= '7') {
          // Up to three octal digits; CPython keeps the low 8 bits of larger values.
          unsigned v = static_cast<unsigned>(c - '0');
          for (int k = 0; k < 2 && i < s.size() && s[i] >= '0' && s[i] <= '7'; ++k) {
            v = v * 8 + static_cast<unsigned>(s[i++] - '0');
          }
          d.text += static_cast<char>(v & 0xFF);
        } else {
          d.text += '\\';  // unknown escapes stay as written
          --i;
        }
    }
  }
  return d;
}

Decoded decode_raw_unicode_escape(std::string_view s) {
  Decoded d;
  d.text.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i++]);
    if (c != '\\' || i >= s.size()) {
      append_utf8(d.text, c);
      continue;
    }
    const char kind = s[i++];
    if (kind != 'u' && kind != 'U') {
      d.text += '\\';
      append_utf8(d.text, static_cast<unsigned char>(kind));
      continue;
    }
    const std::size_t count = kind == 'u' ? 4 : 8;
    std::uint32_t cp = 0;
    for (std::size_t k = 0; k < count; ++k, ++i) {
      if (i >= s.size() || digit_value(s[i]) >= 16) {
        d.error = std::string("UnicodeDecodeError: 'rawunicodeescape' codec can't decode: ") +
                  (kind == 'u' ? "truncated \\uXXXX escape" : "truncated \\UXXXXXXXX escape");
        return d;
      }
      cp = (cp << 4) | static_cast<std::uint32_t>(digit_value(s[i]));
    }
    if (cp > 0x10FFFF) {
      d.error =
          "UnicodeDecodeError: 'rawunicodeescape' codec can't decode: \\Uxxxxxxxx out of range";
      return d;
    }
    append_utf8(d.text, cp);
  }
  return d;
}

namespace {

// Accumulates digits in `base` into an int64 magnitude while it fits.
struct Accumulator {
  int base = 10;
  std::uint64_t magnitude = 0;
  bool overflow = false;
  std::size_t digits = 0;

  void add(int d) {
    ++digits;
    if (overflow) return;
    const auto b = static_cast<std::uint64_t>(base);
    if (magnitude >
        (std::numeric_limits<std::uint64_t>::max() - static_cast<std::uint64_t>(d)) / b) {
      overflow = true;
      return;
    }
    magnitude = magnitude * b + static_cast<std::uint64_t>(d);
  }
};

Integer finish(bool negative, const Accumulator& acc, std::string_view digits_text) {
  Integer r;
  r.ok = true;
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!acc.overflow && (acc.magnitude <= kMax || (negative && acc.magnitude == kMax + 1))) {
    r.fits = true;
    r.small = negative ? static_cast<std::int64_t>(0 - acc.magnitude)
                       : static_cast<std::int64_t>(acc.magnitude);
    return r;
  }
  r.big = (negative ? "-" : "") + std::string(digits_text);
  return r;
}

Integer invalid_literal(std::string_view s, int base) {
  Integer r;
  r.error = "ValueError: invalid literal for int() with base " + std::to_string(base) + ": " +
            repr_str(s, 60);
  return r;
}

}  // namespace

Integer parse_pylong(std::string_view s, int base) {
  const auto nul = s.find('\0');
  if (nul != std::string_view::npos) s = s.substr(0, nul);
  std::size_t i = 0;
  while (i < s.size() && py_space(s[i])) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  const std::size_t body = i;
  bool zeros_only = false;  // base 0 with a leading 0 and no prefix: "0", "00", "0_0"
  bool after_prefix = false;
  if (base == 0) {
    base = 10;
    if (i + 1 < s.size() && s[i] == '0') {
      const char p = static_cast<char>(s[i + 1] | 0x20);
      if (p == 'x' || p == 'o' || p == 'b') {
        base = p == 'x' ? 16 : p == 'o' ? 8 : 2;
        i += 2;
        after_prefix = true;
      } else {
        zeros_only = true;
      }
    } else if (i < s.size() && s[i] == '0') {
      zeros_only = true;
    }
  }
  Accumulator acc{base};
  const std::size_t digits_start = i;
  // Underscores go between digits; one may follow a base prefix ("0x_1f").
  bool last_underscore = false;
  bool any_digit = false;
  for (; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (last_underscore || (!any_digit && !after_prefix)) return invalid_literal(s, base);
      last_underscore = true;
      continue;
    }
    const int d = digit_value(s[i]);
    if (d >= base) break;
    if (zeros_only && d != 0) return invalid_literal(s, 0);
    acc.add(d);
    any_digit = true;
    last_underscore = false;
  }
  if (!any_digit || last_underscore) return invalid_literal(s, base);
  const std::size_t digits_end = i;
  while (i < s.size() && py_space(s[i])) ++i;
  if (i != s.size()) return invalid_literal(s, base);
  const bool power_of_two = base == 2 || base == 8 || base == 16;
  std::string digits;
  for (std::size_t k = (base == 10 ? digits_start : body); k < digits_end; ++k) {
    if (s[k] != '_') digits += s[k];
  }
  Integer r = finish(negative, acc, digits);
  if (!power_of_two && acc.digits > kMaxStrDigits) r.over_digit_limit = true;
  return r;
}

Integer parse_int_opcode(std::string_view line) {
  // strtol(s, &end, 0) on the NUL-terminated line "<line>\n".
  std::string_view s = line;
  const auto nul = s.find('\0');
  const bool cut = nul != std::string_view::npos;
  if (cut) s = s.substr(0, nul);
  std::size_t i = 0;
  while (i < s.size() && py_space(s[i])) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  int base = 10;
  if (i < s.size() && s[i] == '0') {
    if (i + 2 < s.size() && (s[i + 1] | 0x20) == 'x' && digit_value(s[i + 2]) < 16) {
      base = 16;
      i += 2;
    } else {
      base = 8;
    }
  }
  Accumulator acc{base};
  const std::size_t digits_start = i;
  while (i < s.size() && digit_value(s[i]) < base) acc.add(digit_value(s[i++]));
  // The byte after the digits must be the newline or the string's end (NUL). With no digits
  // strtol leaves its end pointer at the very start, so only an empty C string passes.
  const bool clean_end = acc.digits > 0 ? i == s.size() : s.empty();
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<long>::max());
  const bool in_range =
      !acc.overflow && (acc.magnitude <= kMax || (negative && acc.magnitude == kMax + 1));
  if (clean_end && in_range) {
    return finish(negative, acc, s.substr(digits_start, i - digits_start));
  }
  return parse_pylong(line, 0);
}

std::optional<double> parse_float(std::string_view line, std::string& error) {
  std::string_view s = line;
  const auto nul = s.find('\0');
  if (nul != std::string_view::npos) s = s.substr(0, nul);
  std::size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  auto rest_is = [&](std::string_view word) {
    if (s.size() - i != word.size()) return false;
    for (std::size_t k = 0; k < word.size(); ++k) {
      if ((s[i + k] | 0x20) != word[k]) return false;
    }
    return true;
  };
  if (rest_is("inf") || rest_is("infinity")) {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  if (rest_is("nan")) return std::numeric_limits<double>::quiet_NaN();
  // Decimal only: digits [. digits] [e [sign] digits], as _Py_dg_strtod accepts.
  const std::size_t start = i;
  std::size_t mantissa = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++mantissa;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++mantissa;
  }
  if (mantissa > 0 && i < s.size() && (s[i] | 0x20) == 'e') {
    std::size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    const std::size_t exp_digits = j;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    if (j > exp_digits) i = j;
  }
  if (mantissa == 0 || i != s.size()) {
    error = "ValueError: could not convert string to float";
    return std::nullopt;
  }
  double value = 0;
  const auto res = std::from_chars(s.data() + start, s.data() + i, value);
  if (res.ec == std::errc::result_out_of_range) {
    // Overflow raises; underflow quietly gives zero.
    bool big = false;
    for (std::size_t k = start; k < i && (s[k] | 0x20) != 'e'; ++k) {
      if (s[k] >= '1' && s[k] <= '9') big = true;
    }
    const auto e = s.find_first_of("eE", start);
    if (big && (e == std::string_view::npos || e + 1 >= s.size() || s[e + 1] != '-')) {
      error = "OverflowError: value too large to convert to float";
      return std::nullopt;
    }
    value = 0;
  }
  return negative ? -value : value;
}

std::string repr_str(std::string_view utf8, std::size_t max_chars) {
  std::string out = "'";
  std::size_t shown = 0;
  std::size_t i = 0;
  constexpr char kHex[] = "0123456789abcdef";
  while (i < utf8.size()) {
    if (shown >= max_chars) {
      out += "...";
      break;
    }
    std::uint32_t cp = 0;
    std::size_t n = utf8_next(utf8, i, true, cp);
    if (n == 0) cp = static_cast<unsigned char>(utf8[i]), n = 1;
    if (cp == '\\' || cp == '\'') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
      out += "\\x";
      out += kHex[cp >> 4];
      out += kHex[cp & 0xF];
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      out += "\\u";
      for (int k = 12; k >= 0; k -= 4) out += kHex[(cp >> k) & 0xF];
    } else {
      out.append(utf8.substr(i, n));
    }
    i += n;
    ++shown;
  }
  out += '\'';
  return out;
}

std::string repr_bytes(std::string_view bytes, std::size_t max_chars) {
  std::string out = "b'";
  constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i >= max_chars) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\\' || c == '\'') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c >= 0x7F) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '\'';
  return out;
}

namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

}  // namespace

bool looks_base64(std::string_view s) {
  std::size_t symbols = 0;
  std::size_t padding = 0;
  for (const char c : s) {
    if (c == '=') {
      ++padding;
    } else if (py_space(c)) {
      continue;
    } else if (base64_value(c) < 0 || padding > 0) {
      return false;
    } else {
      ++symbols;
    }
  }
  return symbols >= 8 && padding <= 2 && (symbols + padding) % 4 != 1;
}

std::optional<std::string> decode_base64(std::string_view s) {
  if (!looks_base64(s)) return std::nullopt;
  std::string out;
  out.reserve(s.size() / 4 * 3 + 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : s) {
    const int v = base64_value(c);
    if (v < 0) continue;  // padding and whitespace, as b64decode(validate=False) skips them
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

bool looks_hex(std::string_view s) {
  if (s.size() < 8 || s.size() % 2 != 0) return false;
  for (const char c : s) {
    if (digit_value(c) >= 16) return false;
  }
  return true;
}

std::optional<std::string> decode_hex(std::string_view s) {
  if (!looks_hex(s)) return std::nullopt;
  std::string out;
  out.reserve(s.size() / 2);
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    out += static_cast<char>(digit_value(s[i]) * 16 + digit_value(s[i + 1]));
  }
  return out;
}

bool identifier_path(std::string_view s, bool non_ascii) {
  if (s.empty()) return false;
  bool start = true;
  for (const char c : s) {
    if (c == '.') {
      if (start) return false;
      start = true;
      continue;
    }
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                       (non_ascii && static_cast<unsigned char>(c) >= 0x80);
    if (!alpha && !(c >= '0' && c <= '9' && !start)) return false;
    start = false;
  }
  return !start;
}

}  // namespace mlsc::scan::pickle::text
