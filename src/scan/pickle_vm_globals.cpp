// The pickle machine's imports and calls: GLOBAL/STACK_GLOBAL/INST/EXT lookups (with the
// Python 2 name mapping and state planted by BUILD), REDUCE/NEWOBJ/OBJ/BUILD/persistent-id call
// sites, the vetting of getattr, the pure value builders we emulate, and joblib's raw arrays.
#include <algorithm>
#include <array>

#include "scan/pickle_machine.hpp"
#include "scan/pickle_text.hpp"

namespace mlsc::scan::pickle::detail {

namespace {

constexpr std::size_t kMaxPlanted = 256;               // attributes remembered per BUILD
constexpr std::uint64_t kMaxBuilderOutput = 1U << 20;  // bytes(n) and friends

// Dangerous > unknown > safe; within a verdict, the higher severity.
int rank(const ImportClass& c) {
  const int base = c.verdict == ImportVerdict::dangerous ? 20
                   : c.verdict == ImportVerdict::unknown ? 10
                                                         : 0;
  return base + static_cast<int>(c.severity);
}

bool is_joblib_wrapper(std::string_view path) {
  return path == "joblib.numpy_pickle.NumpyArrayWrapper" ||
         path == "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper";
}

// Loaders whose bytes argument is itself a pickle (or a torch archive) they would run.
bool is_bytes_loader(std::string_view path) {
  static constexpr std::array<std::string_view, 8> kLoaders = {"pickle.loads",
                                                               "_pickle.loads",
                                                               "cPickle.loads",
                                                               "dill.loads",
                                                               "dill._dill.loads",
                                                               "cloudpickle.loads",
                                                               "torch.storage._load_from_bytes",
                                                               "joblib.numpy_pickle.loads"};
  return std::find(kLoaders.begin(), kLoaders.end(), path) != kLoaders.end();
}

std::string lower_codec(std::string_view enc) {
  std::string out;
  for (const char c : enc) {
    out += c == '_' ? '-' : static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  return out;
}

std::string rot13(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>('a' + (c - 'a' + 13) % 26);
    if (c >= 'A' && c <= 'Z') c = static_cast<char>('A' + (c - 'A' + 13) % 26);
  }
  return out;
}

// numpy dtype strings ("<f8", "|u1", "U5", "V16") to an item size; 0 when unknown.
std::uint64_t dtype_itemsize(std::string_view typestr) {
  if (!typestr.empty() &&
      (typestr[0] == '<' || typestr[0] == '>' || typestr[0] == '|' || typestr[0] == '=')) {
    typestr.remove_prefix(1);
  }
  if (typestr == "?") return 1;
  if (typestr.size() < 2) return 0;
  const char kind = typestr[0];
  std::uint64_t n = 0;
  for (const char c : typestr.substr(1)) {
    if (c < '0' || c > '9' || n > (1ULL << 40)) return 0;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  switch (kind) {
    case 'b':
    case 'i':
    case 'u':
    case 'f':
    case 'c':
    case 'm':
    case 'M':
    case 'V':
    case 'S':
    case 'a':
      return n;
    case 'U':
      return n * 4;
    default:
      return 0;
  }
}

}  // namespace

// --- imports ---------------------------------------------------------------------------------

// find_class maps Python 2 names for protocols < 3 before importing. Judge both spellings: a
// name that is dangerous under either must not pass as the other.
ImportClass Machine::classify_with_mapping(std::string& module, std::string& name) {
  ImportClass original = policy_.classify(module, name);
  if (proto_ >= 3) return original;
  auto [mapped_module, mapped_name] = policy_.map_python2(module, name);
  if (mapped_module == module && mapped_name == name) return original;
  ImportClass mapped = policy_.classify(mapped_module, mapped_name);
  if (rank(original) > rank(mapped)) {
    original.reason = "as the Python 2 name " + module + "." + name + ": " + original.reason;
    mapped = std::move(original);
  }
  module = std::move(mapped_module);
  name = std::move(mapped_name);
  return mapped;
}

ValueId Machine::import_global(std::string module, std::string name, ImportSource source,
                               std::uint64_t offset) {
  ImportClass verdict = classify_with_mapping(module, name);
  if (proto_ < 4 && name.find('.') != std::string::npos) {
    add_anomaly(Severity::low, "pickle.loader-divergence",
                "dotted name " + module + "." + name + " at offset " + std::to_string(offset) +
                    " under protocol " + std::to_string(proto_) +
                    ": CPython raises AttributeError (dotted lookups need protocol 4), other "
                    "loaders walk the path; judged as the path",
                offset);
  }
  const auto index = static_cast<std::uint32_t>(run_.imports.size());
  ImportState state;
  state.path = module + "." + name;
  state.contextual = verdict.contextual && verdict.verdict == ImportVerdict::dangerous;
  if (is_joblib_wrapper(state.path)) run_.saw_joblib_wrapper = true;
  run_.imports.push_back(Import{module, name, offset, source, true, std::move(verdict)});
  import_states_.push_back(std::move(state));
  if (const auto planted = planted_lookup(import_states_[index].path, index)) return *planted;
  return make_opaque(Kind::global, index, "");
}

ValueId Machine::import_unresolved(std::string module, std::string name, std::string why,
                                   ImportSource source) {
  ImportClass verdict;
  verdict.verdict = ImportVerdict::unknown;
  verdict.severity = Severity::critical;
  verdict.reason = why;
  const auto index = static_cast<std::uint32_t>(run_.imports.size());
  ImportState state;
  state.path = module + "." + name;
  run_.imports.push_back(
      Import{std::move(module), std::move(name), op_offset_, source, false, std::move(verdict)});
  import_states_.push_back(std::move(state));
  return make_opaque(Kind::unknown, index, std::move(why));
}

// A lookup that passes through a module or class whose state BUILD rewrote gets the planted
// value, exactly as CPython would hand it out (same object: later BUILDs show through).
std::optional<ValueId> Machine::planted_lookup(const std::string& path, std::uint32_t index) {
  if (planted_.empty()) return std::nullopt;
  const std::string& module = run_.imports[index].module;
  std::size_t cut = module.size();  // prefixes: the module, then module.p0, module.p0.p1, ...
  while (cut < path.size()) {
    const auto it = planted_.find(path.substr(0, cut));
    const auto next = path.find('.', cut + 1);
    const auto attr = path.substr(cut + 1, next == std::string::npos ? next : next - cut - 1);
    if (it != planted_.end()) {
      const Planted& p = it->second;
      const auto hit = p.attrs.find(attr);
      if (p.unknown || hit != p.attrs.end()) {
        Import& imp = run_.imports[index];
        imp.verdict.verdict = ImportVerdict::dangerous;
        imp.verdict.severity = Severity::critical;
        imp.verdict.reason = "resolves to state planted by BUILD at offset " +
                             std::to_string(p.offset) + " into " + path.substr(0, cut);
        if (hit != p.attrs.end() && next == std::string::npos) return hit->second;
        imp.resolved = false;
        return make_opaque(Kind::unknown, index, "value planted into " + path.substr(0, cut));
      }
    }
    if (next == std::string::npos) break;
    cut = next;
  }
  return std::nullopt;
}

bool Machine::op_global(bool inst) {
  std::size_t mark = 0;
  if (inst && !pop_mark(mark)) return false;
  const auto module_line = readline();
  if (!module_line) return false;
  if (module_line->empty()) return fail("UnpicklingError: pickle data was truncated");
  // GLOBAL decodes its lines as UTF-8, INST as ASCII; both strict, as find_class needs str.
  const auto decodes = [inst](std::string_view s) {
    return inst ? text::is_ascii(s) : text::valid_utf8(s, false);
  };
  const char* codec = inst ? "ascii" : "utf-8";
  if (!decodes(*module_line)) {
    return fail(std::string("UnicodeDecodeError: '") + codec +
                "' codec can't decode the module name");
  }
  const auto name_line = readline();
  if (!name_line) return false;
  if (name_line->empty()) return fail("UnpicklingError: pickle data was truncated");
  if (!decodes(*name_line)) {
    return fail(std::string("UnicodeDecodeError: '") + codec +
                "' codec can't decode the global name");
  }
  const ValueId global =
      import_global(std::string(*module_line), std::string(*name_line),
                    inst ? ImportSource::inst_op : ImportSource::global_op, op_offset_);
  if (!inst) return push(global);
  auto items = take_from(mark);
  for (const auto id : items) note_use(id, "passed to INST");
  const ValueId args = make_container(Kind::tuple, std::move(items));
  return push(record_call(CallKind::inst, global, args, repr(args, kReprBudget)));
}

bool Machine::op_stack_global() {
  ValueId name = kNoValue;
  ValueId module = kNoValue;
  if (!pop(name) || !pop(module)) return false;
  if (known_not_str(name) || known_not_str(module)) {
    return fail("UnpicklingError: STACK_GLOBAL requires str");
  }
  note_use(module, "used as a module name");
  note_use(name, "used as a global name");
  const auto m = const_str(module);
  const auto n = const_str(name);
  if (m && n) {
    return push(
        import_global(std::string(*m), std::string(*n), ImportSource::stack_global, op_offset_));
  }
  // A name made at run time (a call we do not emulate, planted state, another global): the
  // scanner cannot know what CPython will import.
  const std::string mod = m ? std::string(*m) : "<" + describe(module) + ">";
  const std::string nam = n ? std::string(*n) : "<" + describe(name) + ">";
  return push(import_unresolved(
      mod, nam, "STACK_GLOBAL on a name only known at run time (" + mod + ", " + nam + ")",
      ImportSource::stack_global));
}

bool Machine::op_ext(std::size_t width) {
  const auto b = read(width);
  if (!b) return false;
  std::int64_t code = 0;
  for (std::size_t i = b->size(); i-- > 0;) code = (code << 8) | (*b)[i];
  if (width == 4) code = static_cast<std::int32_t>(static_cast<std::uint32_t>(code));
  if (code <= 0) return fail("UnpicklingError: EXT specifies code <= 0");
  const std::string shown = "extension code " + std::to_string(code);
  const ValueId v = import_unresolved(
      "<copyreg extension>", std::to_string(code),
      shown +
          ": resolved through copyreg's extension registry, which is empty unless the "
          "loading program registers codes (plain pickle.load raises 'unregistered "
          "extension code')",
      ImportSource::extension_code);
  Import& imp = run_.imports.back();
  imp.verdict.severity = Severity::high;
  CallSite site;
  site.kind = CallKind::extension;
  site.offset = op_offset_;
  site.import_index = run_.imports.size() - 1;
  site.callee = shown;
  run_.calls.push_back(std::move(site));
  return push(v);
}

// --- calls -----------------------------------------------------------------------------------

ValueId Machine::record_call(CallKind kind, ValueId callee, ValueId args, std::string args_repr) {
  CallSite site;
  site.kind = kind;
  site.offset = op_offset_;
  const Kind callee_kind = values_[callee].kind;
  const std::uint32_t callee_ref = values_[callee].ref;
  if ((callee_kind == Kind::global || callee_kind == Kind::unknown) &&
      callee_ref < run_.imports.size()) {
    site.import_index = callee_ref;
  }
  site.callee = describe_callee(callee);
  site.args = std::move(args_repr);
  run_.calls.push_back(std::move(site));
  call_records_.push_back(CallRecord{callee, args, run_.calls.size() - 1});
  if (callee_kind == Kind::global && kind == CallKind::reduce) {
    const Import callee_import = run_.imports[callee_ref];
    if (const auto built = emulate_builder(callee_import, args)) return *built;
  }
  return make_opaque(Kind::object, static_cast<std::uint32_t>(call_records_.size() - 1), "");
}

namespace {

bool callable_kind(Kind k) {
  return k == Kind::global || k == Kind::attribute || k == Kind::object || k == Kind::unknown;
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::none:
      return "NoneType";
    case Kind::boolean:
      return "bool";
    case Kind::integer:
    case Kind::big_integer:
      return "int";
    case Kind::floating:
      return "float";
    case Kind::str:
      return "str";
    case Kind::bytes:
      return "bytes";
    case Kind::bytearray:
      return "bytearray";
    case Kind::list:
      return "list";
    case Kind::tuple:
      return "tuple";
    case Kind::dict:
      return "dict";
    case Kind::set:
      return "set";
    case Kind::frozenset:
      return "frozenset";
    default:
      return "object";
  }
}

}  // namespace

// The C unpickler wants a tuple of arguments; the pure-Python one splats any iterable
// (func(*args)), so a list or str still makes the call there. Only non-iterables fail both.
bool Machine::check_call_args(ValueId args, std::string_view op) {
  const Kind k = values_[args].kind;
  if (k == Kind::tuple || callable_kind(k)) return true;
  if (k == Kind::none || k == Kind::boolean || k == Kind::integer || k == Kind::big_integer ||
      k == Kind::floating) {
    return fail(std::string("TypeError: ") + std::string(op) + " arguments must be a tuple, not " +
                kind_name(k));
  }
  add_anomaly(Severity::medium, "pickle.loader-divergence",
              std::string(op) + " at offset " + std::to_string(op_offset_) + " passes a " +
                  kind_name(k) +
                  " as the argument tuple: CPython's C unpickler raises TypeError, the "
                  "pure-Python one unpacks it and makes the call",
              op_offset_);
  return true;
}

// Calls whose callee is not a global: the result of another call, a vetted getattr. They run
// a method of a live object, which no ordinary pickler emits.
void Machine::note_indirect_call(ValueId callee, std::string_view op) {
  const Value& c = values_[callee];
  if (c.kind == Kind::attribute) {
    if (c.num >= 0 && static_cast<std::size_t>(c.num) < import_states_.size()) {
      auto& g = import_states_[static_cast<std::size_t>(c.num)];
      if (g.misuse.empty()) {
        g.misuse = "its result " + describe(callee) + " is called by " + std::string(op) +
                   " at offset " + std::to_string(op_offset_);
      }
    }
    return;
  }
  if (c.kind != Kind::object) return;
  add_anomaly(Severity::high, "pickle.indirect-call",
              std::string(op) + " at offset " + std::to_string(op_offset_) + " calls " +
                  describe_callee(callee) +
                  ", a value built while loading rather than an imported global",
              op_offset_);
}

bool Machine::op_reduce() {
  ValueId args = kNoValue;
  ValueId callee = kNoValue;
  if (!pop(args) || !pop(callee)) return false;
  const Value& c = values_[callee];
  if (!callable_kind(c.kind)) {
    return fail(std::string("TypeError: '") + kind_name(c.kind) + "' object is not callable");
  }
  if (!check_call_args(args, "REDUCE")) return false;
  note_use(args, "passed as call arguments");
  const bool contextual =
      c.kind == Kind::global && c.ref < import_states_.size() && import_states_[c.ref].contextual;
  if (!contextual) {
    note_use(callee, "called");
    note_indirect_call(callee, "REDUCE");
  }
  const std::uint32_t callee_ref = c.ref;
  const Kind callee_kind = c.kind;
  ValueId result = record_call(CallKind::reduce, callee, args, repr(args, kReprBudget));
  if (contextual) vet_getattr(callee_ref, args, result);
  if (callee_kind == Kind::global && callee_ref < import_states_.size() &&
      is_bytes_loader(import_states_[callee_ref].path)) {
    const Container* a = container_of(args);
    if (a != nullptr && !a->items.empty()) {
      const Value& arg = values_[a->items[0]];
      if (arg.kind == Kind::bytes || arg.kind == Kind::bytearray) {
        add_loader_payload(arg.text, arg.offset);
      } else if (arg.kind == Kind::str) {
        if (const auto raw = text::utf8_to_latin1(arg.text)) add_loader_payload(*raw, arg.offset);
      }
    }
  }
  return push(result);
}

// The bytes a loader call would run are scanned as a nested member even when they do not
// look like a pickle to us: the loader will not ask.
void Machine::add_loader_payload(std::string_view bytes, std::uint64_t offset) {
  for (const auto& n : run_.nested) {
    if (n.offset == offset) return;
  }
  if (run_.nested.size() >= 64 || bytes.size() > kMaxInspectValue) return;
  NestedPickle nested;
  nested.offset = offset;
  nested.encoding = "raw";
  nested.bytes.assign(bytes.begin(), bytes.end());
  run_.nested.push_back(std::move(nested));
}

bool Machine::op_newobj(bool ex) {
  ValueId kwargs = kNoValue;
  ValueId args = kNoValue;
  ValueId cls = kNoValue;
  if (ex && !pop(kwargs)) return false;
  if (!pop(args) || !pop(cls)) return false;
  const char* op = ex ? "NEWOBJ_EX" : "NEWOBJ";
  if (!callable_kind(values_[cls].kind)) {
    return fail(std::string("UnpicklingError: ") + op + " class argument must be a type, not " +
                kind_name(values_[cls].kind));
  }
  if (!check_call_args(args, op)) return false;
  if (ex && !callable_kind(values_[kwargs].kind) && values_[kwargs].kind != Kind::dict) {
    return fail(std::string("UnpicklingError: ") + op + " kwargs argument must be a dict, not " +
                kind_name(values_[kwargs].kind));
  }
  note_use(cls, "used as a NEWOBJ class");
  note_use(args, "passed as call arguments");
  if (ex) note_use(kwargs, "passed as keyword arguments");
  // cls.__new__(cls, ...) on a vetted class attribute (a nested class) is how protocols 2-3
  // rebuild instances of nested classes; on a runtime object it is an indirect call.
  if (values_[cls].kind == Kind::object) note_indirect_call(cls, op);
  std::string shown = repr(args, kReprBudget);
  if (ex) shown += ", **" + repr(kwargs, kReprBudget / 2);
  return push(record_call(ex ? CallKind::newobj_ex : CallKind::newobj, cls, args, shown));
}

bool Machine::op_obj() {
  std::size_t mark = 0;
  if (!pop_mark(mark)) return false;
  if (stack_.size() < mark + 1) {
    return fail(marks_.empty() ? "UnpicklingError: unpickling stack underflow"
                               : "UnpicklingError: unexpected MARK found");
  }
  auto items = take_from(mark + 1);
  ValueId cls = kNoValue;
  if (!pop(cls)) return false;
  if (!callable_kind(values_[cls].kind)) {
    return fail(std::string("TypeError: '") + kind_name(values_[cls].kind) +
                "' object is not callable");
  }
  for (const auto id : items) note_use(id, "passed to OBJ");
  note_use(cls, "called");
  note_indirect_call(cls, "OBJ");
  const ValueId args = make_container(Kind::tuple, std::move(items));
  return push(record_call(CallKind::obj, cls, args, repr(args, kReprBudget)));
}

bool Machine::op_persid(bool binary) {
  ValueId pid = kNoValue;
  if (binary) {
    if (!pop(pid)) return false;
  } else {
    const auto line = readline();
    if (!line) return false;
    if (!text::is_ascii(*line)) {
      return fail("UnpicklingError: persistent IDs in protocol 0 must be ASCII strings");
    }
    pid = make_text(Kind::str, *line, false);
  }
  note_use(pid, "used as a persistent id");
  const std::string shown = repr(pid, kReprBudget);
  bool expected = false;
  if (options_.torch_persistent_ids) {
    // torch.load's persistent_load takes ('storage', type, key, location, numel); legacy files
    // also carry ('module', cls, source_file, source) records, and the tar format's `pickle`
    // member refers to already-loaded tensors by their decimal key (legacy_load's
    // deserialized_objects[int(saved_id)]).
    const Container* c =
        pid < values_.size() && values_[pid].kind == Kind::tuple ? container_of(pid) : nullptr;
    const auto tag = c != nullptr && !c->items.empty() ? const_str(c->items[0]) : std::nullopt;
    const auto key = const_str(pid);
    const bool decimal_key =
        const_int(pid).has_value() ||
        (key && !key->empty() && key->size() <= 20 &&
         std::all_of(key->begin(), key->end(), [](char ch) { return ch >= '0' && ch <= '9'; }));
    expected = (tag && (*tag == "storage" || *tag == "module")) || decimal_key;
  }
  if (!expected) {
    add_anomaly(Severity::medium, "pickle.persistent-id",
                std::string(binary ? "BINPERSID" : "PERSID") + " at offset " +
                    std::to_string(op_offset_) + " asks the loader's persistent_load for " + shown +
                    (options_.torch_persistent_ids
                         ? ", which is not a torch storage record"
                         : "; plain pickle.load refuses it, a custom loader decides what it "
                           "returns"),
                op_offset_);
  }
  CallSite site;
  site.kind = CallKind::persistent_load;
  site.offset = op_offset_;
  site.callee = "persistent_load";
  site.args = shown;
  run_.calls.push_back(std::move(site));
  if (expected) {
    // Legacy torch.load returns the class of a ('module', cls, file, source) record.
    const Container* c = container_of(pid);
    if (c != nullptr && c->items.size() > 1 && const_str(c->items[0]) == "module") {
      return push(c->items[1]);
    }
  }
  return push(make_opaque(Kind::object, kNoRef, "persistent_load(" + shown + ")"));
}

// --- getattr ---------------------------------------------------------------------------------

// getattr(<class>, '<PUBLIC_NAME>') is how Python >= 3.11 pickles enum members (and protocols
// < 4 pickle nested classes). On a module, a denylisted or rewritten class, a call result, with
// a computed or private name, or with the result called, getattr reaches what the allowlist
// does not name: flag it.
void Machine::vet_getattr(std::uint32_t import_index, ValueId args, ValueId& result) {
  ImportState& g = import_states_[import_index];
  const auto misuse = [&](std::string why) {
    if (g.misuse.empty()) {
      g.misuse = why + " (REDUCE at offset " + std::to_string(op_offset_) + ")";
    }
  };
  const Container* a = values_[args].kind == Kind::tuple ? container_of(args) : nullptr;
  if (a == nullptr || a->items.size() != 2) return misuse("called with other than (object, name)");
  const ValueId obj = a->items[0];
  const auto name = const_str(a->items[1]);
  if (!name) return misuse("the attribute name is not a constant");
  if (name->empty() || (*name)[0] == '_' || !text::identifier_path(*name, true) ||
      name->find('.') != std::string_view::npos) {
    return misuse("reads the non-public attribute " + text::repr_str(*name, 40));
  }
  const Value& o = values_[obj];
  if (o.kind != Kind::global || o.ref >= run_.imports.size()) {
    return misuse("reads " + std::string(*name) + " from " + describe(obj) +
                  ", which is not an imported class");
  }
  // An allowlisted class, or one on neither list: the class import carries its own finding
  // and reading a public attribute adds no reach of its own (calling the result is caught).
  const Import& target = run_.imports[o.ref];
  if (!target.resolved || target.verdict.verdict == ImportVerdict::dangerous) {
    return misuse("reads from " + import_states_[o.ref].path + ", which is " +
                  (target.resolved ? "denylisted" : "not resolvable"));
  }
  const std::string& path = import_states_[o.ref].path;
  const auto last = path.substr(path.rfind('.') + 1);
  if (last.empty() || !(last[0] >= 'A' && last[0] <= 'Z')) {
    return misuse("reads from " + path + ", which is not a class");
  }
  ++g.vetted;
  g.vetted_classes.push_back(o.ref);
  Value attr;
  attr.kind = Kind::attribute;
  attr.ref = o.ref;
  attr.num = import_index;
  attr.offset = op_offset_;
  attr.text = *name;
  result = add_value(attr);
}

// A use of a value other than as the callee of REDUCE. For the getattr global itself any such
// use (stored, passed, returned) lets code the VM never sees call it.
void Machine::note_use(ValueId id, std::string_view how) {
  if (id >= values_.size()) return;
  const Value& v = values_[id];
  if (v.kind != Kind::global || v.ref >= import_states_.size()) return;
  ImportState& g = import_states_[v.ref];
  if (!g.contextual || !g.misuse.empty()) return;
  g.misuse =
      "the global itself is " + std::string(how) + " at offset " + std::to_string(op_offset_);
}

void Machine::finalize_imports() {
  for (std::size_t i = 0; i < import_states_.size() && i < run_.imports.size(); ++i) {
    ImportState& g = import_states_[i];
    if (!g.contextual) continue;
    for (const auto cls : g.vetted_classes) {
      if (g.misuse.empty() && planted_.count(import_states_[cls].path) != 0) {
        g.misuse = "reads from " + import_states_[cls].path + ", whose state this pickle rewrites";
      }
    }
    ImportClass& v = run_.imports[i].verdict;
    if (g.misuse.empty() && g.vetted > 0) {
      v.verdict = ImportVerdict::safe;
      v.severity = Severity::none;
      v.reason = "only reads public attributes of allowlisted classes";
    } else {
      v.reason +=
          g.misuse.empty() ? "; imported but never called in a vetted shape" : "; " + g.misuse;
    }
  }
}

// --- value builders ----------------------------------------------------------------------------

// Pure, allowlisted functions whose result on constant arguments we can compute, so a name
// spelled through them ("_codecs.encode('os', 'latin1')") is still a known name.
std::optional<ValueId> Machine::emulate_builder(const Import& callee, ValueId args) {
  if (!callee.resolved || callee.verdict.verdict != ImportVerdict::safe) return std::nullopt;
  const Container* a = values_[args].kind == Kind::tuple ? container_of(args) : nullptr;
  if (a == nullptr) return std::nullopt;
  const std::string path = callee.module + "." + callee.name;
  const auto& items = a->items;
  const auto arg_text = [&](std::size_t i) -> std::optional<std::string_view> {
    if (i >= items.size()) return std::nullopt;
    const Value& v = values_[items[i]];
    if (v.kind == Kind::str || v.kind == Kind::bytes || v.kind == Kind::bytearray) return v.text;
    return std::nullopt;
  };
  const auto arg_kind = [&](std::size_t i) { return values_[items[i]].kind; };
  const auto codec = [&](std::size_t i, std::string fallback) {
    const auto enc = i < items.size() ? const_str(items[i]) : std::nullopt;
    return enc ? lower_codec(*enc) : fallback;
  };
  if (path == "_codecs.encode" || path == "codecs.encode") {
    const auto s = arg_text(0);
    if (!s || arg_kind(0) != Kind::str) return std::nullopt;
    return encode_str(*s, codec(1, "utf-8"));
  }
  if (path == "_codecs.decode" || path == "codecs.decode") {
    const auto s = arg_text(0);
    if (!s) return std::nullopt;
    return decode_bytes(*s, arg_kind(0), codec(1, "utf-8"));
  }
  if (path == "builtins.str") {
    if (items.empty()) return make_owned_text(Kind::str, "", false);
    if (items.size() == 1 && arg_kind(0) == Kind::str) return items[0];
    if (items.size() == 1 && arg_kind(0) == Kind::integer) {
      return make_owned_text(Kind::str, std::to_string(values_[items[0]].num), true);
    }
    const auto s = arg_text(0);
    if (items.size() >= 2 && s && arg_kind(0) != Kind::str) {
      return decode_bytes(*s, arg_kind(0), codec(1, "utf-8"));
    }
    return std::nullopt;
  }
  if (path == "builtins.bytes" || path == "builtins.bytearray") {
    const Kind out = path == "builtins.bytes" ? Kind::bytes : Kind::bytearray;
    return build_bytes(items, out);
  }
  const auto s = arg_text(0);
  if (!s || items.size() > 2) return std::nullopt;
  if (path == "base64.b64decode" || path == "base64.standard_b64decode" ||
      path == "base64.urlsafe_b64decode" || path == "base64.decodebytes" ||
      path == "binascii.a2b_base64") {
    const auto decoded = text::decode_base64(*s);
    if (!decoded) return std::nullopt;
    return make_owned_text(Kind::bytes, *decoded, true);
  }
  if (path == "base64.b16decode" || path == "binascii.a2b_hex" || path == "binascii.unhexlify") {
    const auto decoded = text::decode_hex(*s);
    if (!decoded) return std::nullopt;
    return make_owned_text(Kind::bytes, *decoded, true);
  }
  return std::nullopt;
}

std::optional<ValueId> Machine::encode_str(std::string_view s, const std::string& codec) {
  if (codec == "latin-1" || codec == "latin1" || codec == "iso-8859-1" || codec == "iso8859-1" ||
      codec == "l1") {
    auto raw = text::utf8_to_latin1(s);
    if (!raw) return std::nullopt;
    return make_owned_text(Kind::bytes, std::move(*raw), true);
  }
  if (codec == "utf-8" || codec == "utf8") {
    if (!text::valid_utf8(s, false)) return std::nullopt;
    return make_owned_text(Kind::bytes, std::string(s), true);
  }
  if (codec == "ascii" || codec == "us-ascii") {
    if (!text::is_ascii(s)) return std::nullopt;
    return make_owned_text(Kind::bytes, std::string(s), true);
  }
  if (codec == "rot13" || codec == "rot-13") return make_owned_text(Kind::str, rot13(s), true);
  return std::nullopt;
}

std::optional<ValueId> Machine::decode_bytes(std::string_view s, Kind kind,
                                             const std::string& codec) {
  const bool binary = kind == Kind::bytes || kind == Kind::bytearray;
  if (kind == Kind::str && (codec == "rot13" || codec == "rot-13")) {
    return make_owned_text(Kind::str, rot13(s), true);
  }
  if (!binary) return std::nullopt;
  if (codec == "latin-1" || codec == "latin1" || codec == "iso-8859-1" || codec == "l1") {
    return make_owned_text(Kind::str, text::latin1_to_utf8(s), true);
  }
  if (codec == "utf-8" || codec == "utf8" || codec == "ascii") {
    if (codec == "ascii" ? !text::is_ascii(s) : !text::valid_utf8(s, false)) return std::nullopt;
    return make_owned_text(Kind::str, std::string(s), true);
  }
  if (codec == "hex" || codec == "hex-codec") {
    const auto decoded = text::decode_hex(s);
    if (!decoded) return std::nullopt;
    return make_owned_text(Kind::bytes, *decoded, true);
  }
  if (codec == "base64" || codec == "base64-codec" || codec == "base-64") {
    const auto decoded = text::decode_base64(s);
    if (!decoded) return std::nullopt;
    return make_owned_text(Kind::bytes, *decoded, true);
  }
  return std::nullopt;
}

std::optional<ValueId> Machine::build_bytes(const std::vector<ValueId>& items, Kind out) {
  if (items.empty()) return make_owned_text(out, "", false);
  const Value& first = values_[items[0]];
  if (items.size() == 1 && (first.kind == Kind::bytes || first.kind == Kind::bytearray)) {
    return make_owned_text(out, std::string(first.text), false);
  }
  if (items.size() >= 2 && first.kind == Kind::str) {
    const auto enc = const_str(items[1]);
    if (!enc) return std::nullopt;
    const auto encoded = encode_str(first.text, lower_codec(*enc));
    if (!encoded || values_[*encoded].kind != Kind::bytes) return std::nullopt;
    if (out == Kind::bytes) return encoded;
    return make_owned_text(out, std::string(values_[*encoded].text), false);
  }
  if (items.size() == 1 && first.kind == Kind::integer && first.num >= 0 &&
      static_cast<std::uint64_t>(first.num) <= kMaxBuilderOutput) {
    return make_owned_text(out, std::string(static_cast<std::size_t>(first.num), '\0'), false);
  }
  const Container* list = container_of(items[0]);
  if (items.size() == 1 && list != nullptr && values_[items[0]].kind != Kind::dict &&
      list->items.size() <= kMaxBuilderOutput) {
    std::string raw;
    for (const auto id : list->items) {
      const auto v = const_int(id);
      if (!v || *v < 0 || *v > 255) return std::nullopt;
      raw += static_cast<char>(*v);
    }
    return make_owned_text(out, std::move(raw), true);
  }
  return std::nullopt;
}

// --- BUILD -------------------------------------------------------------------------------------

bool Machine::op_build() {
  const std::size_t fence = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() < 2 || stack_.size() - 2 < fence) {
    return fail(marks_.empty() ? "UnpicklingError: unpickling stack underflow"
                               : "UnpicklingError: unexpected MARK found");
  }
  ValueId state = kNoValue;
  if (!pop(state)) return false;
  const ValueId inst = stack_.back();
  note_use(state, "used as BUILD state");
  const Kind kind = values_[inst].kind;
  CallSite site;
  site.kind = CallKind::build;
  site.offset = op_offset_;
  if (kind == Kind::global && values_[inst].ref < run_.imports.size()) {
    site.import_index = values_[inst].ref;
  }
  site.callee = describe_callee(inst) + ".__setstate__";
  site.args = repr(state, kReprBudget);
  run_.calls.push_back(std::move(site));
  build_state_[inst] = state;
  if (kind == Kind::global || kind == Kind::attribute) {
    build_on_global(inst, state);
    return true;
  }
  check_state_dunders(inst, state);
  if (options_.joblib_arrays && kind == Kind::object) {
    const auto cls = instance_class(inst);
    if (cls && is_joblib_wrapper(*cls)) return joblib_after_build(inst);
  }
  return true;
}

