// pip's requirements-file format: one requirement or option per logical line, '\' joins lines,
// '#' starts a comment at the start of a line or after whitespace, per-requirement options
// (--hash) follow the requirement after whitespace.
#include "mlsc/vuln/requirements.hpp"

#include <algorithm>
#include <array>

#include "mlsc/core/text.hpp"
#include "mlsc/vuln/package_name.hpp"

namespace mlsc::vuln {

namespace {

constexpr std::size_t kMaxLines = 1000000;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}
bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

struct LogicalLine {
  std::size_t number;  // first physical line
  std::string text;
};

std::string_view strip_comment(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || is_space(line[i - 1]))) return line.substr(0, i);
  }
  return line;
}

std::vector<LogicalLine> logical_lines(std::string_view text) {
  std::vector<LogicalLine> out;
  std::size_t number = 0;
  std::size_t start = 0;
  std::string pending;
  std::size_t pending_line = 0;
  while (start < text.size() && out.size() < kMaxLines) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (pending.empty()) pending_line = number;
    if (!line.empty() && line.back() == '\\') {
      pending += line.substr(0, line.size() - 1);
      continue;
    }
    pending += line;
    out.push_back({pending_line, std::string(trim(strip_comment(pending)))});
    pending.clear();
  }
  if (!pending.empty()) out.push_back({pending_line, std::string(trim(strip_comment(pending)))});
  return out;
}

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    const std::size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > start) words.push_back(s.substr(start, i - start));
  }
  return words;
}

// "--opt=value", "--opt value", "-ovalue", "-o value": the option's value, consuming words.
struct OptionSpec {
  std::string_view short_form;  // "-i" or ""
  std::string_view long_form;   // "--index-url"
};

std::optional<std::string> option_value(const std::vector<std::string_view>& words, std::size_t& i,
                                        const OptionSpec& spec, bool& matched) {
  const std::string_view w = words[i];
  matched = false;
  auto take_next = [&]() -> std::optional<std::string> {
    if (i + 1 >= words.size()) return std::nullopt;
    return std::string(words[++i]);
  };
  if (w == spec.long_form || (!spec.short_form.empty() && w == spec.short_form)) {
    matched = true;
    return take_next();
  }
  if (w.size() > spec.long_form.size() && w.substr(0, spec.long_form.size()) == spec.long_form &&
      w[spec.long_form.size()] == '=') {
    matched = true;
    return std::string(w.substr(spec.long_form.size() + 1));
  }
  if (!spec.short_form.empty() && w.size() > 2 && w.substr(0, 2) == spec.short_form) {
    matched = true;
    return std::string(w.substr(2));
  }
  return std::nullopt;
}

bool looks_like_url_or_path(std::string_view s) {
  return s.find("://") != std::string_view::npos || s.substr(0, 1) == "." ||
         s.substr(0, 1) == "/" || s.substr(0, 4) == "git+" || s.substr(0, 4) == "hg+" ||
         s.ends_with(".whl") || s.ends_with(".tar.gz") || s.ends_with(".zip");
}

// "git+https://...#egg=name" and "./pkg#egg=name[extra]": the name, when the fragment has one.
std::string egg_name(std::string_view url) {
  const std::size_t egg = url.find("#egg=");
  if (egg == std::string_view::npos) return {};
  std::string_view name = url.substr(egg + 5);
  std::size_t n = 0;
  while (n < name.size() && is_name_char(name[n])) ++n;
  return std::string(name.substr(0, n));
}

// Per-requirement options after the requirement: "--hash=sha256:..." (repeatable), and options
// pip passes to the build that do not change what is installed.
void take_requirement_options(std::string_view options, Requirement& req,
                              std::vector<RequirementsFile::Problem>& problems) {
  const auto words = split_words(options);
  for (std::size_t i = 0; i < words.size(); ++i) {
    bool matched = false;
    if (auto v = option_value(words, i, {"", "--hash"}, matched); matched) {
      if (v && !v->empty()) req.hashes.push_back(*v);
      continue;
    }
    for (const auto* opt : {"--global-option", "--install-option", "--config-settings"}) {
      if (auto v = option_value(words, i, {"", opt}, matched); matched) break;
    }
    if (!matched) {
      problems.push_back({req.line, "unknown requirement option '" + std::string(words[i]) + "'"});
    }
  }
}

