#include "python_source.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <unordered_map>
#include <utility>

namespace mlsc::scan::python {

namespace {

// ---------------------------------------------------------------------------------------------
// Tokenizer

enum class Tok { name, number, string, op, newline };

struct Token {
  Tok kind;
  std::string_view text;  // names, numbers, operators
  std::string value;      // strings: the contents, simple escapes decoded
  std::uint32_t line;
};

constexpr std::size_t kMaxFStringDepth = 4;

bool ident_start(unsigned char c) {
  return std::isalpha(c) || c == '_' || c >= 0x80;
}
bool ident_char(unsigned char c) {
  return ident_start(c) || std::isdigit(c);
}

bool string_prefix(std::string_view p) {
  if (p.size() > 2) return false;
  for (char c : p) {
    if (std::string_view("rRbBuUfF").find(c) == std::string_view::npos) return false;
  }
  return true;
}

class Tokenizer {
 public:
  Tokenizer(std::string_view src, std::uint32_t line, std::size_t depth)
      : s_(src), line_(line), depth_(depth) {}

  std::vector<Token> run() {
    while (pos_ < s_.size()) step();
    return std::move(out_);
  }

 private:
  void step() {
    const auto c = static_cast<unsigned char>(s_[pos_]);
    if (c == '\n') {
      if (parens_ == 0) out_.push_back({Tok::newline, s_.substr(pos_, 1), {}, line_});
      ++line_;
      ++pos_;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
      ++pos_;
    } else if (c == '#') {
      while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
    } else if (c == '\\') {
      ++pos_;  // line continuation: the newline that follows is not a statement end
      if (pos_ < s_.size() && s_[pos_] == '\r') ++pos_;
      if (pos_ < s_.size() && s_[pos_] == '\n') {
        ++line_;
        ++pos_;
      }
    } else if (ident_start(c)) {
      name();
    } else if (std::isdigit(c) || (c == '.' && pos_ + 1 < s_.size() &&
                                   std::isdigit(static_cast<unsigned char>(s_[pos_ + 1])))) {
      number();
    } else if (c == '\'' || c == '"') {
      string("");
    } else {
      op();
    }
  }

