#include "gguf_reader.hpp"

#include <utility>

namespace mlsc::scan::gguf {

namespace {

constexpr std::uint64_t kHeaderBytesV1 = 4 + 4 + 4 + 4;
constexpr std::uint64_t kHeaderBytes = 4 + 4 + 8 + 8;

// Smallest encoding of one element of `type`: a length prefix for strings, a type and a count
// for arrays. Counts are checked against (remaining bytes / this) before anything is walked.
std::uint64_t min_size(std::uint32_t type, bool v1) {
  switch (static_cast<ValueType>(type)) {
    case ValueType::u8:
    case ValueType::i8:
    case ValueType::boolean:
      return 1;
    case ValueType::u16:
    case ValueType::i16:
      return 2;
    case ValueType::u32:
    case ValueType::i32:
    case ValueType::f32:
      return 4;
    case ValueType::u64:
    case ValueType::i64:
    case ValueType::f64:
      return 8;
    case ValueType::string:
      return v1 ? 4 : 8;
    case ValueType::array:
      return 4 + (v1 ? 4 : 8);
  }
  return 1;
}

class Reader {
 public:
  Reader(ByteView data, const ReadLimits& limits, File& out)
      : d_(data), limits_(limits), out_(out) {}

  void run() {
    out_.version = *load_le<std::uint32_t>(d_, 4);
    v1_ = out_.version == 1;
    pos_ = 8;
    if (!count(out_.n_tensors, 8 + 4 + 4 + 8, "tensor count") ||
        !count(out_.n_kv, 4 + 4 + 1, "metadata pair count")) {
      return;
    }
    for (std::uint64_t i = 0; i < out_.n_kv; ++i) {
      if (!key_value()) return;
    }
    for (std::uint64_t i = 0; i < out_.n_tensors; ++i) {
      if (!tensor_info()) return;
    }
    out_.infos_end = pos_;
  }

 private:
  bool fail(Problem p, std::uint64_t at, std::string message) {
    out_.problem = p;
    out_.error = Error::at(at, std::move(message));
    return false;
  }

  std::uint64_t remaining() const { return d_.size() - pos_; }

  template <class T>
  bool fixed(T& v, std::string_view what) {
    const auto x = load_le<T>(d_, pos_);
    if (!x) return fail(Problem::truncated, pos_, "file ends inside " + std::string(what));
    v = *x;
    pos_ += sizeof(T);
    return true;
  }

  // A u32 (v1) or u64 count.
  bool width(std::uint64_t& v, std::string_view what) {
    if (!v1_) return fixed(v, what);
    std::uint32_t x = 0;
    if (!fixed(x, what)) return false;
    v = x;
    return true;
  }

  // A count of items each at least `min_item` bytes long: the rest of the file must hold them.
  bool count(std::uint64_t& v, std::uint64_t min_item, std::string_view what) {
    const auto at = pos_;
    if (!width(v, what)) return false;
    if (v > remaining() / min_item) {
      return fail(
          v > d_.size() / min_item ? Problem::count_overflow : Problem::truncated, at,
          std::string(what) + " " + std::to_string(v) + " needs at least " +
              (v > UINT64_MAX / min_item ? std::string("2^64") : std::to_string(v * min_item)) +
              " more bytes; " + std::to_string(remaining()) + " remain");
    }
    return true;
  }

  bool string(std::string_view& s, std::string_view what) {
    const auto at = pos_;
    std::uint64_t len = 0;
    if (!width(len, what)) return false;
    if (len > remaining()) {
      return fail(len > d_.size() ? Problem::length_overflow : Problem::truncated, at,
                  std::string(what) + " length " + std::to_string(len) +
                      " runs past the end of the file (" + std::to_string(remaining()) +
                      " bytes remain)");
    }
    s = as_chars(d_.subspan(static_cast<std::size_t>(pos_), static_cast<std::size_t>(len)));
    pos_ += len;
    return true;
  }

  bool value_type(std::uint32_t& type) {
    const auto at = pos_;
    if (!fixed(type, "a value type")) return false;
    if (type >= kValueTypeCount) {
      return fail(Problem::bad_value_type, at,
                  "value type " + std::to_string(type) + " is not a GGUF type");
    }
    return true;
  }

