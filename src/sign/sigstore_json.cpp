#include "sigstore_json.hpp"

#include <chrono>
#include <limits>

#include "mlsc/core/base64.hpp"
#include "mlsc/core/json_depth.hpp"

namespace mlsc::sign::sigstore_json {
namespace {

std::string join(const std::string& path, std::string_view key) {
  std::string out = path;
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

const char* type_name(const Json& j) {
  return j.type_name();
}

bool two_digits(std::string_view s, std::size_t at, int& out) {
  if (at + 2 > s.size() || s[at] < '0' || s[at] > '9' || s[at + 1] < '0' || s[at + 1] > '9')
    return false;
  out = (s[at] - '0') * 10 + (s[at + 1] - '0');
  return true;
}

}  // namespace

const Json* optional_member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Expected<const Json*> required_member(const Json& obj, std::string_view key,
                                      const std::string& path) {
  if (!obj.is_object()) return Error{path + ": expected an object, found " + type_name(obj)};
  const Json* m = optional_member(obj, key);
  if (m == nullptr) return Error{join(path, key) + ": missing"};
  return m;
}

Expected<const Json*> required_object(const Json& obj, std::string_view key,
                                      const std::string& path) {
  auto m = required_member(obj, key, path);
  if (!m) return m.error();
  if (!(*m)->is_object())
    return Error{join(path, key) + ": expected an object, found " + type_name(**m)};
  return *m;
}

Expected<const Json*> required_array(const Json& obj, std::string_view key, const std::string& path,
                                     std::size_t max_items) {
  auto m = required_member(obj, key, path);
  if (!m) return m.error();
  if (!(*m)->is_array())
    return Error{join(path, key) + ": expected an array, found " + type_name(**m)};
  if ((*m)->size() > max_items) {
    return Error{join(path, key) + ": " + std::to_string((*m)->size()) +
                 " items exceeds the limit of " + std::to_string(max_items)};
  }
  return *m;
}

Expected<std::string_view> required_string(const Json& obj, std::string_view key,
                                           const std::string& path, std::size_t max_chars) {
  auto m = required_member(obj, key, path);
  if (!m) return m.error();
  if (!(*m)->is_string())
    return Error{join(path, key) + ": expected a string, found " + type_name(**m)};
  const auto& s = (*m)->get_ref<const std::string&>();
  if (s.size() > max_chars) {
    return Error{join(path, key) + ": " + std::to_string(s.size()) +
                 " characters exceeds the limit of " + std::to_string(max_chars)};
  }
  return std::string_view(s);
}

Expected<std::vector<std::uint8_t>> decode_bytes(std::string_view text, const std::string& path,
                                                 std::size_t max_bytes) {
  Base64Options opts;
  opts.max_input = max_bytes / 3 * 4 + 4;
  auto bytes = base64_decode(text, opts);
  if (!bytes) return Error{path + ": " + bytes.error().describe()};
  if (bytes->size() > max_bytes) {
    return Error{path + ": " + std::to_string(bytes->size()) + " bytes exceeds the limit of " +
                 std::to_string(max_bytes)};
  }
  return bytes;
}

Expected<std::vector<std::uint8_t>> required_bytes(const Json& obj, std::string_view key,
                                                   const std::string& path, std::size_t max_bytes) {
  auto s = required_string(obj, key, path, max_bytes / 3 * 4 + 4);
  if (!s) return s.error();
  return decode_bytes(*s, join(path, key), max_bytes);
}

Expected<std::int64_t> parse_decimal(std::string_view text, const std::string& path) {
  if (text.empty() || text.size() > 19) return Error{path + ": not a non-negative 64-bit integer"};
  if (text.size() > 1 && text[0] == '0') return Error{path + ": leading zero in integer"};
  std::int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return Error{path + ": not a non-negative 64-bit integer"};
    const int d = c - '0';
    if (v > (std::numeric_limits<std::int64_t>::max() - d) / 10)
      return Error{path + ": integer overflows int64"};
    v = v * 10 + d;
  }
  return v;
}

Expected<std::int64_t> required_int64(const Json& obj, std::string_view key,
                                      const std::string& path) {
  auto m = required_member(obj, key, path);
  if (!m) return m.error();
  const Json& j = **m;
  if (j.is_number_unsigned()) {
    const auto u = j.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return Error{join(path, key) + ": integer overflows int64"};
    }
    return static_cast<std::int64_t>(u);
  }
  if (j.is_number_integer()) {
    const auto v = j.get<std::int64_t>();
    if (v < 0) return Error{join(path, key) + ": negative"};
    return v;
  }
  if (j.is_string()) return parse_decimal(j.get_ref<const std::string&>(), join(path, key));
  return Error{join(path, key) + ": expected an integer, found " + type_name(j)};
}

Expected<std::int64_t> parse_rfc3339(std::string_view s, const std::string& path) {
  const auto bad = [&] {
    return Error{path + ": not an RFC 3339 timestamp: '" + std::string(s.substr(0, 40)) + "'"};
  };
  int c = 0, yy = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (s.size() < 20 || s.size() > 40 || !two_digits(s, 0, c) || !two_digits(s, 2, yy) ||
      s[4] != '-' || !two_digits(s, 5, mo) || s[7] != '-' || !two_digits(s, 8, d) ||
      (s[10] != 'T' && s[10] != 't') || !two_digits(s, 11, h) || s[13] != ':' ||
      !two_digits(s, 14, mi) || s[16] != ':' || !two_digits(s, 17, se)) {
    return bad();
  }
  std::size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    const std::size_t digits_start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == digits_start) return bad();
  }
  int offset_seconds = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (!two_digits(s, pos + 1, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !two_digits(s, pos + 4, om) || oh > 23 || om > 59) {
      return bad();
    }
    offset_seconds = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  using namespace std::chrono;
  const year_month_day ymd{year{c * 100 + yy}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return bad();
  const std::int64_t days = sys_days{ymd}.time_since_epoch().count();
  return days * 86400 + h * 3600 + mi * 60 + std::min(se, 59) - offset_seconds;
}

std::string to_hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

Expected<Json> parse_bounded(std::string_view text, const std::string& what, std::size_t max_bytes,
                             int max_depth) {
  if (text.size() > max_bytes) {
    return Error{what + ": " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                 std::to_string(max_bytes)};
  }
  if (json_too_deep_at(text, static_cast<std::size_t>(max_depth))) {
    return Error{what + ": JSON nested deeper than " + std::to_string(max_depth) + " levels"};
  }
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error{what + ": not valid JSON"};
  return j;
}

}  // namespace mlsc::sign::sigstore_json