  void name() {
    const auto start = pos_;
    while (pos_ < s_.size() && ident_char(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    const auto text = s_.substr(start, pos_ - start);
    if (pos_ < s_.size() && (s_[pos_] == '\'' || s_[pos_] == '"') && string_prefix(text)) {
      string(text);
      return;
    }
    out_.push_back({Tok::name, text, {}, line_});
  }

  void number() {
    const auto start = pos_;
    while (pos_ < s_.size() &&
           (ident_char(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.')) {
      ++pos_;
    }
    out_.push_back({Tok::number, s_.substr(start, pos_ - start), {}, line_});
  }

  void string(std::string_view prefix) {
    const bool raw = prefix.find_first_of("rR") != std::string_view::npos;
    const bool fstr = prefix.find_first_of("fF") != std::string_view::npos;
    const char q = s_[pos_];
    const bool triple = s_.substr(pos_, 3) == std::string(3, q);
    pos_ += triple ? 3 : 1;
    const std::uint32_t first_line = line_;
    std::string value;
    const auto body_start = pos_;
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '\\' && pos_ + 1 < s_.size()) {
        if (s_[pos_ + 1] == '\n') ++line_;
        value += raw ? std::string(s_.substr(pos_, 2)) : unescape(s_[pos_ + 1]);
        pos_ += 2;
        continue;
      }
      if (triple ? s_.substr(pos_, 3) == std::string(3, q) : c == q) break;
      if (c == '\n') {
        if (!triple) break;  // unterminated single-quoted string ends at the line
        ++line_;
      }
      value += c;
      ++pos_;
    }
    const auto body = s_.substr(body_start, pos_ - body_start);
    if (pos_ < s_.size() && s_[pos_] == q) pos_ += triple ? 3 : 1;
    if (fstr) fields(body, first_line);
    out_.push_back({Tok::string, {}, std::move(value), first_line});
  }

  static std::string unescape(char c) {
    switch (c) {
      case 'n':
        return "\n";
      case 't':
        return "\t";
      case '\\':
        return "\\";
      case '\'':
        return "'";
      case '"':
        return "\"";
      default:
        return std::string("\\") + c;
    }
  }

  // The expressions inside an f-string's {fields} run when the string is built.
  void fields(std::string_view body, std::uint32_t line) {
    if (depth_ >= kMaxFStringDepth) return;
    std::size_t i = 0;
    while (i < body.size()) {
      if (body[i] == '{' && i + 1 < body.size() && body[i + 1] == '{') {
        i += 2;
        continue;
      }
      if (body[i] != '{') {
        ++i;
        continue;
      }
      std::size_t depth = 1, j = i + 1;
      for (; j < body.size() && depth > 0; ++j) {
        if (body[j] == '{') ++depth;
        if (body[j] == '}') --depth;
      }
      Tokenizer inner(body.substr(i + 1, j - i - 2 < body.size() ? j - i - 2 : 0), line,
                      depth_ + 1);
      auto toks = inner.run();
      out_.push_back({Tok::op, "(", {}, line});  // keep the field apart from its neighbours
      for (auto& t : toks) out_.push_back(std::move(t));
      out_.push_back({Tok::op, ")", {}, line});
      i = j;
    }
  }

  void op() {
    static constexpr std::array<std::string_view, 8> kTwo = {
        "==", "!=", "<=", ">=", ":=", "**", "->", "//"};
    for (auto t : kTwo) {
      if (s_.substr(pos_, 2) == t) {
        out_.push_back({Tok::op, s_.substr(pos_, 2), {}, line_});
        pos_ += 2;
        return;
      }
    }
    const char c = s_[pos_];
    if (c == '(' || c == '[' || c == '{') ++parens_;
    if ((c == ')' || c == ']' || c == '}') && parens_ > 0) --parens_;
    out_.push_back({Tok::op, s_.substr(pos_, 1), {}, line_});
    ++pos_;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::uint32_t line_;
  std::size_t depth_;
  std::size_t parens_ = 0;
  std::vector<Token> out_;
};

// ---------------------------------------------------------------------------------------------
// What names reach

struct Entry {
  // "os.system" exact; "os.exec*" any name with that prefix; a module entry ("subprocess")
  // also covers everything the module holds.
  std::string_view pattern;
  Category category;
  bool module;
};

constexpr Entry kTable[] = {
    {"os.system", Category::process, false},
    {"os.popen", Category::process, false},
    {"os.spawn*", Category::process, false},
    {"os.exec*", Category::process, false},
    {"os.fork", Category::process, false},
    {"os.forkpty", Category::process, false},
    {"os.posix_spawn*", Category::process, false},
    {"os.startfile", Category::process, false},
    {"os.kill", Category::process, false},
    {"os.killpg", Category::process, false},
    {"posix.system", Category::process, false},
    {"posix.popen", Category::process, false},
    {"nt.system", Category::process, false},
    {"nt.popen", Category::process, false},
    {"subprocess", Category::process, true},
    {"pty", Category::process, true},
    {"commands", Category::process, true},
    {"popen2", Category::process, true},
    {"platform.popen", Category::process, false},
    {"pexpect", Category::process, true},
    {"asyncio.create_subprocess_exec", Category::process, false},
    {"asyncio.create_subprocess_shell", Category::process, false},
    {"builtins.eval", Category::exec, false},
    {"builtins.exec", Category::exec, false},
    {"builtins.compile", Category::exec, false},
    {"builtins.__import__", Category::exec, false},
    {"builtins.execfile", Category::exec, false},
    {"builtins.__builtins__", Category::exec, false},
    {"importlib.import_module", Category::exec, false},
    {"importlib.__import__", Category::exec, false},
    {"importlib.util.spec_from_file_location", Category::exec, false},
    {"importlib.machinery.SourceFileLoader", Category::exec, false},
    {"runpy", Category::exec, true},
    {"marshal.loads", Category::exec, false},
    {"marshal.load", Category::exec, false},
    {"types.CodeType", Category::exec, false},
    {"types.FunctionType", Category::exec, false},
    {"code.interact", Category::exec, false},
    {"code.InteractiveInterpreter", Category::exec, false},
    {"code.InteractiveConsole", Category::exec, false},
    {"socket", Category::network, true},
    {"urllib.request", Category::network, true},
    {"urllib.urlopen", Category::network, false},
    {"urllib.urlretrieve", Category::network, false},
    {"urllib2", Category::network, true},
    {"http.client", Category::network, true},
    {"httplib", Category::network, true},
    {"requests", Category::network, true},
    {"httpx", Category::network, true},
    {"aiohttp", Category::network, true},
    {"ftplib", Category::network, true},
    {"smtplib", Category::network, true},
    {"telnetlib", Category::network, true},
    {"paramiko", Category::network, true},
    {"urllib3", Category::network, true},
    {"websocket", Category::network, true},
    {"websockets", Category::network, true},
    {"xmlrpc.client", Category::network, true},
    {"socketserver", Category::network, true},
    {"http.server", Category::network, true},
    {"ctypes", Category::native, true},
    {"_ctypes", Category::native, true},
    {"cffi", Category::native, true},
    {"pickle.load", Category::deserialize, false},
    {"pickle.loads", Category::deserialize, false},
    {"pickle.Unpickler", Category::deserialize, false},
    {"_pickle.load", Category::deserialize, false},
    {"_pickle.loads", Category::deserialize, false},
    {"cPickle.load", Category::deserialize, false},
    {"cPickle.loads", Category::deserialize, false},
    {"dill.load", Category::deserialize, false},
    {"dill.loads", Category::deserialize, false},
    {"joblib.load", Category::deserialize, false},
    {"torch.load", Category::deserialize, false},
    {"yaml.load", Category::deserialize, false},
    {"yaml.unsafe_load", Category::deserialize, false},
    {"shelve.open", Category::deserialize, false},
    {"os.remove", Category::file_write, false},
    {"os.unlink", Category::file_write, false},
    {"os.rmdir", Category::file_write, false},
    {"os.removedirs", Category::file_write, false},
    {"os.rename", Category::file_write, false},
    {"os.replace", Category::file_write, false},
    {"os.chmod", Category::file_write, false},
    {"os.symlink", Category::file_write, false},
    {"shutil.rmtree", Category::file_write, false},
    {"shutil.move", Category::file_write, false},
    {"shutil.copy*", Category::file_write, false},
    {"os.environ", Category::environment, false},
    {"os.getenv", Category::environment, false},
};

// Names a bare call reaches without an import.
constexpr std::string_view kBuiltins[] = {"eval",       "exec",     "compile",
                                          "__import__", "execfile", "open"};

bool has_prefix(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

const Entry* lookup(std::string_view q) {
  for (const auto& e : kTable) {
    const auto p = e.pattern;
    if (p.back() == '*' ? has_prefix(q, p.substr(0, p.size() - 1))
                        : q == p || (e.module && q.size() > p.size() && has_prefix(q, p) &&
                                     q[p.size()] == '.')) {
      return &e;
    }
  }
  return nullptr;
}

bool is_op(const Token& t, std::string_view op) {
  return t.kind == Tok::op && t.text == op;
}
bool is_name(const Token& t, std::string_view n) {
  return t.kind == Tok::name && t.text == n;
}

class Analyser {
 public:
  Analyser(std::vector<Token> tokens, std::size_t max_uses)
      : t_(std::move(tokens)), max_uses_(max_uses) {}

  Analysis run() {
    while (i_ < t_.size() && !out_.truncated) {
      if (is_name(t_[i_], "import")) {
        import_stmt();
      } else if (is_name(t_[i_], "from")) {
        from_stmt();
      } else if (t_[i_].kind == Tok::name && (i_ == 0 || !is_op(t_[i_ - 1], "."))) {
        reference();
      } else {
        ++i_;
      }
    }
    return std::move(out_);
  }

 private:
  const Token* at(std::size_t k) const { return k < t_.size() ? &t_[k] : nullptr; }

  void add(Category c, std::string what, std::uint32_t line) {
    if (!seen_.insert(what).second) return;
    if (out_.uses.size() >= max_uses_) {
      out_.truncated = true;
      return;
    }
    out_.uses.push_back({c, std::move(what), line});
  }

  // NAME (. NAME)* starting at i_; advances past it.
  std::string dotted() {
    std::string name(t_[i_].text);
    ++i_;
    while (at(i_ + 1) && is_op(t_[i_], ".") && t_[i_ + 1].kind == Tok::name) {
      name += ".";
      name += t_[i_ + 1].text;
      i_ += 2;
    }
    return name;
  }

  // `import M` of a module whose whole purpose is a primitive (subprocess, socket, ctypes).
  void note_module(const std::string& module, std::uint32_t line) {
    const Entry* e = lookup(module);
    if (e != nullptr && e->module) add(e->category, "import " + module, line);
  }

  void import_stmt() {
    const auto line = t_[i_].line;
    ++i_;
    while (at(i_) && t_[i_].kind == Tok::name) {
      const std::string module = dotted();
      std::string bound = module.substr(0, module.find('.'));
      std::string target = bound;
      if (at(i_ + 1) && is_name(t_[i_], "as") && t_[i_ + 1].kind == Tok::name) {
        bound = std::string(t_[i_ + 1].text);
        target = module;
        i_ += 2;
      }
      bindings_[bound] = target;
      note_module(module, line);
      if (!at(i_) || !is_op(t_[i_], ",")) break;
      ++i_;
    }
  }

  void from_stmt() {
    const auto line = t_[i_].line;
    ++i_;
    std::size_t dots = 0;
    while (at(i_) && (is_op(t_[i_], ".") || (t_[i_].kind == Tok::op && t_[i_].text == "..."))) {
      dots += t_[i_].text.size();
      ++i_;
    }
    std::string module;
    if (at(i_) && t_[i_].kind == Tok::name && !is_name(t_[i_], "import")) module = dotted();
    if (!at(i_) || !is_name(t_[i_], "import")) return;  // `yield from x`, `raise A from B`
    ++i_;
    if (at(i_) && is_op(t_[i_], "(")) ++i_;
    if (at(i_) && is_op(t_[i_], "*")) {
      if (dots == 0) stars_.push_back(module);
      ++i_;
      return;
    }
    while (at(i_) && t_[i_].kind == Tok::name) {
      const std::string name(t_[i_].text);
      std::string bound = name;
      ++i_;
      if (at(i_ + 1) && is_name(t_[i_], "as") && t_[i_ + 1].kind == Tok::name) {
        bound = std::string(t_[i_ + 1].text);
        i_ += 2;
      }
      if (dots > 0) {
        relative(dots, module.empty() ? name : module);
      } else {
        bindings_[bound] = module + "." + name;
        const Entry* e = lookup(module + "." + name);
        if (e != nullptr && !e->module) add(e->category, module + "." + name, line);
      }
      if (!at(i_) || !is_op(t_[i_], ",")) break;
      ++i_;
    }
    if (dots > 0 && module.empty()) return;
    if (dots == 0) note_module(module, line);
  }

  void relative(std::size_t dots, std::string module) {
    std::replace(module.begin(), module.end(), '.', '/');
    std::string path;
    for (std::size_t d = 1; d < dots; ++d) path += "../";
    path += module;
    if (std::find(out_.relative_imports.begin(), out_.relative_imports.end(), path) ==
        out_.relative_imports.end()) {
      out_.relative_imports.push_back(path);
    }
  }

  std::string resolve(const std::string& chain, bool called) const {
    const auto dot = chain.find('.');
    const std::string root = chain.substr(0, dot);
    const std::string rest = dot == std::string::npos ? "" : chain.substr(dot);
    if (auto it = bindings_.find(root); it != bindings_.end()) return it->second + rest;
    if (root == "__builtins__") return "builtins.__builtins__";
    if (rest.empty() && called &&
        std::find(std::begin(kBuiltins), std::end(kBuiltins), root) != std::end(kBuiltins)) {
      return "builtins." + root;
    }
    for (const auto& m : stars_) {
      if (lookup(m + "." + chain) != nullptr) return m + "." + chain;
    }
    return {};
  }

  void reference() {
    const auto line = t_[i_].line;
    const bool after_def = i_ > 0 && (is_name(t_[i_ - 1], "def") || is_name(t_[i_ - 1], "class"));
    const std::string chain = dotted();
    if (after_def) return;
    const bool called = at(i_) && is_op(t_[i_], "(");
    if (chain == "getattr" && called) {
      getattr_call(line);
      return;
    }
    const std::string q = resolve(chain, called);
    if (q.empty()) return;
    if (q == "builtins.open") {
      add(open_mode_writes(i_) ? Category::file_write : Category::file_read,
          open_mode_writes(i_) ? "open(mode=write)" : "open", line);
      return;
    }
    if (const Entry* e = lookup(q)) add(e->category, q, line);
  }

  // getattr(<module>, '<name>') is <module>.<name>.
  void getattr_call(std::uint32_t line) {
    const Token* a = at(i_ + 1);
    const Token* comma = at(i_ + 2);
    const Token* s = at(i_ + 3);
    if (!a || !comma || !s || a->kind != Tok::name || !is_op(*comma, ",") ||
        s->kind != Tok::string) {
      return;
    }
    const std::string base = resolve(std::string(a->text), false);
    const std::string q = (base.empty() ? std::string(a->text) : base) + "." + s->value;
    if (const Entry* e = lookup(q)) add(e->category, "getattr(" + q + ")", line);
    if (s->value.size() > 4 && s->value.rfind("__", 0) == 0) {
      add(Category::exec, "getattr(..., '" + s->value + "')", line);
    }
  }

  // open(path, 'w') / open(path, mode='a+'): does the call at `k` ('(') write?
  bool open_mode_writes(std::size_t k) const {
    std::size_t depth = 0, arg = 0;
    for (std::size_t j = k; j < t_.size(); ++j) {
      const Token& t = t_[j];
      if (t.kind == Tok::op && (t.text == "(" || t.text == "[" || t.text == "{")) ++depth;
      if (t.kind == Tok::op && (t.text == ")" || t.text == "]" || t.text == "}")) {
        if (--depth == 0) return false;
      }
      if (depth != 1) continue;
      if (is_op(t, ",")) ++arg;
      const bool mode_kw = is_name(t, "mode") && at(j + 2) && is_op(t_[j + 1], "=");
      const Token* lit = mode_kw ? &t_[j + 2] : (arg == 1 && t.kind == Tok::string ? &t : nullptr);
      if (lit != nullptr && lit->kind == Tok::string) {
        return lit->value.find_first_of("wax+") != std::string::npos;
      }
    }
    return false;
  }

  std::vector<Token> t_;
  std::size_t i_ = 0;
  std::size_t max_uses_;
  std::unordered_map<std::string, std::string> bindings_;
  std::vector<std::string> stars_;
  std::set<std::string> seen_;
  Analysis out_;
};

}  // namespace

Analysis analyse(std::string_view source, std::size_t max_uses) {
  Tokenizer tokenizer(source, 1, 0);
  Analyser analyser(tokenizer.run(), max_uses);
  return analyser.run();
}

std::vector<Use> analyse_snippet(std::string_view text) {
  auto a = analyse(text, 16);
  // A bare `open(...)` in prose ("open (source)") is not worth a word; primitives are.
  a.uses.erase(std::remove_if(a.uses.begin(), a.uses.end(),
                              [](const Use& u) {
                                return u.category == Category::file_read ||
                                       u.category == Category::environment;
                              }),
               a.uses.end());
  return a.uses;
}

std::string_view category_name(Category c) {
  switch (c) {
    case Category::process:
      return "process";
    case Category::exec:
      return "dynamic code";
    case Category::network:
      return "network";
    case Category::native:
      return "native code";
    case Category::deserialize:
      return "deserialisation";
    case Category::file_write:
      return "file write";
    case Category::file_read:
      return "file read";
    case Category::environment:
      return "environment";
  }
  return "unknown";
}

Severity category_severity(Category c) {
  switch (c) {
    case Category::process:
      return Severity::critical;
    case Category::exec:
    case Category::network:
    case Category::native:
      return Severity::high;
    case Category::deserialize:
    case Category::file_write:
      return Severity::medium;
    case Category::file_read:
    case Category::environment:
      return Severity::low;
  }
  return Severity::medium;
}

std::string describe(const std::vector<Use>& uses, std::size_t max_names) {
  std::string out;
  for (std::size_t k = 0; k < uses.size() && k < max_names; ++k) {
    if (!out.empty()) out += ", ";
    out += uses[k].what + " (" + std::string(category_name(uses[k].category)) + ")";
  }
  if (uses.size() > max_names) out += " and " + std::to_string(uses.size() - max_names) + " more";
  return out;
}

}  // namespace mlsc::scan::python
