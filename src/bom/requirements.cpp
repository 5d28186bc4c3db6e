// PEP 508 dependency specifiers and pip requirements files (the subset of pip's syntax that
// names packages: requirement lines, -r/-c includes, -e, index options, per-line --hash).
#include <algorithm>
#include <cctype>

#include "mlsc/bom/sources.hpp"
#include "mlsc/core/text.hpp"
#include "text_util.hpp"

namespace mlsc::bom {

namespace {

using detail::trim;

constexpr std::size_t kMaxRequirementLine = 64U << 10;
constexpr std::size_t kMaxRequirementLines = 200000;

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
}

// A project name per PEP 508: starts and ends with a letter or digit.
bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > 200) return false;
  if (std::isalnum(static_cast<unsigned char>(name.front())) == 0) return false;
  if (std::isalnum(static_cast<unsigned char>(name.back())) == 0) return false;
  return std::all_of(name.begin(), name.end(), is_name_char);
}

bool is_version_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '*' || c == '+' ||
         c == '!' || c == '-' || c == '_';
}

// Parses "[a, b]" at `s` (s starts with '['); advances `pos` past it.
Expected<std::vector<std::string>> parse_extras(std::string_view s, std::size_t& pos) {
  const auto close = s.find(']', pos);
  if (close == std::string_view::npos) return Error::at(pos, "unterminated extras list");
  std::vector<std::string> extras;
  for (const auto part : detail::split(s.substr(pos + 1, close - pos - 1), ',')) {
    const auto e = trim(part);
    if (e.empty()) continue;
    if (!is_valid_name(e)) return Error::at(pos, "invalid extra name");
    extras.emplace_back(e);
  }
  pos = close + 1;
  return extras;
}

// Version clauses "op version" separated by commas, optionally in parentheses.
Expected<std::string> parse_specifier(std::string_view s, std::size_t offset) {
  s = trim(s);
  if (!s.empty() && s.front() == '(') {
    if (s.back() != ')') return Error::at(offset, "unbalanced parenthesis in version specifier");
    s = trim(s.substr(1, s.size() - 2));
  }
  std::string out;
  for (const auto clause_raw : detail::split(s, ',')) {
    const auto clause = trim(clause_raw);
    std::size_t op_len = 0;
    for (const std::string_view op : {"===", "~=", "==", "!=", "<=", ">=", "<", ">"}) {
      if (clause.substr(0, op.size()) == op) {
        op_len = op.size();
        break;
      }
    }
    if (op_len == 0) return Error::at(offset, "version clause without a comparison operator");
    const auto version = trim(clause.substr(op_len));
    const bool arbitrary = op_len == 3;  // '===' compares strings, any characters but space
    if (version.empty() ||
        (!arbitrary && !std::all_of(version.begin(), version.end(), is_version_char)) ||
        std::any_of(version.begin(), version.end(), detail::is_space)) {
      return Error::at(offset, "invalid version in specifier");
    }
    if (!out.empty()) out += ',';
    out += clause.substr(0, op_len);
    out += version;
  }
  return out;
}

}  // namespace

Expected<Requirement> parse_pep508(std::string_view text) {
  if (text.size() > kMaxRequirementLine) return Error::at(0, "requirement longer than 64 KiB");
  Requirement r;
  std::size_t pos = 0;
  while (pos < text.size() && detail::is_space(text[pos])) ++pos;
  const auto name_start = pos;
  while (pos < text.size() && is_name_char(text[pos])) ++pos;
  const auto name = text.substr(name_start, pos - name_start);
  if (!is_valid_name(name)) return Error::at(name_start, "invalid or missing project name");
  r.name = std::string(name);
  while (pos < text.size() && detail::is_space(text[pos])) ++pos;
  if (pos < text.size() && text[pos] == '[') {
    auto extras = parse_extras(text, pos);
    if (!extras) return extras.error();
    r.extras = std::move(*extras);
  }
  // The marker starts at the first ';' — except inside a URL, where ';' must be followed by
  // whitespace to count (PEP 508: "name @ url ; marker").
  std::string_view rest = text.substr(pos);
  const auto rest_offset = pos;
  auto body = trim(rest);
  if (!body.empty() && body.front() == '@') {
    body = trim(body.substr(1));
    std::size_t url_end = 0;
    while (url_end < body.size() && !detail::is_space(body[url_end])) ++url_end;
    r.url = std::string(body.substr(0, url_end));
    if (r.url.empty()) return Error::at(rest_offset, "'@' without a URL");
    auto after = trim(body.substr(url_end));
    if (!after.empty()) {
      if (after.front() != ';') return Error::at(rest_offset, "unexpected text after URL");
      r.marker = std::string(trim(after.substr(1)));
    }
    return r;
  }
  const auto semi = body.find(';');
  const auto spec_text = trim(body.substr(0, semi));
  if (semi != std::string_view::npos) {
    r.marker = std::string(trim(body.substr(semi + 1)));
    if (r.marker.empty()) return Error::at(rest_offset, "empty environment marker after ';'");
  }
  if (!spec_text.empty()) {
    auto spec = parse_specifier(spec_text, rest_offset);
    if (!spec) return spec.error();
    r.specifier = std::move(*spec);
  }
  return r;
}