// BUILD on a module or class writes into shared interpreter state (a module's __dict__, class
// attributes): every later lookup through it, in this pickle or the program, sees the plant.
void Machine::build_on_global(ValueId inst, ValueId state) {
  const std::string path = describe(inst);
  add_anomaly(Severity::critical, "pickle.global-mutation",
              "BUILD at offset " + std::to_string(op_offset_) + " rewrites the state of " + path +
                  " (a module or class, not an instance) with " + repr(state, kReprBudget) +
                  "; later lookups through it resolve to these values",
              op_offset_);
  plant(path, state);
}

void Machine::plant(const std::string& path, ValueId state) {
  Planted& p = planted_[path];
  p.offset = op_offset_;
  std::vector<ValueId> dicts;
  const Value& s = values_[state];
  if (s.kind == Kind::dict) {
    dicts.push_back(state);
  } else if (s.kind == Kind::tuple) {
    const Container* t = container_of(state);
    if (t != nullptr && t->items.size() == 2) {
      for (const auto part : t->items) {
        if (values_[part].kind == Kind::dict)
          dicts.push_back(part);
        else if (values_[part].kind != Kind::none)
          p.unknown = true;
      }
    } else {
      p.unknown = true;
    }
  } else if (s.kind != Kind::none) {
    p.unknown = true;  // a __setstate__ we cannot see decides
  }
  for (const auto d : dicts) {
    const Container* c = container_of(d);
    if (c == nullptr || c->opaque_keys || c->items.size() / 2 > kMaxPlanted) {
      p.unknown = true;
      continue;
    }
    for (std::size_t i = 0; i + 1 < c->items.size(); i += 2) {
      p.attrs[std::string(*const_str(c->items[i]))] = c->items[i + 1];
    }
  }
}

