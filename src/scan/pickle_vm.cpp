// The pickle machine's reading loop and its stack, memo and container opcodes, written against
// CPython's C unpickler (Modules/_pickle.c): the same reads, the same stack discipline (a MARK
// fences the stack: nothing pops below it), the same errors at the same places. Where the
// pure-Python unpickler (pickle._Unpickler, which joblib uses) or another CPython version reads
// the bytes differently, the machine keeps going the C way and records the difference.
#include <algorithm>
#include <cstring>

#include "scan/pickle_machine.hpp"
#include "scan/pickle_text.hpp"

namespace mlsc::scan::pickle {

namespace detail {

namespace {

constexpr int kHighestProtocol = 5;
constexpr std::uint64_t kPySsizeMax = 0x7FFFFFFFFFFFFFFFULL;
// A PUT index from which CPython's memo resize (idx * 2 pointers) is a multi-GiB allocation.
constexpr std::uint64_t kHugeMemoIndex = 1ULL << 28;

std::uint64_t le_unsigned(ByteView b) {
  std::uint64_t v = 0;
  for (std::size_t i = b.size(); i-- > 0;) v = (v << 8) | b[i];
  return v;
}

std::string invalid_key(std::uint8_t op) {
  if (op >= 0x20 && op <= 0x7E && op != '\'' && op != '\\') {
    return std::string("UnpicklingError: invalid load key, '") + static_cast<char>(op) + "'.";
  }
  constexpr char kHex[] = "0123456789abcdef";
  return std::string("UnpicklingError: invalid load key, '\\x") + kHex[op >> 4] + kHex[op & 0xF] +
         "'.";
}

}  // namespace

Machine::Machine(ByteView data, std::uint64_t start, const ImportPolicy& policy,
                 const Options& options, int depth)
    : data_(data), policy_(policy), options_(options), depth_(depth), pos_(start) {
  run_.start = start;
  run_.end = start;
  if (pos_ > data_.size()) pos_ = data_.size();
}

PickleRun Machine::execute() {
  while (!run_.error) {
    if (pos_ >= data_.size()) {
      // CPython turns a truncated read at an opcode boundary into EOFError.
      op_offset_ = pos_;
      fail("EOFError: Ran out of input");
      break;
    }
    op_offset_ = pos_;
    const std::uint8_t op = data_[pos_];
    track_frame(pos_, pos_ + 1);
    ++pos_;
    ++run_.opcodes;
    if (op == '.') {
      finish_stop();
      break;
    }
    if (!dispatch(op)) break;
    if (values_.size() > options_.max_values) {
      out_of_budget("more than " + std::to_string(options_.max_values) + " values");
      break;
    }
  }
  if (!run_.reached_stop) run_.end = std::min<std::uint64_t>(pos_, data_.size());
  finalize_imports();
  return std::move(run_);
}

bool Machine::fail(std::string message) {
  return fail_at(op_offset_, std::move(message));
}

bool Machine::fail_at(std::uint64_t offset, std::string message) {
  if (!run_.error) run_.error = Error::at(offset, std::move(message));
  return false;
}

bool Machine::out_of_budget(std::string what) {
  add_anomaly(Severity::high, "unscannable",
              "pickle analysis stopped at offset " + std::to_string(op_offset_) + ": " + what +
                  "; everything after is unchecked",
              op_offset_);
  return fail("resource limit: " + std::move(what));
}

// --- reading ---------------------------------------------------------------------------------

// FRAME is where the two CPython unpicklers part ways: the C one only checks that the frame's
// bytes exist and reads on linearly; the pure-Python one buffers the frame and raises when an
// opcode crosses its end. Report the first crossing of each frame.
void Machine::track_frame(std::uint64_t from, std::uint64_t to) {
  if (!frame_end_) return;
  if (from >= *frame_end_) {
    frame_end_.reset();
    return;
  }
  if (to > *frame_end_ && !frame_overrun_reported_) {
    frame_overrun_reported_ = true;
    add_anomaly(Severity::medium, "pickle.frame-mismatch",
                "opcode at offset " + std::to_string(op_offset_) +
                    " reads past the end of its FRAME (ends at " + std::to_string(*frame_end_) +
                    "): CPython's C unpickler reads on, the pure-Python unpickler (joblib, "
                    "pickle._Unpickler) raises 'pickle exhausted before end of frame'",
                op_offset_);
  }
}

std::optional<ByteView> Machine::read(std::uint64_t n) {
  if (n > data_.size() - pos_) {
    fail("UnpicklingError: pickle data was truncated");
    return std::nullopt;
  }
  track_frame(pos_, pos_ + n);
  const auto view = data_.subspan(static_cast<std::size_t>(pos_), static_cast<std::size_t>(n));
  pos_ += n;
  return view;
}

std::optional<std::string_view> Machine::readline() {
  const auto rest = data_.subspan(static_cast<std::size_t>(pos_));
  const void* nl = std::memchr(rest.data(), '\n', rest.size());
  if (nl == nullptr) {
    if (rest.empty()) {
      fail("UnpicklingError: pickle data was truncated");
      return std::nullopt;
    }
    // The pure-Python unpickler takes readline()[:-1] of whatever is left: the last line
    // loses its final byte and the opcode still runs (an INST still calls).
    add_anomaly(Severity::medium, "pickle.loader-divergence",
                "the line at offset " + std::to_string(pos_) +
                    " ends the file without a newline: CPython's C unpickler raises 'pickle "
                    "data was truncated', the pure-Python one drops the last byte and runs the "
                    "opcode",
                pos_);
    const auto line = as_chars(rest.subspan(0, rest.size() - 1));
    pos_ = data_.size();
    return line;
  }
  const auto len = static_cast<std::uint64_t>(static_cast<const std::uint8_t*>(nl) - rest.data());
  track_frame(pos_, pos_ + len + 1);
  const auto line = as_chars(rest.subspan(0, static_cast<std::size_t>(len)));
  pos_ += len + 1;
  return line;
}

// --- the opcode switch -----------------------------------------------------------------------

bool Machine::dispatch(std::uint8_t op) {
  switch (op) {
    case '(':
      marks_.push_back(stack_.size());
      return true;  // MARK
    case '0':
      return op_pop();  // POP
    case '1':
      return op_pop_mark();  // POP_MARK
    case '2':
      return op_dup();  // DUP
    case 'F':
      return op_float_text();  // FLOAT
    case 'I':
      return op_int();  // INT
    case 'J':
    case 'K':
    case 'M': {  // BININT, 1, 2
      const std::size_t width = op == 'J' ? 4 : op == 'K' ? 1 : 2;
      const auto b = read(width);
      if (!b) return false;
      auto v = static_cast<std::int64_t>(le_unsigned(*b));
      if (width == 4) v = static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
      return push(make_scalar(Kind::integer, v));
    }
    case 'L':
      return op_long_text();  // LONG
    case 0x8a:
      return op_long_binary(1);  // LONG1
    case 0x8b:
      return op_long_binary(4);  // LONG4
    case 'G': {                  // BINFLOAT
      const auto b = read(8);
      if (!b) return false;
      std::uint64_t bits = 0;
      for (std::size_t i = 0; i < 8; ++i) bits = (bits << 8) | (*b)[i];  // big-endian
      return push(make_scalar(Kind::floating, static_cast<std::int64_t>(bits)));
    }
    case 'N':
      return push(make_scalar(Kind::none, 0));  // NONE
    case 0x88:
      return push(make_scalar(Kind::boolean, 1));  // NEWTRUE
    case 0x89:
      return push(make_scalar(Kind::boolean, 0));  // NEWFALSE
    case 'S':
      return op_string();  // STRING
    case 'T':
      return op_binstring(4);  // BINSTRING
    case 'U':
      return op_binstring(1);  // SHORT_BINSTRING
    case 'V':
      return op_unicode();  // UNICODE
    case 'X':
      return op_binunicode(4);  // BINUNICODE
    case 0x8c:
      return op_binunicode(1);  // SHORT_BINUNICODE
    case 0x8d:
      return op_binunicode(8);  // BINUNICODE8
    case 'B':
      return op_binbytes(4, Kind::bytes);  // BINBYTES
    case 'C':
      return op_binbytes(1, Kind::bytes);  // SHORT_BINBYTES
    case 0x8e:
      return op_binbytes(8, Kind::bytes);  // BINBYTES8
    case 0x96:
      return op_binbytes(8, Kind::bytearray);  // BYTEARRAY8
    case 0x97:
      return op_next_buffer();  // NEXT_BUFFER
    case 0x98:
      return op_readonly_buffer();  // READONLY_BUFFER
    case ')':
      return push(make_container(Kind::tuple, {}));  // EMPTY_TUPLE
    case 0x85:
      return op_tuple_n(1);  // TUPLE1
    case 0x86:
      return op_tuple_n(2);  // TUPLE2
    case 0x87:
      return op_tuple_n(3);  // TUPLE3
    case 't':
      return op_tuple_mark();  // TUPLE
    case ']':
      return push(make_container(Kind::list, {}));  // EMPTY_LIST
    case 'l':
      return op_list_mark();  // LIST
    case '}':
      return push(make_container(Kind::dict, {}));  // EMPTY_DICT
    case 'd':
      return op_dict_mark();  // DICT
    case 0x8f:
      return push(make_container(Kind::set, {}));  // EMPTY_SET
    case 0x91:
      return op_frozenset_mark();  // FROZENSET
    case 'a':
      return op_append(false);  // APPEND
    case 'e':
      return op_append(true);  // APPENDS
    case 's':
      return op_setitems(false);  // SETITEM
    case 'u':
      return op_setitems(true);  // SETITEMS
    case 0x90:
      return op_additems();  // ADDITEMS
    case 'p':
      return op_put_text();  // PUT
    case 'g':
      return op_get_text();  // GET
    case 'q':
    case 'r':
    case 0x94: {  // BINPUT, LONG_, MEMOIZE
      std::uint64_t index = memo_len_;
      if (op != 0x94) {
        const auto b = read(op == 'q' ? 1 : 4);
        if (!b) return false;
        index = le_unsigned(*b);
      }
      ValueId v = kNoValue;
      return top(v) && memo_put(index, v);
    }
    case 'h':
    case 'j': {  // BINGET, LONG_BINGET
      const auto b = read(op == 'h' ? 1 : 4);
      if (!b) return false;
      ValueId v = kNoValue;
      return memo_get(le_unsigned(*b), v) && push(v);
    }
    case 0x80:
      return op_proto();  // PROTO
    case 0x95:
      return op_frame();  // FRAME
    case 'c':
      return op_global(false);  // GLOBAL
    case 'i':
      return op_global(true);  // INST
    case 0x93:
      return op_stack_global();  // STACK_GLOBAL
    case 0x82:
      return op_ext(1);  // EXT1
    case 0x83:
      return op_ext(2);  // EXT2
    case 0x84:
      return op_ext(4);  // EXT4
    case 'R':
      return op_reduce();  // REDUCE
    case 'b':
      return op_build();  // BUILD
    case 0x81:
      return op_newobj(false);  // NEWOBJ
    case 0x92:
      return op_newobj(true);  // NEWOBJ_EX
    case 'o':
      return op_obj();  // OBJ
    case 'P':
      return op_persid(false);  // PERSID
    case 'Q':
      return op_persid(true);  // BINPERSID
    default:
      return fail(invalid_key(op));
  }
}

void Machine::finish_stop() {
  ValueId result = kNoValue;
  if (!pop(result)) return;
  run_.reached_stop = true;
  run_.end = pos_;
  run_.result_repr = repr(result, 200);
  note_use(result, "returned by STOP");
  if (!stack_.empty() || !marks_.empty()) {
    add_anomaly(Severity::low, "pickle.anomaly",
                "STOP at offset " + std::to_string(op_offset_) + " leaves " +
                    std::to_string(stack_.size()) + " value(s) and " +
                    std::to_string(marks_.size()) +
                    " mark(s) behind; no pickler writes that (CPython ignores them)",
                op_offset_);
  }
  if (frame_end_ && pos_ < *frame_end_) {
    add_anomaly(Severity::medium, "pickle.frame-mismatch",
                "STOP at offset " + std::to_string(op_offset_) + " ends the pickle " +
                    std::to_string(*frame_end_ - pos_) +
                    " bytes before its FRAME ends: a following load() starts right after STOP "
                    "in CPython's C unpickler but after the frame in the pure-Python one",
                op_offset_);
  }
}

// --- stack -----------------------------------------------------------------------------------

bool Machine::push(ValueId id) {
  stack_.push_back(id);
  return true;
}

// Pdata_pop: nothing below the innermost MARK may be popped.
bool Machine::pop(ValueId& out) {
  const std::size_t fence = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= fence) {
    return fail(marks_.empty() ? "UnpicklingError: unpickling stack underflow"
                               : "UnpicklingError: unexpected MARK found");
  }
  out = stack_.back();
  stack_.pop_back();
  return true;
}

bool Machine::top(ValueId& out) {
  const std::size_t fence = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= fence) {
    return fail(marks_.empty() ? "UnpicklingError: unpickling stack underflow"
                               : "UnpicklingError: unexpected MARK found");
  }
  out = stack_.back();
  return true;
}

