// The symbolic pickle machine behind pickle::run (private to src/scan).
//
// Values live in one arena indexed by ValueId; the stack, the memo and containers hold ids, so
// objects are shared by reference exactly as CPython shares them (a list appended to itself
// is just an id inside its own item vector: no ownership cycle, nothing to leak). Strings that
// need no decoding are views into the input; decoded ones live in `owned_`, charged to a budget.
//
// Implementation is split by concern:
//   pickle_vm.cpp          reading, the opcode loop, stack/memo/container opcodes
//   pickle_vm_globals.cpp  imports, calls, BUILD, getattr vetting, value builders, joblib
//   pickle_vm_values.cpp   value construction, repr, nested-pickle and code-string inspection
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "mlsc/scan/pickle.hpp"

namespace mlsc::scan::pickle::detail {

using ValueId = std::uint32_t;
constexpr ValueId kNoValue = 0xFFFFFFFFU;
constexpr std::uint32_t kNoRef = 0xFFFFFFFFU;

enum class Kind : std::uint8_t {
  none,
  boolean,
  integer,
  big_integer,
  floating,
  str,
  bytes,
  bytearray,
  list,
  tuple,
  dict,
  set,
  frozenset,
  global,     // what GLOBAL / STACK_GLOBAL / INST / EXT looked up (ref: import index)
  attribute,  // getattr(<allowlisted class>, 'NAME') the VM vetted (ref: import of the class)
  object,     // result of a call or operation we do not emulate (ref: call index or kNoRef)
  unknown,    // known only at run time: planted by BUILD, from an unresolved lookup
};

struct Value {
  Kind kind = Kind::none;
  bool big_is_binary = false;  // big_integer: `text` is LONG1/LONG4 little-endian bytes
  std::uint32_t ref = kNoRef;  // containers: index into containers_; see Kind for others
  std::uint64_t offset = 0;    // opcode that produced it
  std::int64_t num = 0;        // integer/boolean value; floating: bit pattern
  std::string_view text;       // str (UTF-8), bytes, big_integer digits, descriptions
};

// Items of a list/tuple/set/frozenset, or alternating key/value of a dict.
struct Container {
  std::vector<ValueId> items;
  std::uint32_t dunder_keys = 0;  // dict keys that are dunder names ("__class__")
  bool opaque_keys = false;       // some key is not a constant str
};

// A call the machine saw (REDUCE, NEWOBJ, ...): what result values refer back to.
struct CallRecord {
  ValueId callee = kNoValue;
  ValueId args = kNoValue;
  std::size_t site = 0;  // index into PickleRun::calls
};

// Per-import bookkeeping beyond pickle::Import.
struct ImportState {
  std::string path;          // "module.name", for messages and planted-state lookups
  bool contextual = false;   // getattr-like: safe only in vetted calls
  std::string misuse;        // why a contextual global is not safe here (empty: fine so far)
  std::uint32_t vetted = 0;  // vetted getattr calls
  std::vector<std::uint32_t> vetted_classes;  // imports those calls read from
};

// Attributes written into a module or class by BUILD.
struct Planted {
  bool unknown = false;  // state we could not read: any later lookup there is unresolved
  std::uint64_t offset = 0;
  std::unordered_map<std::string, ValueId> attrs;
};

// What joblib needs to know about a numpy dtype to skip an array's bytes.
struct DtypeInfo {
  std::uint64_t itemsize = 0;
  bool has_object = false;
};

class Machine {
 public:
  Machine(ByteView data, std::uint64_t start, const ImportPolicy& policy, const Options& options,
          int depth);
  PickleRun execute();

 private:
  // --- reading (pickle_vm.cpp) ---------------------------------------------------------------
  std::optional<ByteView> read(std::uint64_t n);
  std::optional<std::string_view> readline();
  void track_frame(std::uint64_t from, std::uint64_t to);
  bool fail(std::string message);
  bool fail_at(std::uint64_t offset, std::string message);
  bool dispatch(std::uint8_t op);
  void finish_stop();

  // --- stack and memo --------------------------------------------------------------------------
  bool pop(ValueId& out);
  bool top(ValueId& out);
  bool pop_mark(std::size_t& mark);
  std::vector<ValueId> take_from(std::size_t mark);
  bool push(ValueId id);
  bool memo_put(std::uint64_t index, ValueId id);
  bool memo_get(std::uint64_t index, ValueId& out);
  bool op_frame();
  bool op_proto();
  bool op_put_text();
  bool op_get_text();
  bool op_int();
  bool op_long_text();
  bool op_long_binary(std::size_t width);
  bool op_float_text();
  bool op_string();
  bool op_binstring(std::size_t width);
  bool op_unicode();
  bool op_binunicode(std::size_t width);
  bool op_binbytes(std::size_t width, Kind kind);
  bool op_tuple_n(std::size_t n);
  bool op_tuple_mark();
  bool op_list_mark();
  bool op_dict_mark();
  bool op_frozenset_mark();
  bool op_append(bool marked);
  bool op_setitems(bool marked);
  bool op_additems();
  bool op_pop();
  bool op_pop_mark();
  bool op_dup();
  bool op_readonly_buffer();
  bool op_next_buffer();