// State that sets special attributes: through the slot-state setattr() (`__class__` swaps the
// type) or into the instance __dict__ (`__reduce__` shadows how the object pickles again).
void Machine::check_state_dunders(ValueId inst, ValueId state) {
  const auto dunder_names = [&](ValueId dict) {
    std::string names;
    const Container* c = container_of(dict);
    if (c == nullptr) return names;
    for (std::size_t i = 0; i < c->items.size() && i < 128; i += 2) {
      const auto key = const_str(c->items[i]);
      if (key && key->size() > 4 && key->substr(0, 2) == "__" &&
          key->substr(key->size() - 2) == "__") {
        names += (names.empty() ? "" : ", ") + std::string(*key);
      }
    }
    return names;
  };
  const auto report = [&](ValueId dict, bool slots) {
    const Container* c = values_[dict].kind == Kind::dict ? container_of(dict) : nullptr;
    if (c == nullptr || c->dunder_keys == 0) return;
    add_anomaly(slots ? Severity::high : Severity::medium, "pickle.dunder-state",
                "BUILD at offset " + std::to_string(op_offset_) + " sets special attributes (" +
                    dunder_names(dict) + ") on " + describe(inst) +
                    (slots ? " through setattr (slot state)" : " in its __dict__"),
                op_offset_);
  };
  const Value& s = values_[state];
  if (s.kind == Kind::dict) {
    report(state, false);
  } else if (s.kind == Kind::tuple) {
    const Container* t = container_of(state);
    if (t != nullptr && t->items.size() == 2) {
      report(t->items[0], false);
      report(t->items[1], true);
    }
  }
}