bool Machine::pop_mark(std::size_t& mark) {
  if (marks_.empty()) return fail("UnpicklingError: could not find MARK");
  mark = marks_.back();
  marks_.pop_back();
  return true;
}

std::vector<ValueId> Machine::take_from(std::size_t mark) {
  mark = std::min(mark, stack_.size());
  std::vector<ValueId> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
  stack_.resize(mark);
  return items;
}

bool Machine::op_pop() {
  // load_pop: a MARK on top of the stack is what POP removes.
  if (!marks_.empty() && marks_.back() == stack_.size()) {
    marks_.pop_back();
    return true;
  }
  ValueId ignored = kNoValue;
  return pop(ignored);
}

bool Machine::op_pop_mark() {
  std::size_t mark = 0;
  if (!pop_mark(mark)) return false;
  take_from(mark);
  return true;
}

bool Machine::op_dup() {
  ValueId v = kNoValue;
  return top(v) && push(v);
}

// --- memo ------------------------------------------------------------------------------------

bool Machine::memo_put(std::uint64_t index, ValueId id) {
  bool fresh = false;
  if (index < kMemoDense) {
    if (index >= memo_small_.size())
      memo_small_.resize(static_cast<std::size_t>(index) + 1, kNoValue);
    fresh = memo_small_[static_cast<std::size_t>(index)] == kNoValue;
    memo_small_[static_cast<std::size_t>(index)] = id;
  } else {
    fresh = memo_big_.insert_or_assign(index, id).second;
    if (index >= kHugeMemoIndex) {
      add_anomaly(Severity::low, "pickle.loader-divergence",
                  "memo index " + std::to_string(index) + " at offset " +
                      std::to_string(op_offset_) +
                      " makes CPython's C unpickler allocate a memo table of " +
                      std::to_string(index * 2 * 8 >> 30) +
                      " GiB (MemoryError on most machines); the pure-Python one uses a dict",
                  op_offset_);
    }
  }
  if (fresh) ++memo_len_;  // MEMOIZE stores at the number of filled slots, as CPython does
  return true;
}

