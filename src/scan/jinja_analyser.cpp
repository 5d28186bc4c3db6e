// Checks parsed Jinja expression trees for template-injection primitives. Names and attribute
// names are also recovered where the template builds them from constants ('__cla' ~ 'ss__',
// '\x5f\x5fclass\x5f\x5f', ['__', 'class', '__']|join, '__ssalc__'|reverse, a {% set %} variable
// holding such a string), because that is how the published payloads dodge string matching.
#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <unordered_map>

#include "jinja.hpp"

namespace mlsc::scan::jinja {

namespace {

using K = Node::Kind;

bool contains(std::initializer_list<std::string_view> set, std::string_view s) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

bool is_dunder(std::string_view s) {
  return s.size() > 4 && s.substr(0, 2) == "__" && s.substr(s.size() - 2) == "__";
}

// Dunders that lead from any object to classes, modules, code and builtins.
bool escape_dunder(std::string_view s) {
  return contains(
      {"__class__",     "__mro__",      "__base__",   "__bases__",        "__subclasses__",
       "__globals__",   "__builtins__", "__import__", "__init__",         "__code__",
       "__func__",      "__self__",     "__dict__",   "__getattribute__", "__reduce__",
       "__reduce_ex__", "__loader__",   "__spec__",   "__closure__",      "__getitem__",
       "__module__",    "__new__",      "__call__",   "__traceback__",    "__frame__"},
      s);
}

// Globals that every Jinja environment (or Flask) provides and that reach Python objects whose
// attributes lead to modules: cycler.__init__.__globals__.os and friends.
bool gadget_global(std::string_view s) {
  return contains({"cycler", "joiner", "namespace", "lipsum", "range", "dict", "config", "request",
                   "self", "url_for", "get_flashed_messages", "session", "g"},
                  s);
}

// Names of process, code and module primitives, as globals or attributes.
bool dangerous_name(std::string_view s) {
  return contains(
      {"os",         "sys",       "subprocess",    "popen",     "system",  "eval",
       "exec",       "execfile",  "compile",       "getattr",   "setattr", "globals",
       "locals",     "importlib", "import_module", "builtins",  "open",    "check_output",
       "check_call", "Popen",     "spawn",         "getoutput", "environ", "func_globals",
       "f_globals",  "gi_frame",  "tb_frame",      "f_back"},
      s);
}

class Analyser {
 public:
  Analyser(Analysis& out, const AnalyseLimits& limits) : out_(out), limits_(limits) {}

  void run(const std::vector<Statement>& statements) {
    for (const auto& st : statements) {
      for (const auto& name : st.binds) locals_.insert(name);
    }
    // Constants assigned by {% set x = '...' %}, for subscripts like x[name].
    for (const auto& st : statements) {
      if (st.tag == "set=" && st.binds.size() == 1 && !st.exprs.empty()) {
        if (auto v = const_str(st.exprs.back(), 0)) consts_[st.binds[0]] = *v;
      }
    }
    for (const auto& st : statements) {
      if (contains({"include", "import", "extends", "from"}, st.tag)) {
        std::string target =
            st.exprs.empty() ? "" : const_str(st.exprs[0], 0).value_or("<computed>");
        add(Severity::medium, "jinja.template-load",
            "{% " + st.tag + " '" + target +
                "' %} loads another template through the environment's loader",
            st.pos);
      }
      for (const auto& e : st.exprs) walk(e, 0);
    }
  }

 private:
  void add(Severity sev, std::string rule, std::string message, std::size_t pos) {
    const auto key = rule + "\n" + message;
    if (!seen_.insert(key).second) return;
    if (out_.issues.size() >= limits_.max_issues) return;
    out_.issues.push_back({sev, std::move(rule), std::move(message), pos});
  }

  // ---- constant strings -----------------------------------------------------------------

