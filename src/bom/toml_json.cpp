// The only translation unit that includes toml++ (header-only mode): it is large, and this
// way the fuzzers' coverage instrumentation sees its parser too.
#define TOML_HEADER_ONLY 1
#include "toml_json.hpp"

// toml++ 3.3 states its parser's internal expectations as assert() in debug builds and as
// __builtin_assume() in clang release builds. Hostile input breaks some of them (e.g. "[[,a]]"
// reaches parse_key with a comma); its own error path handles that input correctly, but an
// assumption the compiler may optimise on would make it undefined behaviour. Turn both off so
// every build runs the library's checked error path.
#include <toml++/impl/preprocessor.h>
#undef TOML_ASSERT
#undef TOML_ASSERT_ASSUME
#define TOML_ASSERT(expr) static_assert(true)
#define TOML_ASSERT_ASSUME(expr) static_assert(true)
#include <toml++/toml.h>
#include <optional>
#include <sstream>

#include "mlsc/bom/sources.hpp"
#include "mlsc/core/json_depth.hpp"

namespace mlsc::bom::detail {

namespace {

// Dotted keys ("[a.b.c...]") nest tables without the nesting limit toml++ puts on arrays and
// inline tables; the conversion refuses depth beyond this so its recursion stays bounded.
constexpr int kMaxTomlDepth = 128;

struct TooDeep {};

nlohmann::json to_json(const toml::node& node, int depth);

nlohmann::json table_to_json(const toml::table& table, int depth) {
  if (depth > kMaxTomlDepth) throw TooDeep{};
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : table) out[std::string(key.str())] = to_json(value, depth + 1);
  return out;
}

template <class T>
std::string streamed(const T& value) {
  std::ostringstream s;
  s << value;
  return s.str();
}

nlohmann::json to_json(const toml::node& node, int depth) {
  switch (node.type()) {
    case toml::node_type::table:
      return table_to_json(*node.as_table(), depth);
    case toml::node_type::array: {
      if (depth > kMaxTomlDepth) throw TooDeep{};
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : *node.as_array()) out.push_back(to_json(item, depth + 1));
      return out;
    }
    case toml::node_type::string:
      return node.as_string()->get();
    case toml::node_type::integer:
      return node.as_integer()->get();
    case toml::node_type::floating_point:
      return node.as_floating_point()->get();
    case toml::node_type::boolean:
      return node.as_boolean()->get();
    case toml::node_type::date:
      return streamed(node.as_date()->get());
    case toml::node_type::time:
      return streamed(node.as_time()->get());
    case toml::node_type::date_time:
      return streamed(node.as_date_time()->get());
    case toml::node_type::none:
      break;
  }
  return nullptr;
}

}  // namespace

namespace {

// Each unquoted '.' in a key nests one table level, and toml++ builds (and later destroys) such
// tables recursively: refuse lines with more dots than any real lock file has before toml++
// sees them. Quoted strings (versions, URLs) do not count.
std::optional<std::size_t> first_line_with_deep_keys(std::string_view text) {
  std::size_t dots = 0;
  char quote = 0;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      dots = 0;
      line_start = i + 1;
      quote = 0;
      continue;
    }
    if (quote != 0) {
      if (c == '\\' && quote == '"') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    if (c == '"' || c == '\'') quote = c;
    if (c == '#') {
      const auto nl = text.find('\n', i);
      if (nl == std::string_view::npos) break;
      i = nl - 1;
      continue;
    }
    if (c == '.' && ++dots > 256) return line_start;
  }
  return std::nullopt;
}