bool Machine::memo_get(std::uint64_t index, ValueId& out) {
  if (index < memo_small_.size() && memo_small_[static_cast<std::size_t>(index)] != kNoValue) {
    out = memo_small_[static_cast<std::size_t>(index)];
    return true;
  }
  const auto it = memo_big_.find(index);
  if (index >= kMemoDense && it != memo_big_.end()) {
    out = it->second;
    return true;
  }
  const auto shown = static_cast<std::int64_t>(index);
  return fail("UnpicklingError: Memo value not found at index " + std::to_string(shown));
}

// PUT/GET take a decimal line parsed like int(): whitespace, sign, zeros and underscores.
namespace {

bool memo_index_from(const text::Integer& parsed, std::int64_t& index, std::string& error) {
  if (!parsed.ok) {
    error = parsed.error;
    return false;
  }
  if (!parsed.fits) {
    error = "OverflowError: Python int too large to convert to C ssize_t";
    return false;
  }
  index = parsed.small;
  return true;
}

}  // namespace

bool Machine::op_put_text() {
  const auto line = readline();
  if (!line) return false;
  if (line->empty()) return fail("UnpicklingError: pickle data was truncated");
  ValueId v = kNoValue;
  if (!top(v)) return false;
  const auto parsed = text::parse_pylong(*line, 10);
  if (parsed.over_digit_limit) {
    add_anomaly(Severity::low, "pickle.loader-divergence",
                "PUT at offset " + std::to_string(op_offset_) +
                    " has more than 4300 digits: Python >= 3.11 raises ValueError, older "
                    "versions read on",
                op_offset_);
  }
  std::int64_t index = 0;
  std::string error;
  if (!memo_index_from(parsed, index, error)) return fail(error);
  if (index < 0) return fail("ValueError: negative PUT argument");
  return memo_put(static_cast<std::uint64_t>(index), v);
}