  bool key_value() {
    KeyValue kv;
    kv.offset = pos_;
    std::uint32_t type = 0;
    if (!string(kv.key, "a metadata key") || !value_type(type)) return false;
    kv.type = static_cast<ValueType>(type);
    kv.value_offset = pos_;
    if (!value(kv, type, 0)) return false;
    if (out_.kv.size() >= limits_.max_kv) {
      return fail(Problem::too_many, kv.offset,
                  "more than " + std::to_string(limits_.max_kv) + " metadata pairs");
    }
    out_.kv.push_back(kv);
    return true;
  }

  bool value(KeyValue& kv, std::uint32_t type, std::uint32_t depth) {
    switch (static_cast<ValueType>(type)) {
      case ValueType::string:
        return string(kv.str, "a string value");
      case ValueType::array:
        return array(kv, depth + 1);
      default:
        return scalar(kv, static_cast<ValueType>(type), depth == 0);
    }
  }

  bool scalar(KeyValue& kv, ValueType type, bool keep) {
    const auto size = min_size(static_cast<std::uint32_t>(type), v1_);
    const auto at = pos_;
    if (size > remaining())
      return fail(Problem::truncated, at, "file ends inside a metadata value");
    pos_ += size;
    if (!keep) return true;
    std::uint64_t raw = 0;
    for (std::uint64_t i = 0; i < size; ++i)
      raw |= static_cast<std::uint64_t>(d_[at + i]) << (8 * i);
    switch (type) {
      case ValueType::u8:
      case ValueType::u16:
      case ValueType::u32:
      case ValueType::u64:
      case ValueType::boolean:
        kv.uint = raw;
        break;
      case ValueType::i8:
        kv.sint = static_cast<std::int8_t>(raw);
        break;
      case ValueType::i16:
        kv.sint = static_cast<std::int16_t>(raw);
        break;
      case ValueType::i32:
        kv.sint = static_cast<std::int32_t>(raw);
        break;
      case ValueType::i64:
        kv.sint = static_cast<std::int64_t>(raw);
        break;
      default:
        break;
    }
    return true;
  }

  bool array(KeyValue& kv, std::uint32_t depth) {
    const auto at = pos_;
    if (depth > limits_.max_array_depth) {
      return fail(Problem::nesting, at,
                  "arrays nested more than " + std::to_string(limits_.max_array_depth) + " deep");
    }
    std::uint32_t elem = 0;
    if (!value_type(elem)) return false;
    std::uint64_t n = 0;
    if (!count(n, min_size(elem, v1_), "array length")) return false;
    if (depth == 1) {
      kv.array_type = static_cast<ValueType>(elem);
      kv.array_count = n;
    }
    kv.array_depth = std::max(kv.array_depth, depth);
    if (elem != static_cast<std::uint32_t>(ValueType::string) &&
        elem != static_cast<std::uint32_t>(ValueType::array)) {
      pos_ += n * min_size(elem, v1_);  // checked by count()
      return true;
    }
    KeyValue scratch;  // elements are walked for their lengths, not kept
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!value(elem == static_cast<std::uint32_t>(ValueType::array) ? kv : scratch, elem,
                 depth)) {
        return false;
      }
    }
    return true;
  }

  bool tensor_info() {
    TensorInfo t;
    t.offset_in_file = pos_;
    if (!string(t.name, "a tensor name") || !fixed(t.n_dims, "a tensor's n_dims")) return false;
    if (t.n_dims > kMaxDims) {
      return fail(Problem::too_many_dims, t.offset_in_file,
                  "tensor '" + std::string(t.name) + "' has " + std::to_string(t.n_dims) +
                      " dimensions; GGML allows at most 4");
    }
    for (std::uint32_t i = 0; i < t.n_dims; ++i) {
      if (!width(t.dims[i], "a tensor dimension")) return false;
    }
    if (!element_count(t)) {
      return fail(Problem::element_overflow, t.offset_in_file,
                  "tensor '" + std::string(t.name) + "' dimensions multiply past 2^63");
    }
    if (!fixed(t.type, "a tensor type") || !fixed(t.offset, "a tensor offset")) return false;
    if (out_.tensors.size() >= limits_.max_tensors) {
      return fail(Problem::too_many, t.offset_in_file,
                  "more than " + std::to_string(limits_.max_tensors) + " tensors");
    }
    out_.tensors.push_back(t);
    return true;
  }