std::string pinned_version(std::string_view specifier) {
  if (specifier.find(',') != std::string_view::npos) return {};
  std::string_view v;
  if (specifier.substr(0, 3) == "===") {
    v = specifier.substr(3);
  } else if (specifier.substr(0, 2) == "==") {
    v = specifier.substr(2);
  } else {
    return {};
  }
  if (v.empty() || v.find('*') != std::string_view::npos) return {};
  return std::string(v);
}

namespace {

struct LogicalLine {
  std::string text;
  std::size_t number = 0;  // 1-based, of its first physical line
};

// Joins backslash continuations and drops comments ('#' at the start or after whitespace).
std::vector<LogicalLine> logical_lines(std::string_view text) {
  std::vector<LogicalLine> out;
  LogicalLine current;
  std::size_t number = 0;
  for (const auto raw : detail::lines(text)) {
    ++number;
    std::string_view line = raw;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '#' && (i == 0 || detail::is_space(line[i - 1]))) {
        line = line.substr(0, i);
        break;
      }
    }
    if (current.text.empty()) current.number = number;
    const bool continued = !line.empty() && line.back() == '\\';
    if (continued) line.remove_suffix(1);
    current.text += line;
    if (continued) {
      current.text += ' ';
      continue;
    }
    if (!trim(current.text).empty()) out.push_back(std::move(current));
    current = LogicalLine{};
  }
  if (!trim(current.text).empty()) out.push_back(std::move(current));
  return out;
}

std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && detail::is_space(s[i])) ++i;
    const auto start = i;
    while (i < s.size() && !detail::is_space(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// "--opt=value" or "--opt value" / "-o value"; returns the value and advances `i`.
std::string_view option_value(const std::vector<std::string_view>& toks, std::size_t& i,
                              std::string_view name) {
  const auto tok = toks[i];
  if (tok.size() > name.size() && tok[name.size()] == '=') return tok.substr(name.size() + 1);
  if (tok.size() > name.size() && name.size() == 2) return tok.substr(2);  // "-rfile"
  if (i + 1 < toks.size()) return toks[++i];
  return {};
}

bool option_is(std::string_view tok, std::string_view name) {
  if (tok.substr(0, name.size()) != name) return false;
  if (tok.size() == name.size()) return true;
  if (tok[name.size()] == '=') return true;
  return name.size() == 2;  // short options may be glued: -rfile
}

// A bare URL or path ("https://.../x.whl", "git+https://...#egg=x", "./pkg"), as opposed to a
// PEP 508 line, which starts with a project name ("x @ https://...").
bool looks_like_url_or_path(std::string_view s) {
  if (s.front() == '.' || s.front() == '/' || s.substr(0, 5) == "file:") return true;
  std::size_t i = 0;
  while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) != 0 || s[i] == '+' ||
                          s[i] == '-' || s[i] == '.'))
    ++i;
  return i > 0 && s.substr(i, 3) == "://";
}

// Name and version from a URL or path: "#egg=name", or a wheel/sdist file name.
void name_from_url(std::string_view url, Package& p) {
  const auto egg = url.find("#egg=");
  if (egg != std::string_view::npos) {
    auto name = url.substr(egg + 5);
    name = name.substr(0, name.find('&'));
    p.name = std::string(name.substr(0, name.find('[')));
    return;
  }
  auto file = url.substr(url.rfind('/') == std::string_view::npos ? 0 : url.rfind('/') + 1);
  file = file.substr(0, file.find_first_of("#?"));
  for (const std::string_view ext : {".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz"}) {
    if (file.size() > ext.size() && file.substr(file.size() - ext.size()) == ext) {
      const auto stem = file.substr(0, file.size() - ext.size());
      const auto dash = ext == ".whl" ? stem.find('-') : stem.rfind('-');
      if (dash == std::string_view::npos) return;
      p.name = std::string(stem.substr(0, dash));
      auto version = stem.substr(dash + 1);
      p.version = std::string(version.substr(0, version.find('-')));
      return;
    }
  }
}

// "git+https://host/repo@<commit>#egg=x": the ref after '@' in the path, when it is a full
// commit hash.
std::string vcs_commit(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  auto path = url.substr(scheme + 3);
  path = path.substr(0, path.find('#'));
  const auto at = path.rfind('@');
  if (at == std::string_view::npos || path.find('/', at) != std::string_view::npos) return {};
  const auto ref = path.substr(at + 1);
  const bool full_hash =
      (ref.size() == 40 || ref.size() == 64) && std::all_of(ref.begin(), ref.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) != 0;
      });
  return full_hash ? ascii_lower(ref) : std::string{};
}