bool Machine::op_get_text() {
  const auto line = readline();
  if (!line) return false;
  if (line->empty()) return fail("UnpicklingError: pickle data was truncated");
  const auto parsed = text::parse_pylong(*line, 10);
  if (parsed.over_digit_limit) {
    add_anomaly(Severity::low, "pickle.loader-divergence",
                "GET at offset " + std::to_string(op_offset_) +
                    " has more than 4300 digits: Python >= 3.11 raises ValueError, older "
                    "versions read on",
                op_offset_);
  }
  std::int64_t index = 0;
  std::string error;
  if (!memo_index_from(parsed, index, error)) return fail(error);
  if (index < 0) {
    return fail("UnpicklingError: Memo value not found at index " + std::to_string(index));
  }
  ValueId v = kNoValue;
  return memo_get(static_cast<std::uint64_t>(index), v) && push(v);
}

// --- protocol and framing --------------------------------------------------------------------

bool Machine::op_proto() {
  const auto b = read(1);
  if (!b) return false;
  const int proto = (*b)[0];
  if (proto > kHighestProtocol) {
    return fail("ValueError: unsupported pickle protocol: " + std::to_string(proto));
  }
  if (saw_proto_ || op_offset_ != run_.start) {
    add_anomaly(Severity::low, "pickle.anomaly",
                "PROTO " + std::to_string(proto) + " at offset " + std::to_string(op_offset_) +
                    " is not the pickle's first opcode; it changes how later globals resolve "
                    "(Python 2 names below 3, dotted names from 4)",
                op_offset_);
  }
  saw_proto_ = true;
  proto_ = proto;
  run_.protocol = std::max(run_.protocol, proto);
  return true;
}

