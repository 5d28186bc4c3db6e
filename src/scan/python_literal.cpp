#include "python_literal.hpp"

#include <cctype>
#include <limits>

namespace mlsc::scan {

const PyLiteral* PyLiteral::find(std::string_view key) const {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].kind == Kind::string && keys[i].string == key) return &values[i];
  }
  return nullptr;
}

namespace {

class LiteralParser {
 public:
  LiteralParser(std::string_view text, std::size_t max_depth) : s_(text), max_depth_(max_depth) {}

  Expected<PyLiteral> parse_all() {
    auto v = value(0);
    if (!v) return v;
    skip_ws();
    if (pos_ != s_.size()) return fail("unexpected text after the literal");
    return v;
  }

 private:
  Error fail(std::string msg) const { return Error::at(pos_, std::move(msg)); }

  void skip_ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }

  bool eat(char c) {
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool eat_word(std::string_view w) {
    skip_ws();
    if (s_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }

  Expected<PyLiteral> value(std::size_t depth) {
    if (depth > max_depth_) return fail("literal nested too deeply");
    skip_ws();
    if (pos_ >= s_.size()) return fail("unexpected end of literal");
    const char c = s_[pos_];
    if (c == '{') return dict(depth);
    if (c == '[') return sequence(depth, '[', ']', PyLiteral::Kind::list);
    if (c == '(') return sequence(depth, '(', ')', PyLiteral::Kind::tuple);
    if (c == '\'' || c == '"') return string();
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) return integer();
    PyLiteral v;
    if (eat_word("True")) {
      v.kind = PyLiteral::Kind::boolean;
      v.boolean = true;
    } else if (eat_word("False")) {
      v.kind = PyLiteral::Kind::boolean;
    } else if (!eat_word("None")) {
      return fail("unsupported token in literal");
    }
    return v;
  }

  Expected<PyLiteral> string() {
    const char quote = s_[pos_++];
    PyLiteral v;
    v.kind = PyLiteral::Kind::string;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;  // keep the escaped char as is
      v.string += s_[pos_++];
    }
    if (pos_ >= s_.size()) return fail("unterminated string");
    ++pos_;
    return v;
  }

  Expected<PyLiteral> integer() {
    PyLiteral v;
    v.kind = PyLiteral::Kind::integer;
    const bool negative = s_[pos_] == '-';
    if (negative) ++pos_;
    const std::size_t first = pos_;
    constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      const int d = s_[pos_++] - '0';
      if (v.integer > (kMax - d) / 10) v.integer_overflow = true;
      if (!v.integer_overflow) v.integer = v.integer * 10 + d;
    }
    if (pos_ == first) return fail("expected digits");
    if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 long suffix
    if (negative) v.integer = -v.integer;
    return v;
  }

  Expected<PyLiteral> sequence(std::size_t depth, char open, char close, PyLiteral::Kind kind) {
    PyLiteral v;
    v.kind = kind;
    eat(open);
    while (!eat(close)) {
      auto item = value(depth + 1);
      if (!item) return item;
      v.items.push_back(std::move(*item));
      if (!eat(',')) {
        if (!eat(close)) return fail(std::string("expected ',' or '") + close + "'");
        break;
      }
    }
    return v;
  }

  Expected<PyLiteral> dict(std::size_t depth) {
    PyLiteral v;
    v.kind = PyLiteral::Kind::dict;
    eat('{');
    while (!eat('}')) {
      auto key = value(depth + 1);
      if (!key) return key;
      if (!eat(':')) return fail("expected ':' in dict");
      auto val = value(depth + 1);
      if (!val) return val;
      v.keys.push_back(std::move(*key));
      v.values.push_back(std::move(*val));
      if (!eat(',')) {
        if (!eat('}')) return fail("expected ',' or '}'");
        break;
      }
    }
    return v;
  }

  std::string_view s_;
  std::size_t max_depth_;
  std::size_t pos_ = 0;
};

}  // namespace

Expected<PyLiteral> parse_py_literal(std::string_view text, std::size_t max_depth) {
  return LiteralParser(text, max_depth).parse_all();
}

}  // namespace mlsc::scan