  std::optional<std::string> const_str(const Node& n, int depth) const {
    if (depth > 32) return std::nullopt;
    switch (n.kind) {
      case K::str:
        return n.text;
      case K::name: {
        auto it = consts_.find(n.text);
        if (it != consts_.end()) return it->second;
        return std::nullopt;
      }
      case K::binary:
        if (n.text == "~" || n.text == "+") {
          auto a = const_str(n.kids[0], depth + 1);
          auto b = const_str(n.kids[1], depth + 1);
          if (a && b) return *a + *b;
        }
        if (n.text == "%") return percent_format(n, depth);
        return std::nullopt;
      case K::filter:
        return const_filter(n, depth);
      case K::call:
        return const_call(n, depth);
      default:
        return std::nullopt;
    }
  }

  std::optional<std::vector<std::string>> const_list(const Node& n, int depth) const {
    if (n.kind != K::list && n.kind != K::tuple) {
      if (auto s = const_str(n, depth)) return std::vector<std::string>{*s};
      return std::nullopt;
    }
    std::vector<std::string> out;
    for (const auto& k : n.kids) {
      auto s = const_str(k, depth + 1);
      if (!s) return std::nullopt;
      out.push_back(*s);
    }
    return out;
  }

  static std::string join(const std::vector<std::string>& parts, const std::string& sep) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
    return out;
  }

  // 'format %s' % ('x',) and 'format %s'|format('x')
  std::optional<std::string> substitute(std::string fmt,
                                        const std::vector<std::string>& args) const {
    std::size_t next = 0;
    for (std::size_t p = fmt.find("%s"); p != std::string::npos && next < args.size();
         p = fmt.find("%s", p)) {
      fmt.replace(p, 2, args[next]);
      p += args[next++].size();
    }
    return fmt;
  }

  std::optional<std::string> percent_format(const Node& n, int depth) const {
    auto fmt = const_str(n.kids[0], depth + 1);
    auto args = const_list(n.kids[1], depth + 1);
    if (!fmt || !args) return std::nullopt;
    return substitute(*fmt, *args);
  }

  std::optional<std::string> const_filter(const Node& n, int depth) const {
    const std::string& f = n.text;
    if (f == "join") {
      auto parts = const_list(n.kids[0], depth + 1);
      auto sep =
          n.kids.size() > 1 ? const_str(n.kids[1], depth + 1) : std::optional<std::string>("");
      if (parts && sep) return join(*parts, *sep);
      return std::nullopt;
    }
    auto v = const_str(n.kids[0], depth + 1);
    if (!v) return std::nullopt;
    if (f == "reverse") return std::string(v->rbegin(), v->rend());
    if (f == "lower" || f == "upper") {
      std::string out = *v;
      for (auto& c : out)
        c = static_cast<char>(f == "lower" ? std::tolower(static_cast<unsigned char>(c))
                                           : std::toupper(static_cast<unsigned char>(c)));
      return out;
    }
    if (f == "string" || f == "trim" || f == "e" || f == "safe") return v;
    if (f == "format") {
      std::vector<std::string> args;
      for (std::size_t i = 1; i < n.kids.size(); ++i) {
        auto a = const_str(n.kids[i], depth + 1);
        if (!a) return std::nullopt;
        args.push_back(*a);
      }
      return substitute(*v, args);
    }
    if (f == "replace" && n.kids.size() >= 3) return replace_all(*v, n.kids[1], n.kids[2], depth);
    return std::nullopt;
  }

  std::optional<std::string> replace_all(std::string v, const Node& from, const Node& to,
                                         int depth) const {
    auto a = const_str(from, depth + 1);
    auto b = const_str(to, depth + 1);
    if (!a || !b || a->empty()) return std::nullopt;
    for (std::size_t p = v.find(*a); p != std::string::npos; p = v.find(*a, p + b->size())) {
      v.replace(p, a->size(), *b);
    }
    return v;
  }

