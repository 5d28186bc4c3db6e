// Jinja2 statements and expressions, following the precedence of Jinja's parser:
// conditional < or < and < not < comparison < +,- < ~ < *,/,//,% < ** < unary < filters and
// tests < postfix (attribute, subscript, call) < primary.
#include <algorithm>
#include <array>

#include "jinja.hpp"

namespace mlsc::scan::jinja {

namespace {

using K = Node::Kind;

Node make(K kind, std::string text, std::size_t pos, std::vector<Node> kids = {}) {
  Node n;
  n.kind = kind;
  n.text = std::move(text);
  n.pos = pos;
  n.kids = std::move(kids);
  for (const auto& k : n.kids) n.height = std::max(n.height, k.height + 1);
  return n;
}

// Chains (a.b.c..., x|f|g..., a + b + c ...) grow trees without recursion in the parser; their
// height is bounded here so that walking and destroying a tree stays shallow.
constexpr std::size_t kMaxHeight = 512;

class ExprParser {
 public:
  ExprParser(const std::vector<Token>& t, std::size_t start, std::size_t max_depth)
      : t_(t), i_(start), max_depth_(max_depth) {}

  std::size_t index() const { return i_; }
  bool done() const { return i_ >= t_.size(); }
  const Token* peek(std::size_t k = 0) const { return i_ + k < t_.size() ? &t_[i_ + k] : nullptr; }
  bool at_op(std::string_view op, std::size_t k = 0) const {
    const Token* t = peek(k);
    return t && t->kind == TokKind::op && t->text == op;
  }
  bool at_name(std::string_view n, std::size_t k = 0) const {
    const Token* t = peek(k);
    return t && t->kind == TokKind::name && t->text == n;
  }
  bool skip_op(std::string_view op) {
    if (!at_op(op)) return false;
    ++i_;
    return true;
  }
  bool skip_name(std::string_view n) {
    if (!at_name(n)) return false;
    ++i_;
    return true;
  }
  std::size_t here() const { return done() ? (t_.empty() ? 0 : t_.back().pos) : t_[i_].pos; }

  Expected<void> expect_op(std::string_view op) {
    if (skip_op(op)) return {};
    return Error::at(here(), "expected '" + std::string(op) + "'");
  }
  Expected<std::string> expect_name() {
    if (const Token* t = peek(); t && t->kind == TokKind::name) {
      ++i_;
      return t->text;
    }
    return Error::at(here(), "expected a name");
  }

  // expression := conditional (with_cond) or `or` level
  Expected<Node> expr(bool with_cond = true) {
    if (++depth_ > max_depth_) return Error::at(here(), "expression nested too deeply");
    auto r = with_cond ? conditional() : or_expr();
    --depth_;
    return r;
  }

  // a, b, c  -> tuple when there is a comma (for-loop targets and `set a, b = ...`)
  Expected<Node> tuple(bool with_cond = true) {
    const auto pos = here();
    auto first = expr(with_cond);
    if (!first) return first;
    if (!at_op(",")) return first;
    Node tup = make(K::tuple, "", pos, {std::move(*first)});
    while (skip_op(",")) {
      if (done() || at_op(")") || at_op("=") || at_name("in")) break;
      auto next = expr(with_cond);
      if (!next) return next;
      tup.kids.push_back(std::move(*next));
    }
    return tup;
  }

 private:
  Expected<Node> conditional() {
    auto then = or_expr();
    if (!then) return then;
    while (at_name("if")) {
      const auto pos = here();
      ++i_;
      auto cond = or_expr();
      if (!cond) return cond;
      Node n = make(K::cond, "", pos, {std::move(*then), std::move(*cond)});
      if (skip_name("else")) {
        auto other = expr();
        if (!other) return other;
        n.kids.push_back(std::move(*other));
      }
      then = std::move(n);
      if (then->height > kMaxHeight) return too_deep(pos);
    }
    return then;
  }

