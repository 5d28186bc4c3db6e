// The GGUF header (versions 1-3), read only as far as the BOM needs it: metadata keys for
// architecture and name, tensor infos for parameter count and quantisation types. Every
// count and length is checked against the bytes that are there. The full GGUF scanner is
// separate; this reader stays small.
#include <array>
#include <set>

#include "mlsc/bom/sources.hpp"

namespace mlsc::bom {

namespace {

constexpr std::uint64_t kMaxTensors = 1U << 20;
constexpr std::uint64_t kMaxKv = 1U << 20;
constexpr std::uint32_t kMaxDims = 8;
constexpr int kMaxArrayDepth = 4;

enum ValueType : std::uint32_t {
  kU8 = 0,
  kI8,
  kU16,
  kI16,
  kU32,
  kI32,
  kF32,
  kBool,
  kString,
  kArray,
  kU64,
  kI64,
  kF64
};

std::string ggml_type_name(std::uint32_t t) {
  static constexpr std::array<std::string_view, 36> kNames = {
      "F32",      "F16",      "Q4_0",    "Q4_1",  "Q4_2",   "Q4_3",  "Q5_0",  "Q5_1",
      "Q8_0",     "Q8_1",     "Q2_K",    "Q3_K",  "Q4_K",   "Q5_K",  "Q6_K",  "Q8_K",
      "IQ2_XXS",  "IQ2_XS",   "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS",
      "I8",       "I16",      "I32",     "I64",   "F64",    "IQ1_M", "BF16",  "Q4_0_4_4",
      "Q4_0_4_8", "Q4_0_8_8", "TQ1_0",   "TQ2_0"};
  if (t < kNames.size()) return std::string(kNames[t]);
  return "ggml_type_" + std::to_string(t);
}

class Reader {
 public:
  Reader(ByteView b, std::uint64_t file_size, std::uint32_t version)
      : b_(b), file_size_(file_size), version_(version) {}

  std::uint64_t pos() const { return pos_; }

  template <class T>
  Expected<T> num() {
    const auto v = load_le<T>(b_, pos_);
    if (!v) return truncated();
    pos_ += sizeof(T);
    return *v;
  }
  // Counts and string lengths are 32-bit in version 1, 64-bit after.
  Expected<std::uint64_t> length() {
    if (version_ == 1) {
      auto v = num<std::uint32_t>();
      if (!v) return v.error();
      return std::uint64_t{*v};
    }
    return num<std::uint64_t>();
  }
  Expected<std::string_view> string() {
    const auto at = pos_;
    auto len = length();
    if (!len) return len.error();
    const auto bytes = slice(b_, pos_, *len);
    if (!bytes) {
      if (*len > file_size_) return Error::at(at, "gguf: string length beyond end of file");
      return truncated();
    }
    pos_ += *len;
    return as_chars(*bytes);
  }
  Expected<void> skip(std::uint64_t n) {
    if (n > b_.size() - pos_) return truncated();
    pos_ += n;
    return {};
  }
  Error truncated() const {
    if (b_.size() < file_size_)
      return Error::at(pos_, "gguf: header larger than the 64 MB read limit");
    return Error::at(pos_, "gguf: header runs past end of file");
  }

