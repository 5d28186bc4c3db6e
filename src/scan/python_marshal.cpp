#include "python_marshal.hpp"

#include <array>
#include <set>
#include <string_view>

namespace mlsc::scan::marshal {

namespace {

enum class Layout { py311, py38, py30 };

constexpr std::string_view layout_name(Layout l) {
  switch (l) {
    case Layout::py311:
      return "3.11+";
    case Layout::py38:
      return "3.8-3.10";
    case Layout::py30:
      return "3.0-3.7";
  }
  return "?";
}

enum class Kind { null, singleton, number, str, bytes, tuple, list, dict, set, code, slice };

struct Node {
  Kind kind = Kind::null;
  std::string text;                // str / bytes payload
  std::vector<std::size_t> items;  // tuple, list, set, dict (key, value, ...) members
};

constexpr std::uint8_t kFlagRef = 0x80;
constexpr std::size_t kConstDepth = 4;  // nesting of tuples/frozensets inside co_consts

// CPython registers these in the reference table when FLAG_REF is set; singletons never.
bool registers_ref(char type) {
  return std::string_view("ilIfgxysztuaAZ()[]{<>c:").find(type) != std::string_view::npos;
}

class Reader {
 public:
  Reader(ByteView data, Layout layout, const Limits& limits, CodeSummary& out)
      : data_(data), layout_(layout), limits_(limits), out_(out) {}

  Expected<void> run() {
    if (data_.empty() || (data_[0] & ~kFlagRef) != 'c') {
      return Error::at(0, "not a marshalled code object (type byte is not 'c')");
    }
    auto root = object();
    if (!root) return root.error();
    return {};
  }

  std::size_t position() const { return pos_; }

 private:
  Expected<std::uint8_t> u8() {
    if (pos_ >= data_.size()) return Error::at(pos_, "marshal data ends early");
    return data_[pos_++];
  }

  Expected<std::int32_t> i32() {
    const auto v = load_le<std::uint32_t>(data_, pos_);
    if (!v) return Error::at(pos_, "marshal data ends inside a 32-bit integer");
    pos_ += 4;
    return static_cast<std::int32_t>(*v);
  }

  Expected<void> skip(std::uint64_t n) {
    if (n > data_.size() - pos_) return Error::at(pos_, "marshal length runs past the end");
    pos_ += static_cast<std::size_t>(n);
    return {};
  }

  // A count or length; every item or byte needs at least one input byte, so anything larger
  // than what is left is a lie that must not drive a loop or an allocation.
  Expected<std::size_t> count(bool small) {
    std::int64_t n = 0;
    if (small) {
      auto b = u8();
      if (!b) return b.error();
      n = *b;
    } else {
      auto v = i32();
      if (!v) return v.error();
      n = *v;
    }
    if (n < 0 || static_cast<std::uint64_t>(n) > data_.size() - pos_) {
      return Error::at(pos_, "marshal count " + std::to_string(n) + " exceeds the data left");
    }
    return static_cast<std::size_t>(n);
  }

  std::size_t new_node(Kind kind) {
    nodes_.push_back(Node{kind, {}, {}});
    return nodes_.size() - 1;
  }

  Expected<std::size_t> object() {
    if (depth_ >= limits_.max_depth) return Error::at(pos_, "marshal data nested too deeply");
    if (nodes_.size() >= limits_.max_objects) return Error::at(pos_, "too many marshal objects");
    const std::size_t start = pos_;
    auto code = u8();
    if (!code) return code.error();
    const char type = static_cast<char>(*code & ~kFlagRef);
    const bool flagged = (*code & kFlagRef) != 0;
    if (type == 'r') return reference();
    const std::size_t idx = new_node(Kind::null);
    if (flagged && registers_ref(type)) refs_.push_back(idx);
    ++depth_;
    auto filled = fill(idx, type, start);
    --depth_;
    if (!filled) return filled.error();
    return idx;
  }

  Expected<std::size_t> reference() {
    auto i = i32();
    if (!i) return i.error();
    if (*i < 0 || static_cast<std::size_t>(*i) >= refs_.size()) {
      return Error::at(pos_ - 4, "marshal reference " + std::to_string(*i) + " is undefined");
    }
    return refs_[static_cast<std::size_t>(*i)];
  }