  template <class Next>
  Expected<Node> left_assoc(Next next, std::initializer_list<std::string_view> ops, bool names) {
    auto left = (this->*next)();
    if (!left) return left;
    while (const Token* t = peek()) {
      const bool match = (t->kind == (names ? TokKind::name : TokKind::op)) &&
                         std::find(ops.begin(), ops.end(), t->text) != ops.end();
      if (!match) break;
      const std::string op = t->text;
      const auto pos = t->pos;
      ++i_;
      auto right = (this->*next)();
      if (!right) return right;
      left = make(K::binary, op, pos, {std::move(*left), std::move(*right)});
      if (left->height > kMaxHeight) return too_deep(pos);
    }
    return left;
  }

  static Error too_deep(std::size_t pos) { return Error::at(pos, "expression nested too deeply"); }

  Expected<Node> or_expr() { return left_assoc(&ExprParser::and_expr, {"or"}, true); }
  Expected<Node> and_expr() { return left_assoc(&ExprParser::not_expr, {"and"}, true); }
  Expected<Node> not_expr() {
    if (at_name("not")) {
      const auto pos = here();
      ++i_;
      if (++depth_ > max_depth_) return Error::at(pos, "expression nested too deeply");
      auto operand = not_expr();
      --depth_;
      if (!operand) return operand;
      return make(K::unary, "not", pos, {std::move(*operand)});
    }
    return compare();
  }

  Expected<Node> compare() {
    auto left = math1();
    if (!left) return left;
    static constexpr std::array<std::string_view, 6> kOps = {"==", "!=", "<", "<=", ">", ">="};
    while (const Token* t = peek()) {
      std::string op;
      if (t->kind == TokKind::op && std::find(kOps.begin(), kOps.end(), t->text) != kOps.end()) {
        op = t->text;
        ++i_;
      } else if (at_name("in")) {
        op = "in";
        ++i_;
      } else if (at_name("not") && at_name("in", 1)) {
        op = "not in";
        i_ += 2;
      } else {
        break;
      }
      auto right = math1();
      if (!right) return right;
      left = make(K::binary, op, t->pos, {std::move(*left), std::move(*right)});
      if (left->height > kMaxHeight) return too_deep(t->pos);
    }
    return left;
  }

  Expected<Node> math1() { return left_assoc(&ExprParser::concat, {"+", "-"}, false); }
  Expected<Node> concat() { return left_assoc(&ExprParser::math2, {"~"}, false); }
  Expected<Node> math2() { return left_assoc(&ExprParser::power, {"*", "/", "//", "%"}, false); }
  Expected<Node> power() { return left_assoc(&ExprParser::unary, {"**"}, false); }

  Expected<Node> unary() {
    if (at_op("-") || at_op("+")) {
      const Token& t = *peek();
      ++i_;
      if (++depth_ > max_depth_) return Error::at(t.pos, "expression nested too deeply");
      auto operand = unary();
      --depth_;
      if (!operand) return operand;
      return filters(make(K::unary, t.text, t.pos, {std::move(*operand)}));
    }
    auto p = primary();
    if (!p) return p;
    auto post = postfix(std::move(*p));
    if (!post) return post;
    return filters(std::move(*post));
  }

  Expected<Node> primary() {
    const Token* t = peek();
    if (!t) return Error::at(here(), "expected an expression");
    const auto pos = t->pos;
    switch (t->kind) {
      case TokKind::string: {
        std::string value;
        while (peek() && peek()->kind == TokKind::string) value += t_[i_++].text;  // 'a' 'b'
        return make(K::str, std::move(value), pos);
      }
      case TokKind::integer:
      case TokKind::floating:
        ++i_;
        return make(K::number, t->text, pos);
      case TokKind::name: {
        ++i_;
        static constexpr std::array<std::string_view, 6> kConst = {"true", "false", "none",
                                                                   "True", "False", "None"};
        if (std::find(kConst.begin(), kConst.end(), t->text) != kConst.end()) {
          return make(K::constant, t->text, pos);
        }
        return make(K::name, t->text, pos);
      }
      case TokKind::op:
        break;
    }
    if (skip_op("(")) {
      if (skip_op(")")) return make(K::tuple, "", pos);
      auto inner = tuple();
      if (!inner) return inner;
      if (auto e = expect_op(")"); !e) return e.error();
      return inner;
    }
    if (skip_op("[")) return sequence(K::list, "]", pos);
    if (skip_op("{")) return dict(pos);
    return Error::at(pos, "unexpected '" + t->text + "'");
  }