 private:
  ByteView b_;
  std::uint64_t file_size_;
  std::uint32_t version_;
  std::uint64_t pos_ = 8;
};

std::uint64_t scalar_size(std::uint32_t type) {
  switch (type) {
    case kU8:
    case kI8:
    case kBool:
      return 1;
    case kU16:
    case kI16:
      return 2;
    case kU32:
    case kI32:
    case kF32:
      return 4;
    case kU64:
    case kI64:
    case kF64:
      return 8;
    default:
      return 0;
  }
}

Expected<void> skip_value(Reader& r, std::uint32_t type, int depth);

Expected<void> skip_array(Reader& r, int depth) {
  const auto at = r.pos();
  if (depth > kMaxArrayDepth) return Error::at(at, "gguf: arrays nested deeper than 4");
  auto item_type = r.num<std::uint32_t>();
  if (!item_type) return item_type.error();
  auto count = r.length();
  if (!count) return count.error();
  if (const auto size = scalar_size(*item_type); size != 0) {
    std::uint64_t bytes = 0;
    if (__builtin_mul_overflow(*count, size, &bytes))
      return Error::at(at, "gguf: array size overflows");
    return r.skip(bytes);
  }
  if (*item_type != kString && *item_type != kArray)
    return Error::at(at, "gguf: unknown array item type");
  // Each string or array item takes at least 8 bytes; refuse counts the bytes cannot hold.
  if (*count > (1ULL << 40)) return Error::at(at, "gguf: implausible array length");
  for (std::uint64_t i = 0; i < *count; ++i) {
    if (auto v = skip_value(r, *item_type, depth + 1); !v) return v;
  }
  return {};
}

Expected<void> skip_value(Reader& r, std::uint32_t type, int depth) {
  if (const auto size = scalar_size(type); size != 0) return r.skip(size);
  if (type == kString) {
    auto s = r.string();
    if (!s) return s.error();
    return {};
  }
  if (type == kArray) return skip_array(r, depth);
  return Error::at(r.pos(), "gguf: unknown metadata value type " + std::to_string(type));
}

Expected<void> read_kv(Reader& r, WeightsSummary& out) {
  auto key = r.string();
  if (!key) return key.error();
  auto type = r.num<std::uint32_t>();
  if (!type) return type.error();
  if (*type == kString && (*key == "general.architecture" || *key == "general.name")) {
    auto value = r.string();
    if (!value) return value.error();
    auto& field = *key == "general.name" ? out.name : out.architecture;
    field = std::string(value->substr(0, 200));
    return {};
  }
  return skip_value(r, *type, 0);
}

Expected<std::uint64_t> read_tensor_info(Reader& r, std::set<std::string>& dtypes) {
  const auto at = r.pos();
  auto name = r.string();
  if (!name) return name.error();
  auto n_dims = r.num<std::uint32_t>();
  if (!n_dims) return n_dims.error();
  if (*n_dims > kMaxDims) return Error::at(at, "gguf: tensor with more than 8 dimensions");
  std::uint64_t elements = 1;
  for (std::uint32_t d = 0; d < *n_dims; ++d) {
    auto dim = r.length();
    if (!dim) return dim.error();
    if (__builtin_mul_overflow(elements, *dim, &elements))
      return Error::at(at, "gguf: tensor size overflows");
  }
  auto type = r.num<std::uint32_t>();
  if (!type) return type.error();
  auto offset = r.num<std::uint64_t>();
  if (!offset) return offset.error();
  dtypes.insert(ggml_type_name(*type));
  return elements;
}

}  // namespace

Expected<WeightsSummary> read_gguf_header(ByteView head, std::uint64_t file_size) {
  if (!starts_with(head, "GGUF")) return Error::at(0, "gguf: no GGUF magic");
  const auto version = load_le<std::uint32_t>(head, 4);
  if (!version || *version < 1 || *version > 3) return Error::at(4, "gguf: unsupported version");
  Reader r(head, file_size, *version);
  auto tensors = r.length();
  if (!tensors) return tensors.error();
  auto kvs = r.length();
  if (!kvs) return kvs.error();
  if (*tensors > kMaxTensors) return Error::at(8, "gguf: more than 1M tensors");
  if (*kvs > kMaxKv) return Error::at(8, "gguf: more than 1M metadata entries");
  WeightsSummary out;
  out.format = "gguf";
  for (std::uint64_t i = 0; i < *kvs; ++i) {
    if (auto kv = read_kv(r, out); !kv) return kv.error();
  }
  std::set<std::string> dtypes;
  for (std::uint64_t i = 0; i < *tensors; ++i) {
    auto elements = read_tensor_info(r, dtypes);
    if (!elements) return elements.error();
    if (__builtin_add_overflow(out.parameters, *elements, &out.parameters))
      return Error::at(r.pos(), "gguf: parameter count overflows 64 bits");
  }
  out.dtypes.assign(dtypes.begin(), dtypes.end());
  return out;
}

}  // namespace mlsc::bom