  Expected<void> fill(std::size_t idx, char type, std::size_t start) {
    switch (type) {
      case '0':
        nodes_[idx].kind = Kind::null;
        return {};
      case 'N':
      case 'F':
      case 'T':
      case 'S':
      case '.':
        nodes_[idx].kind = Kind::singleton;
        return {};
      case 'i':
        nodes_[idx].kind = Kind::number;
        return skip(4);
      case 'I':
      case 'g':
        nodes_[idx].kind = Kind::number;
        return skip(8);
      case 'y':
        nodes_[idx].kind = Kind::number;
        return skip(16);
      case 'f':
        nodes_[idx].kind = Kind::number;
        return text_float();
      case 'x': {
        nodes_[idx].kind = Kind::number;
        auto re = text_float();
        if (!re) return re;
        return text_float();
      }
      case 'l':
        nodes_[idx].kind = Kind::number;
        return long_digits();
      case 's':
        return string(idx, Kind::bytes, false);
      case 't':
      case 'u':
      case 'a':
      case 'A':
        return string(idx, Kind::str, false);
      case 'z':
      case 'Z':
        return string(idx, Kind::str, true);
      case '(':
      case '[':
      case '<':
      case '>':
        return sequence(idx,
                        type == '('   ? Kind::tuple
                        : type == '[' ? Kind::list
                                      : Kind::set,
                        false);
      case ')':
        return sequence(idx, Kind::tuple, true);
      case '{':
        return dict(idx);
      case ':':
        return slice(idx);
      case 'c':
        return code_object(idx);
      default:
        return Error::at(start, "unknown marshal type byte 0x" + hex_byte(data_[start]));
    }
  }

  static std::string hex_byte(std::uint8_t b) {
    static constexpr char kDigits[] = "0123456789abcdef";
    return {kDigits[b >> 4], kDigits[b & 0xF]};
  }

  Expected<void> text_float() {
    auto n = u8();
    if (!n) return n.error();
    return skip(*n);
  }

  Expected<void> long_digits() {
    auto n = i32();
    if (!n) return n.error();
    const std::uint64_t digits = *n < 0 ? -static_cast<std::int64_t>(*n) : *n;
    return skip(digits * 2);
  }

  Expected<void> string(std::size_t idx, Kind kind, bool small) {
    auto n = count(small);
    if (!n) return n.error();
    nodes_[idx].kind = kind;
    nodes_[idx].text.assign(reinterpret_cast<const char*>(data_.data() + pos_), *n);
    pos_ += *n;
    return {};
  }

  Expected<void> sequence(std::size_t idx, Kind kind, bool small) {
    auto n = count(small);
    if (!n) return n.error();
    nodes_[idx].kind = kind;
    for (std::size_t i = 0; i < *n; ++i) {
      auto item = object();
      if (!item) return item.error();
      if (nodes_[*item].kind == Kind::null) return Error::at(pos_ - 1, "NULL inside a container");
      nodes_[idx].items.push_back(*item);
    }
    return {};
  }

  Expected<void> dict(std::size_t idx) {
    nodes_[idx].kind = Kind::dict;
    while (true) {
      auto key = object();
      if (!key) return key.error();
      if (nodes_[*key].kind == Kind::null) return {};
      auto value = object();
      if (!value) return value.error();
      nodes_[idx].items.push_back(*key);
      nodes_[idx].items.push_back(*value);
    }
  }

  Expected<void> slice(std::size_t idx) {
    nodes_[idx].kind = Kind::slice;
    for (int i = 0; i < 3; ++i) {
      auto part = object();
      if (!part) return part.error();
    }
    return {};
  }

  // One field of a code object, which must be of `kind` in this layout.
  Expected<std::size_t> field(Kind kind, std::string_view what) {
    const std::size_t at = pos_;
    auto f = object();
    if (!f) return f.error();
    const Kind got = nodes_[*f].kind;
    const bool ok = got == kind || (kind == Kind::str && got == Kind::bytes);
    if (!ok) {
      return Error::at(at, std::string(what) + " has the wrong type for the " +
                               std::string(layout_name(layout_)) + " code layout");
    }
    return *f;
  }

