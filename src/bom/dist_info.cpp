// Installed Python distributions: core metadata (METADATA in *.dist-info, PKG-INFO in
// *.egg-info — Debian installs most packages the egg-info way) and the RECORD file.
#include <algorithm>
#include <array>

#include "mlsc/bom/sources.hpp"
#include "mlsc/core/text.hpp"
#include "text_util.hpp"

namespace mlsc::bom {

namespace {

constexpr std::size_t kMaxHeaders = 20000;

struct Header {
  std::string key;  // lowercase
  std::string value;
};

// RFC 822 style headers up to the first blank line; continuation lines start with whitespace.
Expected<std::vector<Header>> read_headers(std::string_view text) {
  std::vector<Header> out;
  std::size_t offset = 0;
  for (const auto line : detail::lines(text)) {
    const auto line_offset = offset;
    offset += line.size() + 1;
    if (detail::trim(line).empty()) break;  // the body (long description) follows
    if (detail::is_space(line.front())) {
      if (out.empty()) return Error::at(line_offset, "continuation line before any header");
      out.back().value += "\n";
      out.back().value += detail::trim(line);
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return Error::at(line_offset, "metadata line is not 'Name: value'");
    if (out.size() >= kMaxHeaders)
      return Error::at(line_offset, "more than 20000 metadata headers");
    out.push_back({ascii_lower(detail::trim(line.substr(0, colon))),
                   std::string(detail::trim(line.substr(colon + 1)))});
  }
  return out;
}

// An unconditional Requires-Dist ("name (>=1) ; python_version < '3.8'" is kept, extras are
// not: they are only installed on request).
void add_requirement(std::string_view value, Package& p) {
  auto r = parse_pep508(value);
  if (!r) return;
  if (r->marker.find("extra") != std::string::npos) return;
  p.requires_names.push_back(r->name);
}

// A "License" field is sometimes the whole license text; only a short one names the license.
bool is_short_license(std::string_view s) {
  return !s.empty() && s.size() <= 120 && s.find('\n') == std::string_view::npos &&
         !detail::iequals(s, "UNKNOWN");
}

}  // namespace

Expected<Package> parse_core_metadata(std::string_view text, const std::string& source) {
  if (text.size() > kMaxTextFile) return Error::at(0, "metadata file larger than 32 MiB");
  auto headers = read_headers(text);
  if (!headers) return headers.error();
  Package p;
  p.source = source;
  std::string license_expression;
  std::string license_classifier;
  for (const auto& [key, value] : *headers) {
    if (key == "name") {
      p.name = value;
    } else if (key == "version") {
      p.version = value;
    } else if (key == "summary") {
      p.summary = detail::bounded(value, 500);
    } else if (key == "license-expression") {
      license_expression = value;
    } else if (key == "license") {
      if (is_short_license(value)) p.license = value;
    } else if (key == "home-page") {
      if (!detail::iequals(value, "UNKNOWN")) p.homepage = value;
    } else if (key == "project-url" && p.homepage.empty()) {
      const auto comma = value.find(',');
      if (comma != std::string::npos &&
          detail::iequals(detail::trim(std::string_view(value).substr(0, comma)), "homepage"))
        p.homepage = std::string(detail::trim(std::string_view(value).substr(comma + 1)));
    } else if (key == "classifier" && value.rfind("License :: ", 0) == 0 &&
               license_classifier.empty()) {
      license_classifier = value.substr(value.rfind(" :: ") + 4);
    } else if (key == "requires-dist") {
      add_requirement(value, p);
    }
  }
  if (!license_expression.empty()) p.license = license_expression;
  if (p.license.empty()) p.license = license_classifier;
  if (p.name.empty()) return Error::at(0, "metadata has no Name header");
  if (p.version.empty()) return Error::at(0, "metadata has no Version header");
  return p;
}

std::vector<std::string> parse_egg_requires(std::string_view text) {
  std::vector<std::string> out;
  for (const auto raw : detail::lines(text.substr(0, kMaxTextFile))) {
    const auto line = detail::trim(raw);
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '[') break;  // extras and marker sections are conditional
    if (auto r = parse_pep508(line)) out.push_back(r->name);
  }
  return out;
}

namespace {

// One CSV field starting at `pos` (RFC 4180 quoting); advances `pos` past the separator.
Expected<std::string> csv_field(std::string_view line, std::size_t& pos) {
  std::string out;
  if (pos < line.size() && line[pos] == '"') {
    ++pos;
    for (;;) {
      if (pos >= line.size()) return Error::at(pos, "unterminated quoted field");
      if (line[pos] == '"') {
        if (pos + 1 < line.size() && line[pos + 1] == '"') {
          out += '"';
          pos += 2;
          continue;
        }
        ++pos;
        break;
      }
      out += line[pos++];
    }
  } else {
    while (pos < line.size() && line[pos] != ',') out += line[pos++];
  }
  if (pos < line.size()) {
    if (line[pos] != ',') return Error::at(pos, "text after a quoted field");
    ++pos;
  }
  return out;
}

bool is_base64url(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
  });
}

// "sha256=<urlsafe base64, no padding>": the digest length must match the algorithm.
bool is_record_hash(std::string_view h) {
  const auto eq = h.find('=');
  if (eq == std::string_view::npos) return false;
  const auto alg = h.substr(0, eq);
  auto b64 = h.substr(eq + 1);
  while (!b64.empty() && b64.back() == '=') b64.remove_suffix(1);
  // Digest bytes per algorithm: base64 without padding takes ceil(4n/3) characters. Debian's
  // installed wheels (dh-python) write lowercase hex instead, 2n characters: accepted too.
  constexpr std::array<std::pair<std::string_view, std::size_t>, 5> kBytes = {
      {{"sha256", 32}, {"sha384", 48}, {"sha512", 64}, {"sha224", 28}, {"sha1", 20}}};
  for (const auto& [name, bytes] : kBytes) {
    if (alg != name) continue;
    if (b64.size() == (4 * bytes + 2) / 3 && is_base64url(b64)) return true;
    return b64.size() == 2 * bytes && std::all_of(b64.begin(), b64.end(), [](char c) {
             return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
  }
  return false;
}

}  // namespace

Expected<std::size_t> parse_record(std::string_view text) {
  if (text.size() > kMaxTextFile) return Error::at(0, "RECORD larger than 32 MiB");
  std::size_t hashed = 0;
  std::size_t offset = 0;
  for (const auto line : detail::lines(text)) {
    const auto line_offset = offset;
    offset += line.size() + 1;
    if (detail::trim(line).empty()) continue;
    std::size_t pos = 0;
    auto path = csv_field(line, pos);
    if (!path)
      return Error::at(line_offset + path.error().offset.value_or(0),
                       "RECORD: " + path.error().message);
    auto hash = csv_field(line, pos);
    if (!hash)
      return Error::at(line_offset + hash.error().offset.value_or(0),
                       "RECORD: " + hash.error().message);
    if (path->empty()) return Error::at(line_offset, "RECORD: entry without a path");
    if (hash->empty()) continue;  // RECORD itself, signatures, .pyc files carry no hash
    if (!is_record_hash(*hash))
      return Error::at(line_offset, "RECORD: malformed hash for " + detail::bounded(*path, 200));
    ++hashed;
  }
  return hashed;
}

}  // namespace mlsc::bom