// The class an object was made from: NEWOBJ/REDUCE/OBJ/INST on a global, or
// copyreg._reconstructor(cls, ...) as protocols 0-1 spell it.
std::optional<std::string> Machine::instance_class(ValueId inst) const {
  const Value& v = values_[inst];
  if (v.kind != Kind::object || v.ref >= call_records_.size()) return std::nullopt;
  const CallRecord& call = call_records_[v.ref];
  const Value& callee = values_[call.callee];
  if (callee.kind != Kind::global || callee.ref >= import_states_.size()) return std::nullopt;
  const std::string& path = import_states_[callee.ref].path;
  if (path != "copyreg._reconstructor" && path != "copyreg.__newobj__") return path;
  const Container* args = container_of(call.args);
  if (args == nullptr || args->items.empty()) return std::nullopt;
  const Value& cls = values_[args->items[0]];
  if (cls.kind != Kind::global || cls.ref >= import_states_.size()) return std::nullopt;
  return import_states_[cls.ref].path;
}

// --- joblib ------------------------------------------------------------------------------------

std::optional<ValueId> Machine::dict_get(const Container& dict, std::string_view key) const {
  for (std::size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const auto k = const_str(dict.items[i]);
    if (k && *k == key) return dict.items[i + 1];
  }
  return std::nullopt;
}

