// The safetensors header, read only as far as the BOM needs it: tensor dtypes and shapes for
// the parameter count, with the format's own consistency checks (sizes, offsets, overflow).
// A full scanner for the format lives with the other scanners; this reader stays small.
#include <algorithm>
#include <array>
#include <set>

#include "mlsc/bom/sources.hpp"
#include "toml_json.hpp"

namespace mlsc::bom {

namespace {

constexpr std::size_t kMaxTensors = 1U << 20;

struct DtypeSize {
  std::string_view name;
  std::uint64_t bytes;
};

constexpr std::array<DtypeSize, 16> kDtypes = {{{"BOOL", 1},
                                                {"U8", 1},
                                                {"I8", 1},
                                                {"F8_E5M2", 1},
                                                {"F8_E4M3", 1},
                                                {"F8_E8M0", 1},
                                                {"I16", 2},
                                                {"U16", 2},
                                                {"F16", 2},
                                                {"BF16", 2},
                                                {"I32", 4},
                                                {"U32", 4},
                                                {"F32", 4},
                                                {"F64", 8},
                                                {"I64", 8},
                                                {"U64", 8}}};

std::optional<std::uint64_t> dtype_bytes(std::string_view name) {
  for (const auto& d : kDtypes)
    if (d.name == name) return d.bytes;
  return std::nullopt;
}

bool mul_overflows(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  return __builtin_mul_overflow(a, b, &out);
}

// Element count of one tensor; checks its byte range against the data section.
Expected<std::uint64_t> tensor_elements(const std::string& name, const nlohmann::json& info,
                                        std::uint64_t data_size, std::set<std::string>& dtypes) {
  const std::string where = "safetensors tensor '" + name.substr(0, 200) + "': ";
  if (!info.is_object()) return Error::at(8, where + "entry is not an object");
  const auto dtype = info.find("dtype");
  const auto shape = info.find("shape");
  const auto offsets = info.find("data_offsets");
  if (dtype == info.end() || !dtype->is_string()) return Error::at(8, where + "no dtype");
  if (shape == info.end() || !shape->is_array()) return Error::at(8, where + "no shape");
  if (offsets == info.end() || !offsets->is_array() || offsets->size() != 2 ||
      !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned())
    return Error::at(8, where + "data_offsets is not [begin, end]");
  std::uint64_t elements = 1;
  for (const auto& dim : *shape) {
    if (!dim.is_number_unsigned())
      return Error::at(8, where + "shape has a negative or non-integer dimension");
    if (mul_overflows(elements, dim.get<std::uint64_t>(), elements))
      return Error::at(8, where + "shape product overflows 64 bits");
  }
  const auto begin = (*offsets)[0].get<std::uint64_t>();
  const auto end = (*offsets)[1].get<std::uint64_t>();
  if (begin > end || end > data_size) return Error::at(8, where + "data_offsets outside the file");
  const auto type = dtype->get<std::string>();
  if (const auto size = dtype_bytes(type)) {
    std::uint64_t bytes = 0;
    if (mul_overflows(elements, *size, bytes) || bytes != end - begin)
      return Error::at(8, where + "byte range does not match dtype and shape");
  }
  dtypes.insert(type.substr(0, 32));
  return elements;
}

}  // namespace

Expected<WeightsSummary> read_safetensors_header(ByteView head, std::uint64_t file_size) {
  const auto header_len = load_le<std::uint64_t>(head, 0);
  if (!header_len) return Error::at(0, "safetensors: shorter than the 8-byte header length");
  if (file_size < 8 || head.size() > file_size)
    return Error::at(0, "safetensors: file size smaller than what was read");
  if (*header_len > kSafetensorsMaxHeader)
    return Error::at(0, "safetensors: header larger than 100 MB");
  if (*header_len > file_size - 8)
    return Error::at(0, "safetensors: header length beyond end of file");
  const auto header = slice(head, 8, *header_len);
  if (!header) return Error::at(8, "safetensors: header not fully read");
  auto doc = detail::parse_json_bounded(as_chars(*header));
  if (!doc)
    return Error::at(8 + doc.error().offset.value_or(0),
                     "safetensors header: " + doc.error().message);
  if (!doc->is_object()) return Error::at(8, "safetensors: header is not a JSON object");
  if (doc->size() > kMaxTensors) return Error::at(8, "safetensors: more than 1M tensors");
  const auto data_size = file_size - 8 - *header_len;
  WeightsSummary out;
  out.format = "safetensors";
  std::set<std::string> dtypes;
  for (const auto& [name, info] : doc->items()) {
    if (name == "__metadata__") continue;
    auto elements = tensor_elements(name, info, data_size, dtypes);
    if (!elements) return elements.error();
    if (__builtin_add_overflow(out.parameters, *elements, &out.parameters))
      return Error::at(8, "safetensors: parameter count overflows 64 bits");
  }
  out.dtypes.assign(dtypes.begin(), dtypes.end());
  return out;
}

}  // namespace mlsc::bom