void parse_option_line(const LogicalLine& line, RequirementsFile& out) {
  const auto words = split_words(line.text);
  for (std::size_t i = 0; i < words.size(); ++i) {
    bool matched = false;
    struct IndexSpec {
      OptionSpec spec;
      IndexOption::Kind kind;
    };
    static constexpr std::array<IndexSpec, 3> kIndex = {
        {{{"-i", "--index-url"}, IndexOption::Kind::index_url},
         {{"", "--extra-index-url"}, IndexOption::Kind::extra_index_url},
         {{"-f", "--find-links"}, IndexOption::Kind::find_links}}};
    bool handled = false;
    for (const auto& idx : kIndex) {
      if (auto v = option_value(words, i, idx.spec, matched); matched) {
        if (v) out.index_options.push_back({idx.kind, *v, line.number});
        if (!v)
          out.problems.push_back({line.number, std::string(idx.spec.long_form) + " needs a URL"});
        handled = true;
        break;
      }
    }
    if (handled) continue;
    const std::string_view w = words[i];
    if (w == "--no-index") {
      out.index_options.push_back({IndexOption::Kind::no_index, "", line.number});
      continue;
    }
    if (w == "--require-hashes") {
      out.require_hashes = true;
      continue;
    }
    if (w == "--pre" || w == "--prefer-binary") continue;
    for (const OptionSpec& spec :
         {OptionSpec{"-r", "--requirement"}, OptionSpec{"-c", "--constraint"}}) {
      if (auto v = option_value(words, i, spec, matched); matched) {
        if (v) out.includes.push_back(*v);
        break;
      }
    }
    if (matched) continue;
    for (const OptionSpec& spec :
         {OptionSpec{"", "--trusted-host"}, OptionSpec{"", "--only-binary"},
          OptionSpec{"", "--no-binary"}, OptionSpec{"", "--use-feature"}}) {
      if (auto v = option_value(words, i, spec, matched); matched) break;
    }
    if (matched) continue;
    if (auto v = option_value(words, i, {"-e", "--editable"}, matched); matched) {
      Requirement req;
      req.line = line.number;
      req.editable = true;
      req.url = v.value_or("");
      req.name = egg_name(req.url);
      req.normalized = normalize_name(req.name);
      out.requirements.push_back(std::move(req));
      continue;
    }
    out.problems.push_back({line.number, "unknown option '" + std::string(w) + "'"});
  }
}

void parse_requirement_line(const LogicalLine& line, RequirementsFile& out) {
  // Per-requirement options start at the first whitespace-preceded "--".
  std::string_view text = line.text;
  std::string_view options;
  for (std::size_t i = 1; i + 1 < text.size(); ++i) {
    if (is_space(text[i - 1]) && text[i] == '-' && text[i + 1] == '-') {
      options = text.substr(i);
      text = trim(text.substr(0, i));
      break;
    }
  }
  auto req = parse_requirement(text);
  if (!req) {
    if (!looks_like_url_or_path(text)) {
      out.problems.push_back({line.number, req.error().message});
      return;
    }
    Requirement url_req;
    url_req.url = std::string(text.substr(0, text.find(';')));
    url_req.name = egg_name(url_req.url);
    url_req.normalized = normalize_name(url_req.name);
    req = std::move(url_req);
  }
  req->line = line.number;
  take_requirement_options(options, *req, out.problems);
  out.requirements.push_back(std::move(*req));
}

}  // namespace

Expected<Requirement> parse_requirement(std::string_view text) {
  text = trim(text);
  Requirement req;
  std::size_t i = 0;
  while (i < text.size() && is_name_char(text[i])) ++i;
  req.name = std::string(text.substr(0, i));
  if (!is_valid_name(req.name)) {
    return Error::at(0, "'" + std::string(text.substr(0, 80)) + "' is not a requirement");
  }
  req.normalized = normalize_name(req.name);
  auto skip_spaces = [&] {
    while (i < text.size() && is_space(text[i])) ++i;
  };
  skip_spaces();
  if (i < text.size() && text[i] == '[') {
    const std::size_t close = text.find(']', i);
    if (close == std::string_view::npos) return Error::at(i, "unclosed '[' in extras");
    std::string_view extras = text.substr(i + 1, close - i - 1);
    std::size_t start = 0;
    while (start <= extras.size()) {
      const std::size_t comma = std::min(extras.find(',', start), extras.size());
      const std::string_view extra = trim(extras.substr(start, comma - start));
      if (!extra.empty()) {
        if (!is_valid_name(extra)) return Error::at(i, "malformed extra name");
        req.extras.emplace_back(extra);
      }
      start = comma + 1;
    }
    i = close + 1;
    skip_spaces();
  }
  std::string_view rest = text.substr(i);
  if (!rest.empty() && rest.front() == '@') {
    rest = trim(rest.substr(1));
    std::size_t url_end = 0;
    while (url_end < rest.size() && !is_space(rest[url_end])) ++url_end;
    req.url = std::string(rest.substr(0, url_end));
    rest = trim(rest.substr(url_end));
    if (req.url.empty()) return Error::at(i, "'@' without a URL");
    if (!rest.empty() && rest.front() != ';') return Error::at(i, "text after the URL");
  }
  const std::size_t semi = rest.find(';');
  if (semi != std::string_view::npos) {
    req.marker = std::string(trim(rest.substr(semi + 1)));
    rest = rest.substr(0, semi);
  }
  rest = trim(rest);
  if (req.url.empty() && !rest.empty()) {
    if (rest.front() == '(' && rest.back() == ')') rest = trim(rest.substr(1, rest.size() - 2));
    auto spec = SpecifierSet::parse(rest);
    if (!spec) return Error::at(i, "bad version specifier: " + spec.error().message);
    req.specifier = std::move(*spec);
  }
  return req;
}

RequirementsFile parse_requirements(std::string_view text) {
  RequirementsFile out;
  for (const auto& line : logical_lines(text)) {
    if (line.text.empty()) continue;
    if (line.text.front() == '-') {
      parse_option_line(line, out);
    } else {
      parse_requirement_line(line, out);
    }
  }
  return out;
}

}  // namespace mlsc::vuln