  // --- globals, calls, state (pickle_vm_globals.cpp) -------------------------------------------
  bool op_global(bool inst);
  bool op_stack_global();
  bool op_ext(std::size_t width);
  bool op_reduce();
  bool op_build();
  bool op_newobj(bool ex);
  bool op_obj();
  bool op_persid(bool binary);
  ValueId import_global(std::string module, std::string name, ImportSource source,
                        std::uint64_t offset);
  ValueId import_unresolved(std::string module, std::string name, std::string why,
                            ImportSource source);
  ImportClass classify_with_mapping(std::string& module, std::string& name);
  std::optional<ValueId> planted_lookup(const std::string& path, std::uint32_t index);
  ValueId record_call(CallKind kind, ValueId callee, ValueId args, std::string args_repr);
  bool check_call_args(ValueId args, std::string_view op);
  void note_indirect_call(ValueId callee, std::string_view op);
  void add_loader_payload(std::string_view bytes, std::uint64_t offset);
  void vet_getattr(std::uint32_t import_index, ValueId args, ValueId& result);
  void note_use(ValueId id, std::string_view how);
  void finalize_imports();
  std::optional<ValueId> emulate_builder(const Import& callee, ValueId args);
  std::optional<ValueId> encode_str(std::string_view s, const std::string& codec);
  std::optional<ValueId> decode_bytes(std::string_view s, Kind kind, const std::string& codec);
  std::optional<ValueId> build_bytes(const std::vector<ValueId>& items, Kind out);
  void build_on_global(ValueId inst, ValueId state);
  void plant(const std::string& path, ValueId state);
  void check_state_dunders(ValueId inst, ValueId state);
  std::optional<std::string> instance_class(ValueId inst) const;
  std::optional<ValueId> dict_get(const Container& dict, std::string_view key) const;
  bool joblib_after_build(ValueId inst);
  bool joblib_skip_array(ValueId state, ValueId& array);
  std::optional<DtypeInfo> dtype_info(ValueId dtype) const;
  bool joblib_object_array(ValueId& array);

  // --- values (pickle_vm_values.cpp) -------------------------------------------------------------
  ValueId add_value(Value v);
  ValueId make_scalar(Kind kind, std::int64_t num);
  ValueId make_text(Kind kind, std::string_view text, bool inspect);
  ValueId make_owned_text(Kind kind, std::string text, bool inspect);
  ValueId make_container(Kind kind, std::vector<ValueId> items);
  ValueId make_opaque(Kind kind, std::uint32_t ref, std::string description);
  bool charge(std::uint64_t bytes);
  void insert_items(ValueId container, const std::vector<ValueId>& items);
  const Container* container_of(ValueId id) const;
  bool is_str(ValueId id) const;
  bool known_not_str(ValueId id) const;
  bool unhashable(ValueId id, int depth = 0) const;
  std::optional<std::string_view> const_str(ValueId id) const;
  std::optional<std::int64_t> const_int(ValueId id) const;
  std::string repr(ValueId id, std::size_t budget) const;
  void repr_into(ValueId id, std::string& out, std::size_t limit, int depth) const;
  std::string describe(ValueId id) const;
  std::string describe_callee(ValueId id) const;
  void inspect_text(ValueId id);
  void inspect_code_string(std::string_view text, std::uint64_t offset, std::string_view how);
  bool try_nested(std::string_view bytes, std::uint64_t offset, std::string_view encoding);
  void add_anomaly(Severity severity, std::string rule, std::string message,
                   std::optional<std::uint64_t> offset = std::nullopt);
  bool out_of_budget(std::string what);

  ByteView data_;
  const ImportPolicy& policy_;
  Options options_;
  int depth_;
  PickleRun run_;
  std::uint64_t pos_;
  std::uint64_t op_offset_ = 0;
  int proto_ = 0;  // last PROTO seen (CPython's self->proto)
  bool saw_proto_ = false;

  std::optional<std::uint64_t> frame_end_;  // end of the current FRAME (pure-Python view)
  bool frame_overrun_reported_ = false;

  std::vector<Value> values_;
  std::vector<Container> containers_;
  std::vector<CallRecord> call_records_;
  std::deque<std::string> owned_;  // deque: growing never moves the strings views point into
  std::uint64_t owned_bytes_ = 0;
  std::uint64_t inspect_bytes_ = 0;

  std::vector<ValueId> stack_;
  std::vector<std::size_t> marks_;
  std::vector<ValueId> memo_small_;
  std::unordered_map<std::uint64_t, ValueId> memo_big_;
  std::size_t memo_len_ = 0;

  std::vector<ImportState> import_states_;
  std::unordered_map<std::string, Planted> planted_;
  std::unordered_map<ValueId, ValueId> build_state_;  // object -> state of its last BUILD
  std::unordered_set<std::string> seen_notes_;        // low-severity notes already reported
  std::size_t code_findings_ = 0;
};

// Limits shared by the machine's parts.
inline constexpr std::uint64_t kDecodedBudget = 256ULL << 20;   // decoded string bytes per run
inline constexpr std::uint64_t kInspectBudget = 64ULL << 20;    // bytes scanned for payloads
inline constexpr std::uint64_t kMaxInspectValue = 16ULL << 20;  // biggest value inspected
inline constexpr std::size_t kMaxAnomalies = 200;               // per run, then summarised
inline constexpr std::size_t kMemoDense = 1U << 20;             // memo indexes kept in a vector
inline constexpr std::size_t kReprBudget = 160;                 // chars of an args repr
inline constexpr int kMaxDepth = 3;                             // nested machines

}  // namespace mlsc::scan::pickle::detail