  Expected<Node> sequence(K kind, std::string_view close, std::size_t pos) {
    Node n = make(kind, "", pos);
    while (!skip_op(close)) {
      if (!n.kids.empty()) {
        if (auto e = expect_op(","); !e) return e.error();
        if (skip_op(close)) break;
      }
      auto item = expr();
      if (!item) return item;
      n.kids.push_back(std::move(*item));
    }
    return n;
  }

  Expected<Node> dict(std::size_t pos) {
    Node n = make(K::dict, "", pos);
    while (!skip_op("}")) {
      if (!n.kids.empty()) {
        if (auto e = expect_op(","); !e) return e.error();
        if (skip_op("}")) break;
      }
      auto key = expr();
      if (!key) return key;
      if (auto e = expect_op(":"); !e) return e.error();
      auto value = expr();
      if (!value) return value;
      n.kids.push_back(std::move(*key));
      n.kids.push_back(std::move(*value));
    }
    return n;
  }

  Expected<Node> postfix(Node node) {
    while (true) {
      const auto pos = here();
      if (node.height > kMaxHeight) return too_deep(pos);
      if (skip_op(".")) {
        const Token* t = peek();
        if (!t || (t->kind != TokKind::name && t->kind != TokKind::integer)) {
          return Error::at(pos, "expected an attribute name after '.'");
        }
        ++i_;
        node = make(K::attr, t->text, pos, {std::move(node)});
      } else if (skip_op("[")) {
        auto sub = subscript();
        if (!sub) return sub;
        if (auto e = expect_op("]"); !e) return e.error();
        node = make(K::item, "", pos, {std::move(node), std::move(*sub)});
      } else if (at_op("(")) {
        auto call = arguments(make(K::call, "", pos, {std::move(node)}));
        if (!call) return call;
        node = std::move(*call);
      } else {
        return node;
      }
    }
  }

  Expected<Node> subscript() {
    const auto pos = here();
    std::vector<Node> parts;
    bool is_slice = false;
    for (int part = 0; part < 3; ++part) {
      if (at_op(":") || at_op("]")) {
        parts.push_back(make(K::constant, "none", here()));
      } else {
        auto e = expr();
        if (!e) return e;
        parts.push_back(std::move(*e));
      }
      if (!skip_op(":")) break;
      is_slice = true;
    }
    if (!is_slice) return std::move(parts[0]);
    return make(K::slice, "", pos, std::move(parts));
  }

  // `(` args `)` appended to `call` (whose kids[0] is the callee or filtered value).
 public:
  Expected<Node> arguments(Node call) {
    if (auto e = expect_op("("); !e) return e.error();
    while (!skip_op(")")) {
      if (call.kids.size() > 1 || done()) {
        if (auto e = expect_op(","); !e) return e.error();
        if (skip_op(")")) break;
      }
      const auto pos = here();
      if (skip_op("*") || skip_op("**")) {
        auto e = expr();
        if (!e) return e;
        call.kids.push_back(std::move(*e));
      } else if (peek() && peek()->kind == TokKind::name && at_op("=", 1)) {
        std::string key = peek()->text;
        i_ += 2;
        auto e = expr();
        if (!e) return e;
        call.kids.push_back(make(K::kwarg, std::move(key), pos, {std::move(*e)}));
      } else {
        auto e = expr();
        if (!e) return e;
        call.kids.push_back(std::move(*e));
      }
    }
    return call;
  }