  ByteView d_;
  const ReadLimits& limits_;
  File& out_;
  std::uint64_t pos_ = 0;
  bool v1_ = false;
};

}  // namespace

std::string_view value_type_name(std::uint32_t type) {
  constexpr std::string_view kNames[kValueTypeCount] = {"u8",  "i8",  "u16",  "i16",    "u32",
                                                        "i32", "f32", "bool", "string", "array",
                                                        "u64", "i64", "f64"};
  return type < kValueTypeCount ? kNames[type] : "invalid";
}

File read(ByteView data, const ReadLimits& limits) {
  File f;
  const auto version = load_le<std::uint32_t>(data, 4);
  const auto need = version && *version == 1 ? kHeaderBytesV1 : kHeaderBytes;
  if (!version || data.size() < need) {
    f.problem = Problem::truncated;
    f.error = Error::at(0, "file ends inside the GGUF header");
    return f;
  }
  Reader reader(data, limits, f);
  reader.run();
  return f;
}

const KeyValue* find(const File& f, std::string_view key) {
  for (const auto& kv : f.kv) {
    if (kv.key == key) return &kv;
  }
  return nullptr;
}

std::optional<TypeTraits> type_traits(std::uint32_t type) {
  // ggml_type ids (ggml.h); 4, 5 (Q4_2, Q4_3) and 31-33, 36-38 (repacked layouts) were removed.
  static constexpr std::array<TypeTraits, 40> kTypes = {{
      {"F32", 1, 4},        {"F16", 1, 2},       {"Q4_0", 32, 18},     {"Q4_1", 32, 20},
      {"", 0, 0},           {"", 0, 0},          {"Q5_0", 32, 22},     {"Q5_1", 32, 24},
      {"Q8_0", 32, 34},     {"Q8_1", 32, 36},    {"Q2_K", 256, 84},    {"Q3_K", 256, 110},
      {"Q4_K", 256, 144},   {"Q5_K", 256, 176},  {"Q6_K", 256, 210},   {"Q8_K", 256, 292},
      {"IQ2_XXS", 256, 66}, {"IQ2_XS", 256, 74}, {"IQ3_XXS", 256, 98}, {"IQ1_S", 256, 50},
      {"IQ4_NL", 32, 18},   {"IQ3_S", 256, 110}, {"IQ2_S", 256, 82},   {"IQ4_XS", 256, 136},
      {"I8", 1, 1},         {"I16", 1, 2},       {"I32", 1, 4},        {"I64", 1, 8},
      {"F64", 1, 8},        {"IQ1_M", 256, 56},  {"BF16", 1, 2},       {"", 0, 0},
      {"", 0, 0},           {"", 0, 0},          {"TQ1_0", 256, 54},   {"TQ2_0", 256, 66},
      {"", 0, 0},           {"", 0, 0},          {"", 0, 0},           {"MXFP4", 32, 17},
  }};
  if (type >= kTypes.size() || kTypes[type].block == 0) return std::nullopt;
  return kTypes[type];
}

std::optional<std::uint64_t> element_count(const TensorInfo& t) {
  constexpr std::uint64_t kMax = static_cast<std::uint64_t>(INT64_MAX);
  std::uint64_t n = 1;
  for (std::uint32_t i = 0; i < t.n_dims && i < kMaxDims; ++i) {
    if (t.dims[i] > kMax || (t.dims[i] != 0 && n > kMax / t.dims[i])) return std::nullopt;
    n *= t.dims[i];
  }
  return n;
}

std::optional<std::uint64_t> data_size(const TensorInfo& t) {
  const auto traits = type_traits(t.type);
  const auto n = element_count(t);
  if (!traits || !n || t.dims[0] % traits->block != 0) return std::nullopt;
  const auto blocks = *n / traits->block;
  if (blocks > UINT64_MAX / traits->bytes) return std::nullopt;
  return blocks * traits->bytes;
}

}  // namespace mlsc::scan::gguf
