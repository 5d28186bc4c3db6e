// The pickle machine's values: construction in the arena, the decoded-string budget, reprs
// for messages, and the inspection of every string for hidden payloads (nested pickles raw,
// base64 or hex; Python source that calls process or eval primitives).
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "scan/pickle_machine.hpp"
#include "scan/pickle_text.hpp"

namespace mlsc::scan::pickle::detail {

namespace {

constexpr std::size_t kReprItems = 8;         // container items shown in a repr
constexpr std::size_t kMaxNested = 64;        // nested pickles kept per run
constexpr std::size_t kMaxCodeFindings = 16;  // code-string findings per run
constexpr std::size_t kMinInspect = 8;        // shorter values cannot hide a payload

bool is_container(Kind k) {
  return k == Kind::list || k == Kind::tuple || k == Kind::dict || k == Kind::set ||
         k == Kind::frozenset;
}

bool is_dunder(std::string_view s) {
  return s.size() > 4 && s.substr(0, 2) == "__" && s.substr(s.size() - 2) == "__";
}

std::string float_repr(std::int64_t bits) {
  double d = 0;
  std::memcpy(&d, &bits, sizeof d);
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  std::array<char, 64> buf{};
  const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), d);
  std::string s(buf.data(), res.ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

// LONG1/LONG4 bytes (little-endian two's complement) as "0x..." / "-0x...".
std::string big_binary_repr(std::string_view le) {
  const bool negative = !le.empty() && (static_cast<unsigned char>(le.back()) & 0x80) != 0;
  std::string bytes(le.rbegin(), le.rend());  // big-endian
  if (negative) {                             // magnitude = ~x + 1
    for (auto& c : bytes) c = static_cast<char>(~static_cast<unsigned char>(c));
    for (std::size_t i = bytes.size(); i-- > 0;) {
      auto& c = reinterpret_cast<unsigned char&>(bytes[i]);
      if (++c != 0) break;
    }
  }
  constexpr char kHex[] = "0123456789abcdef";
  std::string out = negative ? "-0x" : "0x";
  bool leading = true;
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (leading && c == 0) continue;
    if (leading && c < 16) {
      out += kHex[c];
    } else {
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
    leading = false;
    if (out.size() > 40) {
      out += "...";
      break;
    }
  }
  if (leading) out += '0';
  return out;
}

}  // namespace

// --- construction ----------------------------------------------------------------------------

ValueId Machine::add_value(Value v) {
  values_.push_back(v);
  return static_cast<ValueId>(values_.size() - 1);
}

ValueId Machine::make_scalar(Kind kind, std::int64_t num) {
  Value v;
  v.kind = kind;
  v.num = num;
  v.offset = op_offset_;
  return add_value(v);
}

ValueId Machine::make_text(Kind kind, std::string_view text, bool inspect) {
  Value v;
  v.kind = kind;
  v.text = text;
  v.offset = op_offset_;
  const ValueId id = add_value(v);
  if (inspect) inspect_text(id);
  return id;
}

bool Machine::charge(std::uint64_t bytes) {
  if (bytes > kDecodedBudget - std::min(owned_bytes_, kDecodedBudget)) return false;
  owned_bytes_ += bytes;
  return true;
}

// Decoded strings are owned by the machine; their total is bounded so that a pickle cannot
// make us copy a large string over and over (GET + builder call in a loop).
ValueId Machine::make_owned_text(Kind kind, std::string text, bool inspect) {
  if (!charge(text.size())) {
    out_of_budget("more than " + std::to_string(kDecodedBudget >> 20) + " MiB of decoded strings");
    return make_text(kind, {}, false);
  }
  owned_.push_back(std::move(text));
  return make_text(kind, owned_.back(), inspect);
}

ValueId Machine::make_container(Kind kind, std::vector<ValueId> items) {
  Value v;
  v.kind = kind;
  v.offset = op_offset_;
  v.ref = static_cast<std::uint32_t>(containers_.size());
  Container c;
  c.items = std::move(items);
  containers_.push_back(std::move(c));
  return add_value(v);
}

ValueId Machine::make_opaque(Kind kind, std::uint32_t ref, std::string description) {
  Value v;
  v.kind = kind;
  v.ref = ref;
  v.offset = op_offset_;
  if (!description.empty() && charge(description.size())) {
    owned_.push_back(std::move(description));
    v.text = owned_.back();
  }
  return add_value(v);
}

// Items land in a container: keep the dict-key facts BUILD checks later (so BUILD never walks
// a big dict again), and note escapes of contextual globals.
void Machine::insert_items(ValueId container, const std::vector<ValueId>& items) {
  const Value& target = values_[container];
  if (!is_container(target.kind) || target.ref == kNoRef) {
    for (const auto id : items) note_use(id, "stored into a container");
    return;
  }
  Container& c = containers_[target.ref];
  const bool dict = target.kind == Kind::dict;
  for (std::size_t i = 0; i < items.size(); ++i) {
    note_use(items[i], "stored into a container");
    if (dict && i % 2 == 0) {
      const auto key = const_str(items[i]);
      if (!key) c.opaque_keys = true;
      if (key && is_dunder(*key)) ++c.dunder_keys;
    }
  }
  c.items.insert(c.items.end(), items.begin(), items.end());
}

// --- queries ---------------------------------------------------------------------------------

const Container* Machine::container_of(ValueId id) const {
  if (id >= values_.size()) return nullptr;
  const Value& v = values_[id];
  if (!is_container(v.kind) || v.ref >= containers_.size()) return nullptr;
  return &containers_[v.ref];
}

bool Machine::is_str(ValueId id) const {
  return values_[id].kind == Kind::str;
}

// STACK_GLOBAL needs exact str: these kinds can never be one at run time.
bool Machine::known_not_str(ValueId id) const {
  switch (values_[id].kind) {
    case Kind::global:
    case Kind::attribute:
    case Kind::object:
    case Kind::unknown:
    case Kind::str:
      return false;
    default:
      return true;
  }
}

// Types CPython refuses as dict keys or set members (tuples are hashable unless they hold one).
bool Machine::unhashable(ValueId id, int depth) const {
  const Value& v = values_[id];
  switch (v.kind) {
    case Kind::list:
    case Kind::dict:
    case Kind::set:
    case Kind::bytearray:
      return true;
    case Kind::tuple: {
      if (depth > 8) return false;
      const Container* c = container_of(id);
      if (c == nullptr) return false;
      const std::size_t n = std::min<std::size_t>(c->items.size(), 64);
      for (std::size_t i = 0; i < n; ++i) {
        if (c->items[i] != id && unhashable(c->items[i], depth + 1)) return true;
      }
      return false;
    }
    default:
      return false;
  }
}

std::optional<std::string_view> Machine::const_str(ValueId id) const {
  if (id >= values_.size() || values_[id].kind != Kind::str) return std::nullopt;
  return values_[id].text;
}

std::optional<std::int64_t> Machine::const_int(ValueId id) const {
  if (id >= values_.size()) return std::nullopt;
  const Value& v = values_[id];
  if (v.kind != Kind::integer && v.kind != Kind::boolean) return std::nullopt;
  return v.num;
}

// --- repr ------------------------------------------------------------------------------------

std::string Machine::repr(ValueId id, std::size_t budget) const {
  std::string out;
  repr_into(id, out, budget, 0);
  if (out.size() > budget + 3) {
    out.resize(budget);
    out += "...";
  }
  return out;
}

void Machine::repr_into(ValueId id, std::string& out, std::size_t limit, int depth) const {
  if (out.size() > limit) return;
  if (id >= values_.size()) {
    out += "?";
    return;
  }
  const Value& v = values_[id];
  const std::size_t room = limit > out.size() ? limit - out.size() : 0;
  switch (v.kind) {
    case Kind::none:
      out += "None";
      return;
    case Kind::boolean:
      out += v.num != 0 ? "True" : "False";
      return;
    case Kind::integer:
      out += std::to_string(v.num);
      return;
    case Kind::big_integer:
      out += v.big_is_binary ? big_binary_repr(v.text) : std::string(v.text.substr(0, 40));
      return;
    case Kind::floating:
      out += float_repr(v.num);
      return;
    case Kind::str:
      out += text::repr_str(v.text, std::max<std::size_t>(room, 8));
      return;
    case Kind::bytes:
      out += text::repr_bytes(v.text, std::max<std::size_t>(room, 8));
      return;
    case Kind::bytearray:
      out += "bytearray(" + text::repr_bytes(v.text, std::max<std::size_t>(room, 8)) + ")";
      return;
    case Kind::global:
    case Kind::attribute:
    case Kind::object:
    case Kind::unknown:
      out += describe(id);
      return;
    default:
      break;
  }
  // Containers. Depth bounds both the output and self-referencing containers.
  const char* open = v.kind == Kind::list        ? "["
                     : v.kind == Kind::tuple     ? "("
                     : v.kind == Kind::frozenset ? "frozenset({"
                                                 : "{";
  const char* close = v.kind == Kind::list        ? "]"
                      : v.kind == Kind::tuple     ? ")"
                      : v.kind == Kind::frozenset ? "})"
                                                  : "}";
  const Container* c = container_of(id);
  if (c == nullptr || depth >= 4) {
    out += open;
    out += c != nullptr && !c->items.empty() ? "..." : "";
    out += close;
    return;
  }
  if (v.kind == Kind::set && c->items.empty()) {
    out += "set()";
    return;
  }
  out += open;
  const bool dict = v.kind == Kind::dict;
  const std::size_t step = dict ? 2 : 1;
  for (std::size_t i = 0; i < c->items.size(); i += step) {
    if (i > 0) out += ", ";
    if (i / step >= kReprItems || out.size() > limit) {
      out += "...";
      break;
    }
    repr_into(c->items[i], out, limit, depth + 1);
    if (dict && i + 1 < c->items.size()) {
      out += ": ";
      repr_into(c->items[i + 1], out, limit, depth + 1);
    }
  }
  if (v.kind == Kind::tuple && c->items.size() == 1) out += ",";
  out += close;
}

// A short name for a value that is not plain data: a global's path, a call's callee.
std::string Machine::describe(ValueId id) const {
  const Value& v = values_[id];
  switch (v.kind) {
    case Kind::global:
      return v.ref < import_states_.size() ? import_states_[v.ref].path : "<global>";
    case Kind::attribute:
      return (v.ref < import_states_.size() ? import_states_[v.ref].path : "<class>") + "." +
             std::string(v.text);
    case Kind::object:
      if (v.ref < call_records_.size()) {
        const CallRecord& call = call_records_[v.ref];
        return describe_callee(call.callee) + "(...)";
      }
      return v.text.empty() ? "<object>" : std::string(v.text);
    case Kind::unknown:
      return v.text.empty() ? "<unknown>" : "<" + std::string(v.text) + ">";
    default:
      return repr(id, 60);
  }
}

std::string Machine::describe_callee(ValueId id) const {
  if (id >= values_.size()) return "?";
  const Value& v = values_[id];
  if (v.kind == Kind::object && v.ref < call_records_.size()) {
    return "<result of " + describe(id) + ">";
  }
  return describe(id);
}

// --- anomalies -------------------------------------------------------------------------------

void Machine::add_anomaly(Severity severity, std::string rule, std::string message,
                          std::optional<std::uint64_t> offset) {
  // The same kind of oddity repeated thousands of times (every STRING of a Python 2 pickle)
  // is one finding: dedupe notes by rule and the message's lead-in.
  if (severity <= Severity::low) {
    const auto cut = message.find(" at offset");
    std::string key = rule + "|" + message.substr(0, cut);
    if (!seen_notes_.insert(std::move(key)).second) return;
  }
  if (run_.anomalies.size() >= kMaxAnomalies) {
    if (run_.anomalies.size() == kMaxAnomalies) {
      run_.anomalies.push_back(Anomaly{Severity::low, "pickle.anomaly",
                                       "further anomalies in this pickle are not listed",
                                       offset.value_or(op_offset_)});
    }
    if (severity < Severity::high) return;
  }
  run_.anomalies.push_back(
      Anomaly{severity, std::move(rule), std::move(message), offset.value_or(op_offset_)});
}

// --- payload inspection ----------------------------------------------------------------------

// Every str/bytes value is looked at once, when it is made: is it (or its base64/hex
// decoding) a pickle, and is it Python source calling process/eval primitives?
void Machine::inspect_text(ValueId id) {
  if (depth_ >= kMaxDepth) return;  // probes of candidate nested pickles do not recurse
  const Value v = values_[id];
  if (v.text.size() < kMinInspect || v.text.size() > kMaxInspectValue) return;
  if (inspect_bytes_ > kInspectBudget) return;
  inspect_bytes_ += v.text.size();
  if (inspect_bytes_ > kInspectBudget) {
    add_anomaly(Severity::low, "pickle.anomaly",
                "more than " + std::to_string(kInspectBudget >> 20) +
                    " MiB of strings; later ones were not inspected for hidden payloads",
                v.offset);
    return;
  }
  const bool stringy = v.kind == Kind::str || text::is_ascii(v.text.substr(0, 256));
  try_nested(v.text, v.offset, "raw");
  if (stringy) inspect_code_string(v.text, v.offset, "");
  bool found = false;
  if (text::looks_hex(v.text)) {
    if (const auto decoded = text::decode_hex(v.text))
      found = try_nested(*decoded, v.offset, "hex");
  }
  if (!found && text::looks_base64(v.text)) {
    if (const auto decoded = text::decode_base64(v.text)) {
      if (!try_nested(*decoded, v.offset, "base64") && text::is_ascii(*decoded)) {
        inspect_code_string(*decoded, v.offset, "base64-decoded ");
      }
    }
  }
}

namespace {

// Opcodes a pickle can start with; anything else cannot be one.
bool plausible_first_byte(unsigned char c) {
  static constexpr std::string_view kOps = "(.012FIJKLMNPQRSTUVXabcdeghijlopqrstu}])G";
  return c == 0x80 || (c >= 0x85 && c <= 0x98) || c == 0x81 || c == 0x82 || c == 0x83 ||
         c == 0x84 || kOps.find(static_cast<char>(c)) != std::string_view::npos;
}

}  // namespace

// A value is a nested pickle only when it really parses as one: to STOP without error, and
// either with a PROTO header, an import, or consumed exactly. Random bytes, JSON, JWTs and
// checksums fail within a byte or two.
bool Machine::try_nested(std::string_view bytes, std::uint64_t offset, std::string_view encoding) {
  if (bytes.size() < 4 || run_.nested.size() >= kMaxNested) return false;
  if (!plausible_first_byte(static_cast<unsigned char>(bytes[0]))) return false;
  Options probe_options;
  probe_options.max_values = std::min<std::size_t>(options_.max_values, 1U << 16);
  Machine probe(as_bytes(bytes), 0, policy_, probe_options, kMaxDepth);
  const PickleRun r = probe.execute();
  if (!r.reached_stop || r.error) return false;
  const bool header = static_cast<unsigned char>(bytes[0]) == 0x80 && r.protocol >= 2;
  if (!header && r.imports.empty() && r.end != bytes.size()) return false;
  for (const auto& n : run_.nested) {
    if (n.offset == offset && n.encoding == encoding) return true;
  }
  NestedPickle nested;
  nested.offset = offset;
  nested.encoding = std::string(encoding);
  nested.bytes.assign(bytes.begin(), bytes.end());
  run_.nested.push_back(std::move(nested));
  return true;
}

namespace {

bool ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Callables whose call in a string marks it as a payload rather than data.
bool dangerous_call_token(std::string_view token) {
  static constexpr std::array<std::string_view, 5> kBare = {"exec", "eval", "__import__",
                                                            "execfile", "compile"};
  for (const auto b : kBare) {
    if (token == b) return true;
  }
  const auto dot = token.rfind('.');
  if (dot == std::string_view::npos) return false;
  const auto module = token.substr(0, dot);
  const auto attr = token.substr(dot + 1);
  if (module == "os" || module == "posix" || module == "nt") {
    return attr == "system" || attr == "popen" || attr.substr(0, 4) == "exec" ||
           attr.substr(0, 5) == "spawn" || attr == "startfile" || attr == "fork";
  }
  if (module == "subprocess") {
    return attr == "call" || attr == "run" || attr == "Popen" || attr == "check_call" ||
           attr == "check_output" || attr == "getoutput" || attr == "getstatusoutput";
  }
  if (module == "builtins" || module == "__builtin__") {
    return attr == "eval" || attr == "exec" || attr == "__import__" || attr == "compile";
  }
  return (module == "pty" && attr == "spawn") || module == "commands" ||
         (module == "pickle" && attr == "loads") || (module == "marshal" && attr == "loads");
}

}  // namespace

// Python source that calls a process or eval primitive ("os.system('...')", "exec(...)")
// inside a string value. Data strings mention "model.eval()" (a method: preceded by a dot and
// not one of the modules above), never call these.
void Machine::inspect_code_string(std::string_view s, std::uint64_t offset, std::string_view how) {
  if (code_findings_ >= kMaxCodeFindings) return;
  const std::size_t limit = std::min<std::size_t>(s.size(), 1U << 20);
  for (std::size_t i = 0; i < limit; ++i) {
    if (s[i] != '(') continue;
    std::size_t end = i;
    while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t')) --end;
    std::size_t start = end;
    while (start > 0 && (ident_char(s[start - 1]) || s[start - 1] == '.')) --start;
    const auto token = s.substr(start, end - start);
    if (token.empty() || token.front() == '.' || !dangerous_call_token(token)) continue;
    const std::size_t from = start > 20 ? start - 20 : 0;
    ++code_findings_;
    add_anomaly(Severity::high, "pickle.code-string",
                std::string(how) + "string value at offset " + std::to_string(offset) +
                    " holds Python source calling " + std::string(token) +
                    "(): " + text::repr_str(s.substr(from, 80), 80),
                offset);
    return;
  }
}

}  // namespace mlsc::scan::pickle::detail