 private:
  Expected<Node> filters(Node node) {
    while (true) {
      const auto pos = here();
      if (node.height > kMaxHeight) return too_deep(pos);
      if (skip_op("|")) {
        auto name = dotted_name();
        if (!name) return name.error();
        Node f = make(K::filter, *name, pos, {std::move(node)});
        if (at_op("(")) {
          auto call = arguments(std::move(f));
          if (!call) return call;
          f = std::move(*call);
        }
        auto post = postfix(std::move(f));
        if (!post) return post;
        node = std::move(*post);
      } else if (skip_name("is")) {
        const bool negated = skip_name("not");
        auto name = dotted_name();
        if (!name) return name.error();
        Node test = make(K::test, (negated ? "not " : "") + *name, pos, {std::move(node)});
        if (at_op("(")) {
          auto call = arguments(std::move(test));
          if (!call) return call;
          test = std::move(*call);
        } else if (test_argument_follows()) {
          auto arg = primary();
          if (!arg) return arg;
          auto post = postfix(std::move(*arg));
          if (!post) return post;
          test.kids.push_back(std::move(*post));
        }
        node = std::move(test);
      } else {
        return node;
      }
    }
  }

  // `x is divisibleby 3`, `x is sameas none`: one bare argument, unless an operator follows.
  bool test_argument_follows() const {
    const Token* t = peek();
    if (!t) return false;
    if (t->kind == TokKind::name) {
      static constexpr std::array<std::string_view, 6> kStop = {"else", "or", "and",
                                                                "is",   "in", "if"};
      return std::find(kStop.begin(), kStop.end(), t->text) == kStop.end() && !at_name("not");
    }
    return t->kind != TokKind::op || t->text == "[" || t->text == "{";
  }

  Expected<std::string> dotted_name() {
    auto name = expect_name();
    if (!name) return name;
    std::string out = *name;
    while (at_op(".") && peek(1) && peek(1)->kind == TokKind::name) {
      out += "." + peek(1)->text;
      i_ += 2;
    }
    return out;
  }

  const std::vector<Token>& t_;
  std::size_t i_;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
};

// ---- statements ------------------------------------------------------------------------------

// Tags that open a body, and the tag that closes each.
struct Pair {
  std::string_view open, close;
};
constexpr std::array<Pair, 10> kPairs = {{{"for", "endfor"},
                                          {"if", "endif"},
                                          {"macro", "endmacro"},
                                          {"call", "endcall"},
                                          {"filter", "endfilter"},
                                          {"block", "endblock"},
                                          {"with", "endwith"},
                                          {"autoescape", "endautoescape"},
                                          {"generation", "endgeneration"},
                                          {"set", "endset"}}};

class StatementParser {
 public:
  StatementParser(const Block& b, std::size_t max_depth)
      : b_(b), p_(b.tokens, b.statement ? 1 : 0, max_depth) {}

  Expected<Statement> run() {
    Statement st;
    st.pos = b_.pos;
    if (!b_.statement) {
      auto e = p_.tuple();
      if (!e) return e.error();
      st.exprs.push_back(std::move(*e));
      return finish(std::move(st));
    }
    if (b_.tokens.empty() || b_.tokens[0].kind != TokKind::name) {
      return Error::at(b_.pos, "block has no tag name");
    }
    st.tag = b_.tokens[0].text;
    auto r = body(st);
    if (!r) return r.error();
    return finish(std::move(st));
  }

 private:
  Expected<Statement> finish(Statement st) {
    if (!p_.done()) return Error::at(p_.here(), "unexpected tokens at the end of the block");
    return st;
  }

  Expected<void> push(Statement& st, Expected<Node> e) {
    if (!e) return e.error();
    st.exprs.push_back(std::move(*e));
    return {};
  }

  static void names_of(const Node& target, std::vector<std::string>& out) {
    if (target.kind == K::name) out.push_back(target.text);
    for (const auto& k : target.kids) {
      if (target.kind == K::tuple || target.kind == K::list) names_of(k, out);
    }
  }