  // ''.join([...]), chr(95), 'x'.replace('a', 'b'), '{}{}'.format('__', 'class__')
  std::optional<std::string> const_call(const Node& n, int depth) const {
    const Node& callee = n.kids[0];
    if (callee.kind == K::name && callee.text == "chr" && n.kids.size() == 2 &&
        n.kids[1].kind == K::number) {
      const long cp = std::strtol(n.kids[1].text.c_str(), nullptr, 10);
      if (cp > 0 && cp < 128) return std::string(1, static_cast<char>(cp));
      return std::nullopt;
    }
    if (callee.kind != K::attr) return std::nullopt;
    auto recv = const_str(callee.kids[0], depth + 1);
    if (!recv) return std::nullopt;
    if (callee.text == "join" && n.kids.size() == 2) {
      auto parts = const_list(n.kids[1], depth + 1);
      if (parts) return join(*parts, *recv);
    }
    if (callee.text == "replace" && n.kids.size() == 3)
      return replace_all(*recv, n.kids[1], n.kids[2], depth);
    if (callee.text == "format") {
      std::string out = *recv;
      for (std::size_t i = 1; i < n.kids.size(); ++i) {
        auto a = const_str(n.kids[i], depth + 1);
        const auto p = out.find("{}");
        if (!a || p == std::string::npos) return std::nullopt;
        out.replace(p, 2, *a);
      }
      return out;
    }
    if (callee.text == "lower" || callee.text == "upper" || callee.text == "strip") {
      return const_filter(
          Node{K::filter, callee.text == "strip" ? "trim" : callee.text, {callee.kids[0]}, n.pos},
          depth + 1);
    }
    return std::nullopt;
  }

  // ---- checks ---------------------------------------------------------------------------

  void attribute(const std::string& name, std::size_t pos, std::string_view how) {
    const std::string where = how.empty() ? "" : " (" + std::string(how) + ")";
    if (name == "_TemplateReference__context") {
      add(Severity::critical, "jinja.private-attribute",
          "self._TemplateReference__context reaches the template context and its globals" + where,
          pos);
    } else if (is_dunder(name)) {
      add(escape_dunder(name) ? Severity::critical : Severity::high, "jinja.dunder-access",
          "access to '" + name + "'" + where +
              ": dunder attributes lead from template data to Python classes, modules and builtins",
          pos);
    } else if (!name.empty() && name[0] == '_') {
      add(Severity::high, "jinja.private-attribute",
          "access to private attribute '" + name + "'" + where + "; the Jinja sandbox blocks it",
          pos);
    } else if (dangerous_name(name)) {
      add(Severity::high, "jinja.dangerous-name",
          "attribute '" + name + "'" + where + " names a process, module or code primitive", pos);
    }
  }

  void name(const Node& n) {
    if (locals_.count(n.text) != 0) return;
    if (is_dunder(n.text)) {
      attribute(n.text, n.pos, "as a global name");
    } else if (dangerous_name(n.text)) {
      add(Severity::high, "jinja.dangerous-name",
          "global '" + n.text + "' names a process, module or code primitive", n.pos);
    }
  }

  void gadget(const Node& base, const Node& access, const std::string& attr) {
    if (base.kind != K::name || !gadget_global(base.text) || locals_.count(base.text) != 0) return;
    add(Severity::high, "jinja.gadget-global",
        "attribute '" + attr + "' of the global '" + base.text +
            "': template globals are Python objects whose attributes reach modules",
        access.pos);
  }

  void subscript(const Node& n, int depth) {
    if (auto key = const_str(n.kids[1], depth)) {
      attribute(
          *key, n.pos,
          n.kids[1].kind == K::str ? "as a subscript" : "as a subscript built from constants");
      gadget(n.kids[0], n, *key);
    }
  }