bool Machine::op_frame() {
  const auto b = read(8);
  if (!b) return false;
  std::uint64_t len = le_unsigned(*b);
  if (len > data_.size() - pos_) {
    // The C unpickler insists on the whole frame; the pure-Python one buffers what there is
    // and reads on, so a short last frame still imports and calls. Read on as it does.
    add_anomaly(Severity::medium, "pickle.frame-mismatch",
                "FRAME at offset " + std::to_string(op_offset_) + " declares " +
                    std::to_string(len) + " bytes but only " + std::to_string(data_.size() - pos_) +
                    " follow: CPython's C unpickler raises (" +
                    (len > kPySsizeMax ? "OverflowError" : "pickle data was truncated") +
                    "), the pure-Python unpickler (joblib, pickle._Unpickler) reads on",
                op_offset_);
    len = data_.size() - pos_;
  }
  if (frame_end_ && op_offset_ < *frame_end_) {
    add_anomaly(Severity::medium, "pickle.frame-mismatch",
                "FRAME at offset " + std::to_string(op_offset_) +
                    " starts before the previous frame ends (at " + std::to_string(*frame_end_) +
                    "): the pure-Python unpickler raises 'beginning of a new frame before end "
                    "of current frame', CPython's C unpickler reads on",
                op_offset_);
  }
  frame_end_ = pos_ + len;
  frame_overrun_reported_ = false;
  return true;
}

// --- numbers ---------------------------------------------------------------------------------

bool Machine::op_int() {
  const auto line = readline();
  if (!line) return false;
  if (line->empty()) return fail("UnpicklingError: pickle data was truncated");
  const auto parsed = text::parse_int_opcode(*line);
  if (!parsed.ok) return fail("ValueError: could not convert string to int");
  if (parsed.over_digit_limit) {
    add_anomaly(Severity::low, "pickle.loader-divergence",
                "INT at offset " + std::to_string(op_offset_) +
                    " has more than 4300 digits: Python >= 3.11 raises ValueError, older "
                    "versions read on",
                op_offset_);
  }
  if (line->find('\0') != std::string_view::npos) {
    add_anomaly(Severity::low, "pickle.loader-divergence",
                "INT at offset " + std::to_string(op_offset_) +
                    " has a NUL byte in its digits: CPython's C unpickler stops reading there, "
                    "the pure-Python unpickler raises",
                op_offset_);
  }
  if (!parsed.fits) return push(make_owned_text(Kind::big_integer, parsed.big, false));
  // "I01\n" / "I00\n" are True/False: a two-character argument whose value is 0 or 1.
  if (line->size() == 2 && (parsed.small == 0 || parsed.small == 1)) {
    return push(make_scalar(Kind::boolean, parsed.small));
  }
  return push(make_scalar(Kind::integer, parsed.small));
}

bool Machine::op_long_text() {
  const auto line = readline();
  if (!line) return false;
  if (line->empty()) return fail("UnpicklingError: pickle data was truncated");
  std::string_view digits = *line;
  if (digits.back() == 'L') digits.remove_suffix(1);  // Python 2 wrote 123L
  const auto parsed = text::parse_pylong(digits, 0);
  if (!parsed.ok) return fail(parsed.error);
  if (parsed.over_digit_limit) {
    add_anomaly(Severity::low, "pickle.loader-divergence",
                "LONG at offset " + std::to_string(op_offset_) +
                    " has more than 4300 digits: Python >= 3.11 raises ValueError, older "
                    "versions read on",
                op_offset_);
  }
  if (!parsed.fits) return push(make_owned_text(Kind::big_integer, parsed.big, false));
  return push(make_scalar(Kind::integer, parsed.small));
}