// toml++ 3.3's Unicode tables have paths marked __builtin_unreachable that input reaches: a
// non-ASCII character where whitespace may stand (U+00A1, found by bom_lockfile_fuzz) falls out
// of the switch in is_non_ascii_horizontal_whitespace. Outside strings and comments TOML allows
// only ASCII, so such input is refused here, before toml++ sees it. Inside a multi-line basic
// string, the whitespace after a line-ending backslash is classified the same way.
std::optional<std::size_t> non_ascii_where_toml_needs_ascii(std::string_view t) {
  enum class In { code, comment, basic, literal, ml_basic, ml_literal };
  In in = In::code;
  const auto at = [&](std::size_t i, std::string_view s) { return t.substr(i, s.size()) == s; };
  const auto space = [&](std::size_t j) {
    return t[j] == ' ' || t[j] == '\t' || t[j] == '\r' || t[j] == '\n';
  };
  for (std::size_t i = 0; i < t.size(); ++i) {
    const auto c = static_cast<unsigned char>(t[i]);
    switch (in) {
      case In::code:
        if (c >= 0x80) return i;
        if (c == '#') in = In::comment;
        if (c == '"') in = at(i, R"(""")") ? (i += 2, In::ml_basic) : In::basic;
        if (c == '\'') in = at(i, "'''") ? (i += 2, In::ml_literal) : In::literal;
        break;
      case In::comment:
        if (c == '\n') in = In::code;
        break;
      case In::basic:
        if (c == '\\') ++i;  // the escaped character cannot end the string
        if (c == '"' || c == '\n') in = In::code;
        break;
      case In::literal:
        if (c == '\'' || c == '\n') in = In::code;
        break;
      case In::ml_basic:
        if (c == '\\') {
          std::size_t j = i + 1;
          while (j < t.size() && space(j)) ++j;
          if (j > i + 1 && j < t.size() && static_cast<unsigned char>(t[j]) >= 0x80) return j;
          i = j > i + 1 ? j - 1 : i + 1;
        } else if (at(i, R"(""")")) {
          i += 2;
          while (i + 1 < t.size() && t[i + 1] == '"') ++i;  // quotes may end the content
          in = In::code;
        }
        break;
      case In::ml_literal:
        if (at(i, "'''")) {
          i += 2;
          while (i + 1 < t.size() && t[i + 1] == '\'') ++i;
          in = In::code;
        }
        break;
    }
  }
  return std::nullopt;
}

}  // namespace

Expected<nlohmann::json> parse_toml_as_json(std::string_view text) {
  if (text.size() > kMaxTextFile) return Error::at(0, "TOML file larger than 32 MiB");
  if (const auto at = first_line_with_deep_keys(text))
    return Error::at(
        *at, "TOML: more than 256 unquoted dots on one line (dotted keys nested too deeply)");
  if (const auto at = non_ascii_where_toml_needs_ascii(text)) {
    return Error::at(*at, "TOML: a non-ASCII character outside strings and comments");
  }
  try {
    const toml::table table = toml::parse(text);
    return table_to_json(table, 0);
  } catch (const TooDeep&) {
    return Error("TOML: tables nested deeper than 128 levels");
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Error("TOML: " + std::string(e.description()) + " at line " +
                 std::to_string(where.line) + ", column " + std::to_string(where.column));
  } catch (const std::exception& e) {
    return Error(std::string("TOML: ") + e.what());
  }
}

Expected<nlohmann::json> parse_json_bounded(std::string_view text) {
  if (text.size() > kMaxTextFile) return Error::at(0, "JSON file larger than 32 MiB");
  // nlohmann::json recurses once per nesting level; refuse deep nesting before parsing.
  if (const auto at = json_too_deep_at(text, 256)) {
    return Error::at(*at, "JSON nested deeper than 256 levels");
  }
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded()) {
    // Parse again with exceptions for the position; only on the error path.
    try {
      [[maybe_unused]] const auto reparsed = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      return Error::at(e.byte, std::string("JSON: ") + e.what());
    } catch (const nlohmann::json::exception& e) {  // out_of_range: number too large
      return Error(std::string("JSON: ") + e.what());
    }
    return Error("JSON: parse error");
  }
  return parsed;
}

std::string json_string(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

}  // namespace mlsc::bom::detail
