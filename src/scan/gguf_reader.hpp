// GGUF (llama.cpp's model format, versions 1-3): a bounds-checked reader for the header, the
// metadata key/value pairs and the tensor infos. Every count, length, nesting level and offset
// is checked against the bytes that are actually there before anything is allocated or read, so
// the inputs behind the published GGUF parser overflows (huge n_kv or n_tensors, huge string
// and array lengths, arrays of arrays, n_dims > 4, offsets that wrap) become errors with an
// offset. Strings are views into the mapped file; tensor data is never read.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"

namespace mlsc::scan::gguf {

enum class ValueType : std::uint32_t {
  u8 = 0,
  i8 = 1,
  u16 = 2,
  i16 = 3,
  u32 = 4,
  i32 = 5,
  f32 = 6,
  boolean = 7,
  string = 8,
  array = 9,
  u64 = 10,
  i64 = 11,
  f64 = 12,
};
constexpr std::uint32_t kValueTypeCount = 13;
std::string_view value_type_name(std::uint32_t type);

constexpr std::uint32_t kMaxDims = 4;  // GGML_MAX_DIMS
constexpr std::uint64_t kDefaultAlignment = 32;

struct KeyValue {
  std::string_view key;
  std::uint64_t offset = 0;        // where the key/value pair starts
  std::uint64_t value_offset = 0;  // where the value starts (after its type)
  ValueType type = ValueType::u8;
  std::optional<std::uint64_t> uint;  // unsigned integers and bools
  std::optional<std::int64_t> sint;   // signed integers
  std::string_view str;               // strings (a view into the file)
  ValueType array_type = ValueType::u8;
  std::uint64_t array_count = 0;
  std::uint32_t array_depth = 0;  // 1 for an array of scalars, 2 for an array of arrays, ...
};

struct TensorInfo {
  std::string_view name;
  std::uint64_t offset_in_file = 0;  // where this tensor info starts
  std::uint32_t n_dims = 0;
  std::array<std::uint64_t, kMaxDims> dims{1, 1, 1, 1};
  std::uint32_t type = 0;    // ggml_type id
  std::uint64_t offset = 0;  // tensor data offset, relative to the data section
};

// What kind of structural error ended the parse.
enum class Problem {
  none,
  truncated,         // the file ends inside the header (a cut-off download looks like this)
  count_overflow,    // a count that the whole file could not hold (n_kv, n_tensors, array length)
  length_overflow,   // a string length larger than the whole file
  too_many_dims,     // n_dims > GGML_MAX_DIMS
  element_overflow,  // dimensions whose product overflows int64
  bad_value_type,    // a metadata type id that GGUF does not define
  nesting,           // arrays nested deeper than we follow
  too_many,          // more entries than we keep (resource bound)
};

struct File {
  std::uint32_t version = 0;
  std::uint64_t n_tensors = 0;
  std::uint64_t n_kv = 0;
  std::vector<KeyValue> kv;
  std::vector<TensorInfo> tensors;
  std::uint64_t infos_end = 0;  // end of the tensor infos: the data section follows, aligned
  Problem problem = Problem::none;
  std::optional<Error> error;  // set with `problem`; what was parsed before it is kept
};

struct ReadLimits {
  std::uint64_t max_kv = 1U << 16;       // metadata pairs kept (real files have < 100)
  std::uint64_t max_tensors = 1U << 20;  // tensor infos kept
  std::uint32_t max_array_depth = 3;
};

// Needs the "GGUF" magic and a version of 1, 2 or 3 (the caller checks both first).
File read(ByteView data, const ReadLimits& limits = {});

const KeyValue* find(const File& f, std::string_view key);

// ggml tensor types: name, elements per block, bytes per block; nullopt for ids no current
// llama.cpp accepts (unknown, or removed like Q4_2 and the Q4_0_4_4 repacks).
struct TypeTraits {
  std::string_view name;
  std::uint64_t block;
  std::uint64_t bytes;
};
std::optional<TypeTraits> type_traits(std::uint32_t type);

// Elements of a tensor, or nullopt when the product overflows int64 (checked by read()).
std::optional<std::uint64_t> element_count(const TensorInfo& t);
// Bytes of a tensor's data, or nullopt (unknown type, not a whole number of blocks, overflow).
std::optional<std::uint64_t> data_size(const TensorInfo& t);

}  // namespace mlsc::scan::gguf