struct LineContext {
  RequirementsFile& out;
  const std::string& source;
  std::size_t number;
};

void note(LineContext& ctx, const std::string& what) {
  ctx.out.notes.push_back(ctx.source + ":" + std::to_string(ctx.number) + ": " + what);
}

// Adds the package a URL or path names; false when no name can be derived from it.
bool add_url_requirement(LineContext& ctx, std::string_view url, bool editable) {
  Package p;
  p.source = ctx.source;
  p.url = std::string(url);
  p.vcs_commit = vcs_commit(url);
  name_from_url(url, p);
  if (p.name.empty() || !is_valid_name(p.name)) {
    note(ctx, std::string(editable ? "editable " : "") +
                  "requirement without a package name: " + detail::bounded(url, 200));
    return false;
  }
  ctx.out.packages.push_back(std::move(p));
  return true;
}

// A requirement line: the requirement is every token before the first option token.
void parse_requirement_line(LineContext& ctx, const std::vector<std::string_view>& toks) {
  std::size_t first_option = 0;
  while (first_option < toks.size() && toks[first_option].front() != '-') ++first_option;
  std::string req_text;
  for (std::size_t i = 0; i < first_option; ++i) {
    if (i > 0) req_text += ' ';
    req_text += toks[i];
  }
  std::vector<Hash> hashes;
  for (std::size_t i = first_option; i < toks.size(); ++i) {
    if (!option_is(toks[i], "--hash")) continue;
    const auto value = option_value(toks, i, "--hash");
    if (auto h = parse_prefixed_hash(value)) {
      hashes.push_back(*h);
    } else {
      note(ctx, "unusable --hash value " + detail::bounded(value, 80));
    }
  }
  if (looks_like_url_or_path(req_text)) {
    if (add_url_requirement(ctx, req_text, false)) ctx.out.packages.back().hashes = hashes;
    return;
  }
  auto r = parse_pep508(req_text);
  if (!r) {
    note(ctx, "not a requirement (" + r.error().message + "): " + detail::bounded(req_text, 200));
    return;
  }
  Package p;
  p.name = r->name;
  p.extras = r->extras;
  p.marker = r->marker;
  p.url = r->url;
  p.vcs_commit = p.url.empty() ? std::string{} : vcs_commit(p.url);
  p.version = pinned_version(r->specifier);
  if (p.version.empty()) p.specifier = r->specifier;
  p.hashes = std::move(hashes);
  p.source = ctx.source;
  ctx.out.packages.push_back(std::move(p));
}

void parse_option_line(LineContext& ctx, const std::vector<std::string_view>& toks) {
  std::size_t i = 0;
  const auto tok = toks[0];
  if (option_is(tok, "-r") || option_is(tok, "--requirement")) {
    const auto v = option_value(toks, i, tok.substr(0, 2) == "--" ? "--requirement" : "-r");
    if (!v.empty()) ctx.out.includes.push_back({std::string(v), false});
  } else if (option_is(tok, "-c") || option_is(tok, "--constraint")) {
    const auto v = option_value(toks, i, tok.substr(0, 2) == "--" ? "--constraint" : "-c");
    if (!v.empty()) ctx.out.includes.push_back({std::string(v), true});
  } else if (option_is(tok, "-e") || option_is(tok, "--editable")) {
    const auto v = option_value(toks, i, tok.substr(0, 2) == "--" ? "--editable" : "-e");
    if (!v.empty()) add_url_requirement(ctx, v, true);
  } else if (option_is(tok, "-i") || option_is(tok, "--index-url") ||
             option_is(tok, "--extra-index-url") || option_is(tok, "-f") ||
             option_is(tok, "--find-links")) {
    const auto name = tok.substr(0, tok.find('='));
    const auto v = option_value(toks, i, name.size() > 2 ? name : tok.substr(0, 2));
    if (!v.empty())
      ctx.out.index_urls.push_back(std::string(name.size() > 2 ? name : tok.substr(0, 2)) + " " +
                                   std::string(v));
  }
  // Other global options (--pre, --no-binary, --trusted-host, ...) name no package.
}

}  // namespace

Expected<RequirementsFile> parse_requirements(std::string_view text, const std::string& source) {
  if (text.size() > kMaxTextFile) return Error::at(0, "requirements file larger than 32 MiB");
  RequirementsFile out;
  const auto logical = logical_lines(text);
  if (logical.size() > kMaxRequirementLines)
    return Error::at(0, "more than 200000 requirement lines");
  for (const auto& line : logical) {
    LineContext ctx{out, source, line.number};
    if (line.text.size() > kMaxRequirementLine) {
      note(ctx, "line longer than 64 KiB skipped");
      continue;
    }
    const auto toks = tokens(line.text);
    if (toks.empty()) continue;
    if (toks[0].front() == '-') {
      parse_option_line(ctx, toks);
    } else {
      parse_requirement_line(ctx, toks);
    }
  }
  return out;
}

}  // namespace mlsc::bom