  Expected<void> ints(int n) {
    for (int i = 0; i < n; ++i) {
      auto v = i32();
      if (!v) return v.error();
    }
    return {};
  }

  Expected<void> code_object(std::size_t idx) {
    nodes_[idx].kind = Kind::code;
    if (auto r = ints(layout_ == Layout::py38 ? 6 : 5); !r) return r;
    auto bytecode = field(Kind::bytes, "co_code");
    if (!bytecode) return bytecode.error();
    auto consts = field(Kind::tuple, "co_consts");
    if (!consts) return consts.error();
    auto names = field(Kind::tuple, "co_names");
    if (!names) return names.error();
    auto rest = layout_ == Layout::py311 ? tail_311() : tail_30();
    if (!rest) return rest.error();
    ++out_.code_objects;
    keep(out_.code_names, code_names_seen_, nodes_[*rest].text);
    for (const std::size_t n : nodes_[*names].items) {
      if (nodes_[n].kind == Kind::str) keep(out_.names, names_seen_, nodes_[n].text);
    }
    collect_strings(*consts, 0);
    return {};
  }

  // 3.11+: localsplusnames, localspluskinds, filename, name, qualname, firstlineno, linetable,
  // exceptiontable. Returns co_name's node.
  Expected<std::size_t> tail_311() {
    if (auto f = field(Kind::tuple, "co_localsplusnames"); !f) return f.error();
    if (auto f = field(Kind::bytes, "co_localspluskinds"); !f) return f.error();
    if (auto f = field(Kind::str, "co_filename"); !f) return f.error();
    auto name = field(Kind::str, "co_name");
    if (!name) return name.error();
    if (auto f = field(Kind::str, "co_qualname"); !f) return f.error();
    if (auto r = ints(1); !r) return r.error();
    if (auto f = field(Kind::bytes, "co_linetable"); !f) return f.error();
    if (auto f = field(Kind::bytes, "co_exceptiontable"); !f) return f.error();
    return *name;
  }

  // 3.0-3.10: varnames, freevars, cellvars, filename, name, firstlineno, lnotab.
  Expected<std::size_t> tail_30() {
    for (const char* what : {"co_varnames", "co_freevars", "co_cellvars"}) {
      if (auto f = field(Kind::tuple, what); !f) return f.error();
    }
    if (auto f = field(Kind::str, "co_filename"); !f) return f.error();
    auto name = field(Kind::str, "co_name");
    if (!name) return name.error();
    if (auto r = ints(1); !r) return r.error();
    if (auto f = field(Kind::bytes, "co_lnotab"); !f) return f.error();
    return *name;
  }

  void collect_strings(std::size_t idx, std::size_t depth) {
    if (depth > kConstDepth) return;
    for (const std::size_t n : nodes_[idx].items) {
      const Node& node = nodes_[n];
      if (node.kind == Kind::str || node.kind == Kind::bytes) {
        keep(out_.strings, strings_seen_, node.text);
      } else if (node.kind == Kind::tuple || node.kind == Kind::set) {
        collect_strings(n, depth + 1);
      }
    }
  }

  void keep(std::vector<std::string>& list, std::set<std::string>& seen, const std::string& s) {
    if (seen.count(s) != 0) return;
    if (seen.size() >= limits_.max_strings) {
      out_.strings_truncated = true;
      return;
    }
    seen.insert(s);
    list.push_back(s);
  }

  ByteView data_;
  Layout layout_;
  const Limits& limits_;
  CodeSummary& out_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  std::vector<Node> nodes_;
  std::vector<std::size_t> refs_;
  std::set<std::string> names_seen_, strings_seen_, code_names_seen_;
};

}  // namespace

Expected<CodeSummary> summarize_code(ByteView data, const Limits& limits) {
  std::optional<Error> furthest;
  std::size_t furthest_pos = 0;
  for (const Layout layout : {Layout::py311, Layout::py38, Layout::py30}) {
    CodeSummary summary;
    Reader reader(data, layout, limits, summary);
    auto r = reader.run();
    if (r) {
      summary.layout = std::string(layout_name(layout));
      return summary;
    }
    if (!furthest || reader.position() > furthest_pos) {
      furthest = r.error();
      furthest_pos = reader.position();
    }
  }
  return *furthest;
}

}  // namespace mlsc::scan::marshal