// joblib's NumpyUnpickler replaces a NumpyArrayWrapper right after its BUILD with the array it
// reads straight from the file: raw bytes, or (object dtype) a whole pickle of its own.
bool Machine::joblib_after_build(ValueId inst) {
  ValueId array = kNoValue;
  if (!joblib_skip_array(build_state_[inst], array)) return false;
  stack_.back() = array;
  return true;
}

bool Machine::joblib_skip_array(ValueId state, ValueId& array) {
  const Container* c = values_[state].kind == Kind::dict ? container_of(state) : nullptr;
  if (c == nullptr) return out_of_budget("joblib array wrapper without a readable state");
  const auto shape = dict_get(*c, "shape");
  const auto dtype = dict_get(*c, "dtype");
  const auto align = dict_get(*c, "numpy_array_alignment_bytes");
  const auto info = dtype ? dtype_info(*dtype) : std::nullopt;
  if (!shape || !info) return out_of_budget("joblib array whose dtype or shape we cannot size");
  if (info->has_object) return joblib_object_array(array);
  std::uint64_t count = 1;
  const Container* dims = container_of(*shape);
  if (dims == nullptr) return out_of_budget("joblib array whose shape we cannot read");
  for (const auto d : dims->items) {
    const auto n = const_int(d);
    if (!n || *n < 0) return out_of_budget("joblib array whose shape we cannot read");
    if (*n != 0 && count > (~0ULL) / static_cast<std::uint64_t>(*n)) {
      return fail("ValueError: joblib array size overflows");
    }
    count *= static_cast<std::uint64_t>(*n);
  }
  if (info->itemsize != 0 && count > (~0ULL) / info->itemsize) {
    return fail("ValueError: joblib array size overflows");
  }
  if (align && values_[*align].kind != Kind::none) {
    const auto pad = read(1);
    if (!pad || !read((*pad)[0])) return false;
  }
  const std::uint64_t nbytes = count * info->itemsize;
  if (!read(nbytes))
    return fail("ValueError: EOF: reading array data, expected " + std::to_string(nbytes) +
                " bytes");
  array = make_opaque(Kind::object, kNoRef,
                      "numpy array read by joblib (" + std::to_string(nbytes) + " bytes)");
  return true;
}