bool Machine::op_long_binary(std::size_t width) {
  const auto n = read(width);
  if (!n) return false;
  auto count = static_cast<std::int64_t>(le_unsigned(*n));
  if (width == 4) count = static_cast<std::int32_t>(static_cast<std::uint32_t>(count));
  if (count < 0) return fail("UnpicklingError: LONG pickle has negative byte count");
  if (count == 0) return push(make_scalar(Kind::integer, 0));
  const auto bytes = read(static_cast<std::uint64_t>(count));
  if (!bytes) return false;
  // Two's complement, little-endian. Anything that sign-extends from 8 bytes fits int64.
  const bool negative = (bytes->back() & 0x80) != 0;
  bool fits = true;
  for (std::size_t i = 8; i < bytes->size(); ++i) {
    if ((*bytes)[i] != (negative ? 0xFF : 0x00)) fits = false;
  }
  if (bytes->size() >= 8 && ((((*bytes)[7] & 0x80) != 0) != negative)) fits = false;
  if (!fits) {
    Value v;
    v.kind = Kind::big_integer;
    v.big_is_binary = true;
    v.offset = op_offset_;
    v.text = as_chars(*bytes);
    return push(add_value(v));
  }
  std::uint64_t u = negative ? ~0ULL : 0ULL;
  const std::size_t used = std::min<std::size_t>(bytes->size(), 8);
  for (std::size_t i = 0; i < used; ++i) {
    u &= ~(0xFFULL << (8 * i));
    u |= static_cast<std::uint64_t>((*bytes)[i]) << (8 * i);
  }
  return push(make_scalar(Kind::integer, static_cast<std::int64_t>(u)));
}

bool Machine::op_float_text() {
  const auto line = readline();
  if (!line) return false;
  if (line->empty()) return fail("UnpicklingError: pickle data was truncated");
  std::string error;
  const auto value = text::parse_float(*line, error);
  if (!value) return fail(error);
  std::uint64_t bits = 0;
  std::memcpy(&bits, &*value, sizeof bits);
  return push(make_scalar(Kind::floating, static_cast<std::int64_t>(bits)));
}

// --- strings ---------------------------------------------------------------------------------

namespace {

std::string non_ascii_note(std::string_view op, std::uint64_t offset) {
  return std::string(op) + " at offset " + std::to_string(offset) +
         " holds non-ASCII bytes: pickle.load (encoding='ASCII') raises UnicodeDecodeError, "
         "torch.load (utf-8) and encoding='latin1' loaders read on";
}

}  // namespace

// Protocol 0/1 "str" opcodes hold Python 2 byte strings that Python 3 decodes with the
// unpickler's encoding: ASCII for pickle.load, UTF-8 for torch.load.
bool Machine::op_string() {
  const auto line = readline();
  if (!line) return false;
  const std::string_view s = *line;
  if (s.size() < 2 || s.front() != s.back() || (s.front() != '\'' && s.front() != '"')) {
    return fail("UnpicklingError: the STRING opcode argument must be quoted");
  }
  auto decoded = text::decode_escape(s.substr(1, s.size() - 2));
  if (!decoded.error.empty()) return fail(decoded.error);
  if (!text::is_ascii(decoded.text)) {
    add_anomaly(Severity::low, "pickle.loader-divergence", non_ascii_note("STRING", op_offset_),
                op_offset_);
    if (!text::valid_utf8(decoded.text, false)) decoded.text = text::latin1_to_utf8(decoded.text);
  }
  return push(make_owned_text(Kind::str, std::move(decoded.text), true));
}

bool Machine::op_binstring(std::size_t width) {
  const auto n = read(width);
  if (!n) return false;
  const std::uint64_t size = le_unsigned(*n);
  if (width == 4 && size >= 0x80000000ULL) {
    add_anomaly(Severity::low, "pickle.loader-divergence",
                "BINSTRING at offset " + std::to_string(op_offset_) +
                    " has a length CPython's C unpickler reads as unsigned and the pure-Python "
                    "one rejects as negative",
                op_offset_);
  }
  const auto bytes = read(size);
  if (!bytes) return false;
  const auto view = as_chars(*bytes);
  if (text::is_ascii(view)) return push(make_text(Kind::str, view, true));
  add_anomaly(Severity::low, "pickle.loader-divergence",
              non_ascii_note(width == 4 ? "BINSTRING" : "SHORT_BINSTRING", op_offset_), op_offset_);
  if (text::valid_utf8(view, false)) return push(make_text(Kind::str, view, true));
  return push(make_owned_text(Kind::str, text::latin1_to_utf8(view), true));
}

