// Jinja2 lexing: data text, {# comments #}, {% raw %} sections, and the tokens of {{ }} / {% %}
// blocks. As in Jinja's own lexer, a block may only end while its brackets are balanced, so
// `{{ {'a': {'b': 1}} }}` is one block.
#include <array>
#include <cctype>

#include "jinja.hpp"

namespace mlsc::scan::jinja {

namespace {

bool name_start(unsigned char c) {
  return std::isalpha(c) || c == '_' || c >= 0x80;
}
bool name_char(unsigned char c) {
  return name_start(c) || std::isdigit(c);
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp > 0x10FFFF) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
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

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class BlockLexer {
 public:
  BlockLexer(std::string_view src, std::size_t pos, bool statement, std::size_t& budget)
      : s_(src), pos_(pos), end_(statement ? "%}" : "}}"), budget_(budget) {}

  // Tokens up to the closing delimiter; pos() is then just past it.
  Expected<std::vector<Token>> run() {
    while (true) {
      while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      if (pos_ >= s_.size())
        return Error::at(pos_, "block is not closed with '" + std::string(end_) + "'");
      if (closes()) return std::move(out_);
      if (budget_ == 0) return Error::at(pos_, "template has too many tokens");
      --budget_;
      auto r = token();
      if (!r) return r.error();
    }
  }
  std::size_t pos() const { return pos_; }

 private:
  bool closes() {
    if (!brackets_.empty()) return false;
    std::size_t p = pos_;
    if (s_[p] == '-' || s_[p] == '+') ++p;
    if (s_.substr(p, 2) != end_) return false;
    pos_ = p + 2;
    return true;
  }

  Expected<void> token() {
    const auto c = static_cast<unsigned char>(s_[pos_]);
    if (c == '\'' || c == '"') return string();
    if (std::isdigit(c)) return number();
    if (name_start(c)) {
      const auto start = pos_;
      while (pos_ < s_.size() && name_char(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      out_.push_back({TokKind::name, std::string(s_.substr(start, pos_ - start)), start});
      return {};
    }
    return op();
  }

  Expected<void> number() {
    const auto start = pos_;
    auto digits = [&] {
      while (pos_ < s_.size() &&
             (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_'))
        ++pos_;
    };
    digits();
    bool floating = false;
    if (pos_ + 1 < s_.size() && s_[pos_] == '.' &&
        std::isdigit(static_cast<unsigned char>(s_[pos_ + 1]))) {
      // `x.0.1` is attribute access; a number after '.' is an integer index, not a float.
      const bool after_dot =
          !out_.empty() && out_.back().kind == TokKind::op && out_.back().text == ".";
      if (!after_dot) {
        ++pos_;
        digits();
        floating = true;
      }
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      std::size_t p = pos_ + 1;
      if (p < s_.size() && (s_[p] == '+' || s_[p] == '-')) ++p;
      if (p < s_.size() && std::isdigit(static_cast<unsigned char>(s_[p]))) {
        pos_ = p;
        digits();
        floating = true;
      }
    }
    out_.push_back({floating ? TokKind::floating : TokKind::integer,
                    std::string(s_.substr(start, pos_ - start)), start});
    return {};
  }

  Expected<void> string() {
    const auto start = pos_;
    const char q = s_[pos_++];
    std::string value;
    while (pos_ < s_.size() && s_[pos_] != q) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) {
        escape(value);
      } else {
        value += s_[pos_++];
      }
    }
    if (pos_ >= s_.size()) return Error::at(start, "string literal is not closed");
    ++pos_;
    out_.push_back({TokKind::string, std::move(value), start});
    return {};
  }

  // Jinja decodes string literals with Python's escapes: '\x5f\x5fclass\x5f\x5f' is '__class__'.
  void escape(std::string& value) {
    const char e = s_[pos_ + 1];
    pos_ += 2;
    auto hex = [&](std::size_t n) {
      std::uint32_t cp = 0;
      std::size_t k = 0;
      for (; k < n && pos_ + k < s_.size() && hex_value(s_[pos_ + k]) >= 0; ++k) {
        cp = cp * 16 + static_cast<std::uint32_t>(hex_value(s_[pos_ + k]));
      }
      if (k < n) return false;
      pos_ += n;
      append_utf8(value, cp);
      return true;
    };
    switch (e) {
      case 'n':
        value += '\n';
        return;
      case 't':
        value += '\t';
        return;
      case 'r':
        value += '\r';
        return;
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7': {
        std::uint32_t cp = static_cast<std::uint32_t>(e - '0');
        for (int k = 0; k < 2 && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '7'; ++k) {
          cp = cp * 8 + static_cast<std::uint32_t>(s_[pos_++] - '0');
        }
        append_utf8(value, cp);
        return;
      }
      case 'x':
        if (hex(2)) return;
        break;
      case 'u':
        if (hex(4)) return;
        break;
      case 'U':
        if (hex(8)) return;
        break;
      case '\\':
      case '\'':
      case '"':
        value += e;
        return;
      case '\n':
        return;
      default:
        break;
    }
    value += '\\';
    value += e;
  }

  Expected<void> op() {
    static constexpr std::array<std::string_view, 6> kTwo = {"**", "//", "==", "!=", "<=", ">="};
    for (auto t : kTwo) {
      if (s_.substr(pos_, 2) == t) {
        out_.push_back({TokKind::op, std::string(t), pos_});
        pos_ += 2;
        return {};
      }
    }
    const char c = s_[pos_];
    if (std::string_view("+-*/%~<>=.,:|()[]{};!").find(c) == std::string_view::npos) {
      return Error::at(pos_, std::string("unexpected character '") + c + "' in a block");
    }
    if (c == '(' || c == '[' || c == '{') brackets_.push_back(c);
    if (c == ')' || c == ']' || c == '}') {
      const char open = c == ')' ? '(' : c == ']' ? '[' : '{';
      if (brackets_.empty() || brackets_.back() != open) {
        return Error::at(pos_, std::string("unbalanced '") + c + "'");
      }
      brackets_.pop_back();
    }
    out_.push_back({TokKind::op, std::string(1, c), pos_});
    ++pos_;
    return {};
  }

  std::string_view s_;
  std::size_t pos_;
  std::string_view end_;
  std::size_t& budget_;
  std::string brackets_;
  std::vector<Token> out_;
};

// Position just past `{% endraw %}` (with optional whitespace control), or npos.
std::size_t skip_raw(std::string_view s, std::size_t from) {
  for (std::size_t p = s.find("{%", from); p != std::string_view::npos; p = s.find("{%", p + 2)) {
    std::size_t q = p + 2;
    if (q < s.size() && (s[q] == '-' || s[q] == '+')) ++q;
    while (q < s.size() && std::isspace(static_cast<unsigned char>(s[q]))) ++q;
    if (s.substr(q, 6) != "endraw") continue;
    q += 6;
    while (q < s.size() && std::isspace(static_cast<unsigned char>(s[q]))) ++q;
    if (q < s.size() && (s[q] == '-' || s[q] == '+')) ++q;
    if (s.substr(q, 2) == "%}") return q + 2;
  }
  return std::string_view::npos;
}

bool is_raw(const std::vector<Token>& t) {
  return t.size() == 1 && t[0].kind == TokKind::name && t[0].text == "raw";
}

}  // namespace

Expected<std::vector<Block>> lex(std::string_view s, const LexLimits& limits) {
  std::vector<Block> blocks;
  std::size_t budget = limits.max_tokens;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto open = s.find('{', i);
    if (open == std::string_view::npos || open + 1 >= s.size()) break;
    const char k = s[open + 1];
    if (k == '#') {
      const auto close = s.find("#}", open + 2);
      if (close == std::string_view::npos)
        return Error::at(open, "comment is not closed with '#}'");
      i = close + 2;
      continue;
    }
    if (k != '{' && k != '%') {
      i = open + 1;
      continue;
    }
    std::size_t start = open + 2;
    if (start < s.size() && (s[start] == '-' || s[start] == '+')) ++start;
    BlockLexer lexer(s, start, k == '%', budget);
    auto tokens = lexer.run();
    if (!tokens) return tokens.error();
    i = lexer.pos();
    if (k == '%' && is_raw(*tokens)) {
      i = skip_raw(s, i);
      if (i == std::string_view::npos) return Error::at(open, "{% raw %} is not closed");
      continue;
    }
    blocks.push_back({k == '%', std::move(*tokens), open});
  }
  return blocks;
}

}  // namespace mlsc::scan::jinja
