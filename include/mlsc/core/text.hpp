// Small text helpers for messages about attacker-controlled bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mlsc {

// "0x1f": an offset, CRC or flag value as scanners print it.
std::string hex_number(std::uint64_t value);

// Lowercase hex of every byte ("deadbeef").
std::string hex_encode(std::string_view bytes);

// Names are attacker bytes: single-quoted, control characters, quotes and backslashes escaped
// as \xNN, cut after `max_chars` with "...", so a message stays one printable line.
std::string quote_untrusted(std::string_view name, std::size_t max_chars = 200);

// The ASCII whitespace Python's str.strip() removes; the text formats we read (requirements,
// metadata, policies, rule lists) are ASCII-structured, so no locale is consulted.
inline constexpr std::string_view kAsciiSpace = " \t\n\r\f\v";

// `s` without leading and trailing characters from `chars`.
std::string_view trim(std::string_view s, std::string_view chars = kAsciiSpace);

// `s` with A-Z lowered; other bytes (UTF-8 included) unchanged.
std::string ascii_lower(std::string_view s);

// Length of the well-formed UTF-8 sequence at s[i] (i < s.size()), or 0 when there is none:
// no overlong forms, no surrogates, nothing past U+10FFFF (RFC 3629). Names and text must pass
// this before they go into JSON, which cannot carry other bytes losslessly.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);
bool is_valid_utf8(std::string_view s);
// Invalid sequences replaced with U+FFFD, so the text can go into JSON.
std::string sanitize_utf8(std::string_view s);

// At most `max_chars` bytes of `s` with control characters shown as '?', and "..." when cut:
// attacker text quoted in a one-line message.
std::string printable(std::string_view s, std::size_t max_chars);

}  // namespace mlsc