bool Machine::op_unicode() {
  const auto line = readline();
  if (!line) return false;
  auto decoded = text::decode_raw_unicode_escape(*line);
  if (!decoded.error.empty()) return fail(decoded.error);
  if (decoded.text == *line) return push(make_text(Kind::str, *line, true));  // no copy needed
  return push(make_owned_text(Kind::str, std::move(decoded.text), true));
}

bool Machine::op_binunicode(std::size_t width) {
  const auto n = read(width);
  if (!n) return false;
  const std::uint64_t size = le_unsigned(*n);
  if (size > kPySsizeMax) {
    return fail("OverflowError: BINUNICODE exceeds system's maximum size of " +
                std::to_string(kPySsizeMax) + " bytes");
  }
  const auto bytes = read(size);
  if (!bytes) return false;
  const auto view = as_chars(*bytes);
  if (!text::valid_utf8(view, true)) {
    return fail("UnicodeDecodeError: 'utf-8' codec can't decode the BINUNICODE argument");
  }
  return push(make_text(Kind::str, view, true));
}

bool Machine::op_binbytes(std::size_t width, Kind kind) {
  const auto n = read(width);
  if (!n) return false;
  const std::uint64_t size = le_unsigned(*n);
  if (size > kPySsizeMax) {
    return fail(std::string("OverflowError: ") +
                (kind == Kind::bytearray ? "BYTEARRAY8" : "BINBYTES") +
                " exceeds system's maximum size of " + std::to_string(kPySsizeMax) + " bytes");
  }
  const auto bytes = read(size);
  if (!bytes) return false;
  return push(make_text(kind, as_chars(*bytes), true));
}

bool Machine::op_next_buffer() {
  add_anomaly(Severity::low, "pickle.loader-divergence",
              "NEXT_BUFFER at offset " + std::to_string(op_offset_) +
                  " asks for an out-of-band buffer: pickle.load without buffers= raises, a "
                  "loader that passes buffers reads on",
              op_offset_);
  return push(make_opaque(Kind::object, kNoRef, "<out-of-band buffer>"));
}

bool Machine::op_readonly_buffer() {
  ValueId v = kNoValue;
  if (!top(v)) return false;
  switch (values_[v].kind) {
    case Kind::bytes:
    case Kind::bytearray:
    case Kind::object:
    case Kind::unknown:
      return true;
    default:
      return fail("TypeError: memoryview: a bytes-like object is required");
  }
}

// --- containers ------------------------------------------------------------------------------

bool Machine::op_tuple_n(std::size_t n) {
  const std::size_t fence = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() < n || stack_.size() - n < fence) {
    return fail(marks_.empty() ? "UnpicklingError: unpickling stack underflow"
                               : "UnpicklingError: unexpected MARK found");
  }
  auto items = take_from(stack_.size() - n);
  for (const auto id : items) note_use(id, "put in a tuple");
  return push(make_container(Kind::tuple, std::move(items)));
}

bool Machine::op_tuple_mark() {
  std::size_t mark = 0;
  if (!pop_mark(mark)) return false;
  auto items = take_from(mark);
  for (const auto id : items) note_use(id, "put in a tuple");
  return push(make_container(Kind::tuple, std::move(items)));
}

bool Machine::op_list_mark() {
  std::size_t mark = 0;
  if (!pop_mark(mark)) return false;
  auto items = take_from(mark);
  for (const auto id : items) note_use(id, "put in a list");
  return push(make_container(Kind::list, std::move(items)));
}

bool Machine::op_frozenset_mark() {
  std::size_t mark = 0;
  if (!pop_mark(mark)) return false;
  auto items = take_from(mark);
  for (const auto id : items) {
    if (unhashable(id)) return fail("TypeError: unhashable type in FROZENSET");
    note_use(id, "put in a frozenset");
  }
  return push(make_container(Kind::frozenset, std::move(items)));
}

