// Text decoders the pickle VM needs, each written to match the CPython routine it stands in
// for (named in the comment), because a scanner that decodes a string differently from the
// loader can be shown one name while the loader imports another.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mlsc::scan::pickle::text {

// UTF-8 as PyUnicode_DecodeUTF8 accepts it; `surrogatepass` also admits encoded U+D800..DFFF
// (BINUNICODE uses it, GLOBAL does not).
bool valid_utf8(std::string_view s, bool surrogatepass);
bool is_ascii(std::string_view s);
// A dotted Python identifier path ("os.path.join"). `non_ascii` admits bytes >= 0x80 as
// identifier characters (Python 3 identifiers may be Unicode; the check stays byte-level).
bool identifier_path(std::string_view s, bool non_ascii);
// Latin-1 bytes as UTF-8 (each byte is one code point), for str values the VM must spell.
std::string latin1_to_utf8(std::string_view s);
// UTF-8 (with surrogates) back to Latin-1 bytes; nullopt when a code point is over 0xFF.
std::optional<std::string> utf8_to_latin1(std::string_view s);

// The outcome of a decoder: the text, or CPython's error message.
struct Decoded {
  std::string text;
  std::string error;  // empty when decoding succeeded
};

// PyBytes_DecodeEscape: the protocol-0 STRING escapes (\x, octal, \n, ...).
Decoded decode_escape(std::string_view s);
// PyUnicode_DecodeRawUnicodeEscape: the UNICODE opcode's argument; result is UTF-8.
Decoded decode_raw_unicode_escape(std::string_view s);

// An integer as CPython parses it. `small` holds it when it fits in 64 bits; otherwise
// `big` keeps the digits (sign included) for display.
struct Integer {
  bool ok = false;
  std::string error;
  bool fits = false;
  std::int64_t small = 0;
  std::string big;
  // True when CPython >= 3.11 raises here because of the 4300-digit limit on decimal
  // conversions (older versions accept it).
  bool over_digit_limit = false;
};

// PyLong_FromString(s, NULL, base) for base 0 (Python literal rules) or 10 (int() rules):
// whitespace around, sign, underscores between digits. `s` ends at its first NUL, as the C
// string the unpickler hands over does.
Integer parse_pylong(std::string_view s, int base);
// load_int: strtol(s, &end, 0) first (C rules: octal "010", no underscores), then the
// PyLong_FromString fallback. `line` is the line without its newline.
Integer parse_int_opcode(std::string_view line);

// PyOS_string_to_double as load_float uses it; nullopt plus `error` on failure.
std::optional<double> parse_float(std::string_view line, std::string& error);

// Python-style repr of str (UTF-8) and bytes, cut at `max_chars` with "...".
std::string repr_str(std::string_view utf8, std::size_t max_chars);
std::string repr_bytes(std::string_view bytes, std::size_t max_chars);

// Strict transport decoders for nested-payload detection.
std::optional<std::string> decode_base64(std::string_view s);  // standard or URL-safe
std::optional<std::string> decode_hex(std::string_view s);
bool looks_base64(std::string_view s);
bool looks_hex(std::string_view s);

}  // namespace mlsc::scan::pickle::text