// numpy.dtype(typestr, align, copy) REDUCE plus its BUILD state
// (version, endian, subarray, names, fields, elsize, alignment, flags).
std::optional<DtypeInfo> Machine::dtype_info(ValueId dtype) const {
  const Value& v = values_[dtype];
  if (v.kind != Kind::object || v.ref >= call_records_.size()) return std::nullopt;
  const CallRecord& call = call_records_[v.ref];
  const Value& callee = values_[call.callee];
  if (callee.kind != Kind::global || callee.ref >= import_states_.size()) return std::nullopt;
  const std::string& path = import_states_[callee.ref].path;
  if (path.substr(0, 5) != "numpy" || path.substr(path.rfind('.') + 1) != "dtype") {
    return std::nullopt;
  }
  const Container* args = container_of(call.args);
  const auto typestr =
      args != nullptr && !args->items.empty() ? const_str(args->items[0]) : std::nullopt;
  if (!typestr) return std::nullopt;
  DtypeInfo info;
  info.itemsize = dtype_itemsize(*typestr);
  const auto kind = typestr->find_first_not_of("<>|=");
  info.has_object = kind != std::string_view::npos && (*typestr)[kind] == 'O';
  const auto st = build_state_.find(dtype);
  const Container* state = st != build_state_.end() ? container_of(st->second) : nullptr;
  if (state != nullptr && state->items.size() >= 8) {
    const auto elsize = const_int(state->items[5]);
    const auto flags = const_int(state->items[7]);
    if (elsize && *elsize > 0) info.itemsize = static_cast<std::uint64_t>(*elsize);
    if (flags) info.has_object = (*flags & 1) != 0;  // NPY_ITEM_HASOBJECT
  }
  if (!info.has_object && info.itemsize == 0) return std::nullopt;
  return info;
}