bool Machine::op_dict_mark() {
  std::size_t mark = 0;
  if (!pop_mark(mark)) return false;
  if ((stack_.size() - std::min(mark, stack_.size())) % 2 != 0) {
    return fail("UnpicklingError: odd number of items for DICT");
  }
  auto items = take_from(mark);
  for (std::size_t i = 0; i < items.size(); i += 2) {
    if (unhashable(items[i])) return fail("TypeError: unhashable type as a DICT key");
  }
  const ValueId dict = make_container(Kind::dict, {});
  insert_items(dict, items);
  return push(dict);
}

// do_append: the target sits just below the items; a list takes them, anything else has its
// extend()/append() called, which a dict, tuple or scalar does not have.
bool Machine::op_append(bool marked) {
  std::size_t x = 0;
  if (marked) {
    if (!pop_mark(x)) return false;
  } else {
    const std::size_t fence = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() < 1 || stack_.size() - 1 <= fence) {
      return fail(marks_.empty() ? "UnpicklingError: unpickling stack underflow"
                                 : "UnpicklingError: unexpected MARK found");
    }
    x = stack_.size() - 1;
  }
  const std::size_t fence = marks_.empty() ? 0 : marks_.back();
  if (x > stack_.size() || x <= fence) {
    return fail(marks_.empty() ? "UnpicklingError: unpickling stack underflow"
                               : "UnpicklingError: unexpected MARK found");
  }
  if (x == stack_.size()) return true;
  const ValueId target = stack_[x - 1];
  const auto items = take_from(x);
  switch (values_[target].kind) {
    case Kind::list:
    case Kind::bytearray:
      insert_items(target, items);
      return true;
    case Kind::object:
    case Kind::unknown:
    case Kind::global:
    case Kind::attribute:
      for (const auto id : items) note_use(id, "appended to an object");
      return true;
    default:
      return fail("AttributeError: APPEND target has no 'extend' or 'append'");
  }
}

bool Machine::op_setitems(bool marked) {
  std::size_t x = 0;
  if (marked) {
    if (!pop_mark(x)) return false;
  } else {
    x = stack_.size() >= 2 ? stack_.size() - 2 : 0;
  }
  const std::size_t fence = marks_.empty() ? 0 : marks_.back();
  if (x > stack_.size() || x <= fence) {
    return fail(marks_.empty() ? "UnpicklingError: unpickling stack underflow"
                               : "UnpicklingError: unexpected MARK found");
  }
  if (x == stack_.size()) return true;
  if ((stack_.size() - x) % 2 != 0)
    return fail("UnpicklingError: odd number of items for SETITEMS");
  const ValueId target = stack_[x - 1];
  const auto items = take_from(x);
  switch (values_[target].kind) {
    case Kind::dict:
      for (std::size_t i = 0; i < items.size(); i += 2) {
        if (unhashable(items[i])) return fail("TypeError: unhashable type as a dict key");
      }
      insert_items(target, items);
      return true;
    case Kind::object:
    case Kind::unknown:
    case Kind::global:
    case Kind::attribute:
    case Kind::list:
      // __setitem__ on something we do not model (a list index assignment, an OrderedDict).
      for (const auto id : items) note_use(id, "stored into an object");
      return true;
    default:
      return fail("TypeError: SETITEM target does not support item assignment");
  }
}

bool Machine::op_additems() {
  std::size_t mark = 0;
  if (!pop_mark(mark)) return false;
  const std::size_t fence = marks_.empty() ? 0 : marks_.back();
  if (mark > stack_.size() || mark <= fence) {
    return fail(marks_.empty() ? "UnpicklingError: unpickling stack underflow"
                               : "UnpicklingError: unexpected MARK found");
  }
  if (mark == stack_.size()) return true;
  const ValueId target = stack_[mark - 1];
  const auto items = take_from(mark);
  switch (values_[target].kind) {
    case Kind::set:
      for (const auto id : items) {
        if (unhashable(id)) return fail("TypeError: unhashable type in ADDITEMS");
      }
      insert_items(target, items);
      return true;
    case Kind::object:
    case Kind::unknown:
    case Kind::global:
    case Kind::attribute:
      for (const auto id : items) note_use(id, "added to an object");
      return true;
    default:
      return fail("AttributeError: ADDITEMS target has no 'add'");
  }
}

}  // namespace detail

PickleRun run(ByteView data, std::uint64_t start, const ImportPolicy& policy,
              const Options& options) {
  detail::Machine machine(data, start, policy, options, 0);
  return machine.execute();
}

}  // namespace mlsc::scan::pickle