  Expected<void> body(Statement& st) {
    const std::string& tag = st.tag;
    if (tag == "for") return for_tag(st);
    if (tag == "if" || tag == "elif" || tag == "autoescape" || tag == "do" || tag == "extends" ||
        tag == "include") {
      if (auto r = push(st, p_.tuple()); !r) return r;
      if (tag == "include") {
        if (p_.skip_name("ignore") && !p_.skip_name("missing")) {
          return Error::at(p_.here(), "expected 'missing'");
        }
        context_clause();
      }
      return {};
    }
    if (tag == "set") return set_tag(st);
    if (tag == "macro" || tag == "call") return macro_tag(st);
    if (tag == "filter") return filter_tag(st);
    if (tag == "with") return with_tag(st);
    if (tag == "import") return import_tag(st);
    if (tag == "from") return from_tag(st);
    if (tag == "block") {
      auto name = p_.expect_name();
      if (!name) return name.error();
      p_.skip_name("scoped");
      p_.skip_name("required");
      return {};
    }
    if (tag == "endblock") {
      if (!p_.done()) (void)p_.expect_name();
      return {};
    }
    static constexpr std::array<std::string_view, 15> kBare = {
        "else",      "endif",      "endfor",        "endmacro", "endcall",
        "endfilter", "endwith",    "endautoescape", "endset",   "break",
        "continue",  "generation", "endgeneration", "endraw",   "pass"};
    if (std::find(kBare.begin(), kBare.end(), tag) != kBare.end()) return {};
    return Error::at(b_.tokens[0].pos, "unknown tag '" + tag + "'");
  }

  void context_clause() {
    if ((p_.at_name("with") || p_.at_name("without")) && p_.at_name("context", 1)) {
      p_.skip_name("with");
      p_.skip_name("without");
      p_.skip_name("context");
    }
  }

  // for-loop targets are names, possibly in a (nested) tuple: `k, v` or `(a, (b, c))`.
  Expected<void> target_names(std::vector<std::string>& out, int depth = 0) {
    if (depth > 16) return Error::at(p_.here(), "loop target nested too deeply");
    do {
      if (p_.skip_op("(")) {
        if (auto r = target_names(out, depth + 1); !r) return r;
        if (auto e = p_.expect_op(")"); !e) return e;
      } else {
        auto name = p_.expect_name();
        if (!name) return name.error();
        out.push_back(*name);
      }
    } while (p_.skip_op(","));
    return {};
  }

  Expected<void> for_tag(Statement& st) {
    if (auto r = target_names(st.binds); !r) return r;
    if (!p_.skip_name("in")) return Error::at(p_.here(), "expected 'in'");
    if (auto r = push(st, p_.tuple(false)); !r) return r;
    if (p_.skip_name("if")) {
      if (auto r = push(st, p_.expr()); !r) return r;
    }
    p_.skip_name("recursive");
    return {};
  }

  Expected<void> set_tag(Statement& st) {
    if (p_.at_op(".", 1)) {  // {% set ns.x = ... %}: an attribute of a namespace object
      const auto pos = p_.here();
      auto base = p_.expect_name();
      p_.skip_op(".");
      auto attr = p_.expect_name();
      if (!base || !attr) return Error::at(pos, "expected 'name.attribute'");
      st.exprs.push_back(make(K::attr, *attr, pos, {make(K::name, *base, pos)}));
    } else if (auto r = target_names(st.binds); !r) {
      return r;
    }
    if (p_.skip_op("=")) {
      st.tag = "set=";  // a one-line set has no {% endset %}
      return push(st, p_.tuple());
    }
    while (p_.skip_op("|")) {  // {% set x | filter %}...{% endset %}
      auto name = p_.expect_name();
      if (!name) return name.error();
    }
    return {};
  }

  Expected<void> macro_tag(Statement& st) {
    if (st.tag == "macro") {
      auto name = p_.expect_name();
      if (!name) return name.error();
      st.binds.push_back(*name);
    } else if (p_.at_op("(")) {
      if (auto r = parameters(st); !r) return r;
      return push(st, p_.expr());
    } else {
      return push(st, p_.expr());
    }
    return parameters(st);
  }

  Expected<void> parameters(Statement& st) {
    if (auto e = p_.expect_op("("); !e) return e;
    while (!p_.skip_op(")")) {
      if (p_.done()) return Error::at(p_.here(), "expected ')'");
      auto name = p_.expect_name();
      if (!name) return name.error();
      st.binds.push_back(*name);
      if (p_.skip_op("=")) {
        if (auto r = push(st, p_.expr()); !r) return r;
      }
      if (!p_.at_op(")") && !p_.skip_op(",")) return Error::at(p_.here(), "expected ','");
    }
    return {};
  }