  void filter(const Node& n, int depth) {
    const std::string& f = n.text;
    if (f == "attr") {
      if (n.kids.size() < 2) return;
      if (auto a = const_str(n.kids[1], depth)) {
        attribute(*a, n.pos, "through |attr()");
        gadget(n.kids[0], n, *a);
      } else {
        add(Severity::medium, "jinja.dynamic-attribute",
            "|attr() with a computed name: the attribute cannot be checked statically", n.pos);
      }
      return;
    }
    for (std::size_t i = 1; i < n.kids.size(); ++i) {
      const Node& arg = n.kids[i];
      const bool attr_kw = arg.kind == K::kwarg && arg.text == "attribute";
      const bool attr_pos =
          i == 1 && arg.kind != K::kwarg && contains({"selectattr", "rejectattr", "groupby"}, f);
      if (!attr_kw && !attr_pos) continue;
      if (auto a = const_str(attr_kw ? arg.kids[0] : arg, depth)) {
        std::size_t start = 0;
        while (start <= a->size()) {  // attribute='a.b' walks a then b
          const auto dot = a->find('.', start);
          attribute(a->substr(start, dot - start), n.pos, "through |" + f + "()");
          if (dot == std::string::npos) break;
          start = dot + 1;
        }
      }
    }
  }

  // '{0.__class__}'.format(x): str.format reads attributes named in the format string.
  void format_call(const Node& n, int depth) {
    const Node& callee = n.kids[0];
    if (callee.kind != K::attr || (callee.text != "format" && callee.text != "format_map")) return;
    auto fmt = const_str(callee.kids[0], depth);
    if (!fmt) return;
    for (std::size_t p = fmt->find('{'); p != std::string::npos; p = fmt->find('{', p + 1)) {
      const auto close = fmt->find('}', p);
      if (close == std::string::npos) break;
      const std::string field = fmt->substr(p + 1, close - p - 1);
      if (field.find("._") != std::string::npos || field.find("[_") != std::string::npos) {
        add(Severity::critical, "jinja.format-string",
            "format string field '{" + field + "}' reads private or dunder attributes", n.pos);
      }
    }
  }

  // getattr(x, '__class__') where a template (or a non-Jinja engine) provides getattr.
  void getattr_call(const Node& n, int depth) {
    const Node& callee = n.kids[0];
    if (callee.kind != K::name || callee.text != "getattr" || n.kids.size() < 3) return;
    if (auto a = const_str(n.kids[2], depth)) attribute(*a, n.pos, "through getattr()");
  }

  void walk(const Node& n, int depth) {
    if (depth > 256) return;
    switch (n.kind) {
      case K::name:
        name(n);
        break;
      case K::attr:
        attribute(n.text, n.pos, "");
        gadget(n.kids[0], n, n.text);
        break;
      case K::item:
        subscript(n, depth);
        break;
      case K::filter:
        filter(n, depth);
        break;
      case K::call:
        format_call(n, depth);
        getattr_call(n, depth);
        break;
      default:
        break;
    }
    for (const auto& k : n.kids) walk(k, depth + 1);
  }

  Analysis& out_;
  const AnalyseLimits& limits_;
  std::set<std::string> locals_;
  std::unordered_map<std::string, std::string> consts_;
  std::set<std::string> seen_;
};

}  // namespace

Analysis analyse(std::string_view source, const AnalyseLimits& limits) {
  Analysis out;
  if (source.size() > limits.max_bytes) {
    out.too_large = true;
    out.parse_error = Error{"template is " + std::to_string(source.size()) + " bytes; over the " +
                            std::to_string(limits.max_bytes) + "-byte analysis limit"};
    return out;
  }
  auto blocks = lex(source);
  if (!blocks) {
    out.parse_error = blocks.error();
    return out;
  }
  out.blocks = blocks->size();
  auto parsed = parse(*blocks);
  out.parse_error = parsed.error;
  Analyser(out, limits).run(parsed.statements);
  return out;
}

bool looks_like_template(std::string_view text) {
  const auto expr = text.find("{{");
  if (expr != std::string_view::npos && text.find("}}", expr + 2) != std::string_view::npos)
    return true;
  const auto stmt = text.find("{%");
  return stmt != std::string_view::npos && text.find("%}", stmt + 2) != std::string_view::npos;
}

}  // namespace mlsc::scan::jinja