// An object-dtype array: joblib calls pickle.load on the file, so a complete pickle with its
// own memo follows; scan it as part of this one and continue after its STOP.
bool Machine::joblib_object_array(ValueId& array) {
  if (depth_ + 1 >= kMaxDepth) return out_of_budget("joblib object arrays nested too deeply");
  Options inner = options_;
  inner.joblib_arrays = false;  // pickle.load, not joblib's unpickler
  Machine sub(data_, pos_, policy_, inner, depth_ + 1);
  PickleRun r = sub.execute();
  const std::size_t base = run_.imports.size();
  for (auto& imp : r.imports) {
    ImportState state;
    state.path = imp.module + "." + imp.name;
    import_states_.push_back(std::move(state));
    run_.imports.push_back(std::move(imp));
  }
  for (auto& call : r.calls) {
    if (call.import_index) *call.import_index += base;
    run_.calls.push_back(std::move(call));
  }
  for (auto& a : r.anomalies) run_.anomalies.push_back(std::move(a));
  for (auto& n : r.nested) run_.nested.push_back(std::move(n));
  run_.opcodes += r.opcodes;
  if (!r.reached_stop) {
    pos_ = r.end;
    if (r.error) run_.error = r.error;
    return false;
  }
  pos_ = r.end;
  array = make_opaque(Kind::object, kNoRef, "numpy object array read by joblib");
  return true;
}

}  // namespace mlsc::scan::pickle::detail