  // {% filter upper %}, {% filter replace('a', 'b')|trim %}: filters applied to the body.
  Expected<void> filter_tag(Statement& st) {
    do {
      const auto pos = p_.here();
      auto name = p_.expect_name();
      if (!name) return name.error();
      Node f = make(K::filter, *name, pos, {make(K::name, "<body>", b_.pos)});
      if (p_.at_op("(")) {
        auto call = p_.arguments(std::move(f));
        if (!call) return call.error();
        f = std::move(*call);
      }
      st.exprs.push_back(std::move(f));
    } while (p_.skip_op("|"));
    return {};
  }

  Expected<void> with_tag(Statement& st) {
    while (!p_.done()) {
      auto name = p_.expect_name();
      if (!name) return name.error();
      st.binds.push_back(*name);
      if (auto e = p_.expect_op("="); !e) return e;
      if (auto r = push(st, p_.expr()); !r) return r;
      if (!p_.done() && !p_.skip_op(",")) return Error::at(p_.here(), "expected ','");
    }
    return {};
  }

  Expected<void> import_tag(Statement& st) {
    if (auto r = push(st, p_.expr()); !r) return r;
    if (!p_.skip_name("as")) return Error::at(p_.here(), "expected 'as'");
    auto name = p_.expect_name();
    if (!name) return name.error();
    st.binds.push_back(*name);
    context_clause();
    return {};
  }

  Expected<void> from_tag(Statement& st) {
    if (auto r = push(st, p_.expr()); !r) return r;
    if (!p_.skip_name("import")) return Error::at(p_.here(), "expected 'import'");
    while (!p_.done()) {
      if (p_.at_name("with") || p_.at_name("without")) {
        context_clause();
        break;
      }
      auto name = p_.expect_name();
      if (!name) return name.error();
      std::string bound = *name;
      if (p_.skip_name("as")) {
        auto alias = p_.expect_name();
        if (!alias) return alias.error();
        bound = *alias;
      }
      st.binds.push_back(bound);
      if (!p_.skip_op(",")) break;
    }
    return {};
  }

  const Block& b_;
  ExprParser p_;
};

// Checks that tags nest: every opener has its closer, else/elif sit inside if/for.
Expected<void> check_nesting(const std::vector<Statement>& sts) {
  std::vector<const Statement*> open;
  for (const auto& st : sts) {
    if (st.tag.empty() || st.tag == "set=") continue;
    const auto opener =
        std::find_if(kPairs.begin(), kPairs.end(), [&](const Pair& p) { return p.open == st.tag; });
    if (opener != kPairs.end()) {
      open.push_back(&st);
      continue;
    }
    const auto closer = std::find_if(kPairs.begin(), kPairs.end(),
                                     [&](const Pair& p) { return p.close == st.tag; });
    if (closer != kPairs.end()) {
      if (open.empty() || open.back()->tag != closer->open) {
        return Error::at(
            st.pos, "'" + st.tag + "' does not close an open '" + std::string(closer->open) + "'");
      }
      open.pop_back();
      continue;
    }
    const bool in_if = !open.empty() && open.back()->tag == "if";
    const bool in_for = !open.empty() && open.back()->tag == "for";
    if ((st.tag == "elif" && !in_if) || (st.tag == "else" && !in_if && !in_for)) {
      return Error::at(st.pos, "'" + st.tag + "' outside 'if' or 'for'");
    }
  }
  if (!open.empty()) {
    return Error::at(open.back()->pos, "'" + open.back()->tag + "' is never closed");
  }
  return {};
}

}  // namespace

Parsed parse(const std::vector<Block>& blocks, const ParseLimits& limits) {
  Parsed out;
  out.statements.reserve(blocks.size());
  for (const auto& b : blocks) {
    StatementParser p(b, limits.max_depth);
    auto st = p.run();
    if (st) {
      out.statements.push_back(std::move(*st));
    } else if (!out.error) {
      out.error = st.error();
    }
  }
  if (out.error) return out;
  if (auto r = check_nesting(out.statements); !r) out.error = r.error();
  return out;
}

}  // namespace mlsc::scan::jinja
