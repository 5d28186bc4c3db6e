// safetensors: an 8-byte little-endian header length, a JSON header naming each tensor's dtype,
// shape and byte range in the data buffer that follows, and optional string metadata. Loading
// never runs code, but a header that loaders read differently (repeated keys), ranges that
// overlap or leave holes (hidden bytes, aliasing), and sizes that do not match their shapes have
// crashed or fooled loaders. Only the header is read; tensor bytes are never touched.
#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "json_strict.hpp"
#include "mlsc/scan/scanners.hpp"
#include "number_text.hpp"
#include "python_source.hpp"

namespace mlsc::scan {

namespace {

using nlohmann::json;

// The reference loader refuses larger headers (safetensors' MAX_HEADER_SIZE).
constexpr std::uint64_t kMaxHeader = 100'000'000;
constexpr std::size_t kMaxReportsPerRule = 16;

struct DtypeBits {
  std::string_view name;
  std::uint64_t bits;
};

// The dtypes of the safetensors format (Dtype in safetensors/src/tensor.rs), with their widths.
constexpr std::array<DtypeBits, 20> kDtypes = {{
    {"BOOL", 8}, {"F4", 4},      {"F6_E2M3", 6}, {"F6_E3M2", 6}, {"U8", 8},
    {"I8", 8},   {"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"I16", 16},
    {"U16", 16}, {"F16", 16},    {"BF16", 16},   {"I32", 32},    {"U32", 32},
    {"F32", 32}, {"C64", 64},    {"F64", 64},    {"I64", 64},    {"U64", 64},
}};

std::optional<std::uint64_t> dtype_bits(std::string_view name) {
  for (const auto& d : kDtypes) {
    if (d.name == name) return d.bits;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b) {
  if (b != 0 && a > UINT64_MAX / b) return std::nullopt;
  return a * b;
}

std::optional<std::uint64_t> as_u64(const json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(v.get<std::int64_t>());
  }
  return std::nullopt;
}

struct Tensor {
  std::string name;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

class HeaderCheck {
 public:
  HeaderCheck(ScanContext& ctx, std::string_view header, std::uint64_t data_start,
              std::uint64_t data_len)
      : ctx_(ctx), header_(header), data_start_(data_start), data_len_(data_len) {}

  void run(const json::object_t& members) {
    for (const auto& [name, entry] : members) {
      if (name == "__metadata__") {
        check_metadata(entry);
      } else {
        check_entry(name, entry);
      }
    }
    check_layout();
    summarise();
  }

 private:
  // Where a member's entry starts in the file: its key as a JSON writer spells it.
  std::uint64_t entry_offset(const std::string& name) const {
    const std::string quoted = json(name).dump();
    const auto pos = header_.find(quoted);
    return kHeaderStart + (pos == std::string_view::npos ? 0 : pos);
  }

  void report(Severity sev, const std::string& rule, std::string message, std::uint64_t offset) {
    auto& n = counts_[rule];
    if (++n <= kMaxReportsPerRule) {
      ctx_.add(sev, rule, std::move(message), offset);
    } else if (n == kMaxReportsPerRule + 1) {
      ctx_.add(sev, rule, "more findings of this kind not listed", offset);
    }
  }

  void check_metadata(const json& meta) {
    const auto off = entry_offset("__metadata__");
    if (!meta.is_object()) {
      report(Severity::medium, "safetensors.metadata-not-string",
             "__metadata__ is a JSON " + std::string(meta.type_name()) +
                 ", not an object of strings; the reference loader rejects the file",
             off);
      return;
    }
    for (const auto& [key, value] : meta.items()) {
      if (!value.is_string()) {
        report(Severity::medium, "safetensors.metadata-not-string",
               "__metadata__ value '" + key + "' is a JSON " + std::string(value.type_name()) +
                   "; metadata values must be strings",
               off);
        continue;
      }
      check_metadata_text(key, value.get_ref<const std::string&>(), off);
    }
  }

  // Metadata is never executed by safetensors, but tools that eval it would run what it holds.
  void check_metadata_text(const std::string& key, const std::string& text, std::uint64_t off) {
    const auto uses = python::analyse_snippet(text);
    if (uses.empty()) return;
    report(Severity::low, "safetensors.metadata-code",
           "__metadata__ value '" + key + "' is Python code using " + python::describe(uses) +
               " (inert: safetensors never executes metadata)",
           off);
  }

  void check_entry(const std::string& name, const json& entry) {
    const auto off = entry_offset(name);
    const json* dtype = entry.is_object() && entry.contains("dtype") ? &entry["dtype"] : nullptr;
    const json* shape = entry.is_object() && entry.contains("shape") ? &entry["shape"] : nullptr;
    const json* offs =
        entry.is_object() && entry.contains("data_offsets") ? &entry["data_offsets"] : nullptr;
    if (!dtype || !dtype->is_string() || !shape || !shape->is_array() || !offs ||
        !offs->is_array() || offs->size() != 2) {
      report(
          Severity::medium, "safetensors.malformed-entry",
          "tensor '" + name + "' is not {dtype: string, shape: [..], data_offsets: [begin, end]}",
          off);
      return;
    }
    const auto begin = as_u64((*offs)[0]);
    const auto end = as_u64((*offs)[1]);
    if (!begin || !end || *begin > *end) {
      report(Severity::medium, "safetensors.invalid-offsets",
             "tensor '" + name + "' has data_offsets " + offs->dump() +
                 "; they must be integers with begin <= end",
             off);
      return;
    }
    std::optional<std::uint64_t> count = 1;
    for (const auto& d : *shape) {
      const auto dim = as_u64(d);
      count = dim && count ? checked_mul(*count, *dim) : std::nullopt;
      if (!dim) break;
    }
    if (!count) {
      report(Severity::medium, "safetensors.malformed-entry",
             "tensor '" + name + "' has shape " + shape->dump() +
                 " (not non-negative integers, or its element count overflows 64 bits)",
             off);
      return;
    }
    const auto& dtype_name = dtype->get_ref<const std::string&>();
    check_size(name, dtype_name, *count, *begin, *end, off);
    if (*end > data_len_) {
      report(Severity::medium, "safetensors.offset-out-of-bounds",
             "tensor '" + name + "' ends at data offset " + std::to_string(*end) + ", past the " +
                 std::to_string(data_len_) + "-byte data buffer",
             off);
    }
    tensors_.push_back({name, *begin, *end});
    params_ += *count;
    auto& mix = dtype_mix_[dtype_name];
    ++mix.first;
    mix.second += *count;
  }

  void check_size(const std::string& name, const std::string& dtype, std::uint64_t count,
                  std::uint64_t begin, std::uint64_t end, std::uint64_t off) {
    const auto bits = dtype_bits(dtype);
    if (!bits) {
      report(Severity::medium, "safetensors.unknown-dtype",
             "tensor '" + name + "' has dtype '" + dtype + "', which safetensors does not define",
             off);
      return;
    }
    const auto total_bits = checked_mul(count, *bits);
    if (!total_bits || *total_bits % 8 != 0 || *total_bits / 8 != end - begin) {
      report(
          Severity::medium, "safetensors.size-mismatch",
          "tensor '" + name + "': " + std::to_string(count) + " " + dtype + " elements need " +
              (total_bits ? std::to_string(*total_bits) + " bits" : std::string("over 2^64 bits")) +
              ", but data_offsets give " + std::to_string(end - begin) + " bytes",
          off);
    }
  }

  void check_layout() {
    std::sort(tensors_.begin(), tensors_.end(), [](const Tensor& a, const Tensor& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::uint64_t cursor = 0;
    const Tensor* last = nullptr;
    for (const auto& t : tensors_) {
      if (t.begin > cursor) {
        report(Severity::medium, "safetensors.gap",
               std::to_string(t.begin - cursor) + " bytes before tensor '" + t.name +
                   "' belong to no tensor (hidden data; the reference loader rejects holes)",
               data_start_ + cursor);
      } else if (t.begin < cursor && last != nullptr) {
        report(Severity::medium, "safetensors.overlap",
               "tensor '" + t.name + "' overlaps tensor '" + last->name + "' (bytes " +
                   std::to_string(t.begin) + ".." + std::to_string(std::min(cursor, t.end)) + ")",
               data_start_ + t.begin);
      }
      if (t.end >= cursor) {
        cursor = t.end;
        last = &t;
      }
    }
    if (cursor < data_len_) {
      report(Severity::medium, "safetensors.trailing-data",
             std::to_string(data_len_ - cursor) +
                 " bytes after the last tensor belong to no tensor (hidden data)",
             data_start_ + cursor);
    }
  }

  void summarise() {
    std::string mix;
    for (const auto& [dtype, n] : dtype_mix_) {
      if (!mix.empty()) mix += ", ";
      mix += dtype + " " + std::to_string(n.first) + (n.first == 1 ? " tensor" : " tensors") +
             " (" + with_commas(n.second) + ")";
    }
    ctx_.add(Severity::info, "safetensors.summary",
             std::to_string(tensors_.size()) + " tensors, " + with_commas(params_) + " parameters" +
                 (mix.empty() ? std::string() : "; dtypes: " + mix),
             kHeaderStart);
  }

  static constexpr std::uint64_t kHeaderStart = 8;
  ScanContext& ctx_;
  std::string_view header_;
  std::uint64_t data_start_;
  std::uint64_t data_len_;
  std::vector<Tensor> tensors_;
  std::uint64_t params_ = 0;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> dtype_mix_;  // tensors, params
  std::map<std::string, std::size_t> counts_;
};

// Where a repeated key is repeated (its second spelling), or the header start.
std::uint64_t second_occurrence(std::string_view header, const std::string& quoted) {
  const auto first = header.find(quoted);
  if (first == std::string_view::npos) return 0;
  const auto second = header.find(quoted, first + 1);
  return second == std::string_view::npos ? first : second;
}

class SafetensorsScanner final : public Scanner {
 public:
  std::string_view format() const override { return "safetensors"; }

  bool matches(ByteView data) const override {
    const auto n = load_le<std::uint64_t>(data, 0);
    if (!n || data.size() < 9 || data[8] != '{' || *n < 2) return false;
    // A real header length has zero high bytes; eight printable bytes before '{' are text.
    return data[7] == 0 || *n <= data.size() - 8;
  }

  void scan(ByteView data, ScanContext& ctx) const override {
    const std::uint64_t n = *load_le<std::uint64_t>(data, 0);
    if (n > kMaxHeader) {
      ctx.add(Severity::medium, "safetensors.header-too-large",
              "header length " + std::to_string(n) +
                  " exceeds the 100,000,000-byte limit of the "
                  "reference loader",
              0);
      if (n > data.size() - 8) return;
    }
    if (n > data.size() - 8) {
      ctx.add(Severity::medium, "safetensors.header-out-of-bounds",
              "header length " + std::to_string(n) + " runs past the end of the " +
                  std::to_string(data.size()) + "-byte file",
              0);
      return;
    }
    const std::string_view header = as_chars(data.subspan(8, static_cast<std::size_t>(n)));
    strict_json::JsonOptions options;
    options.max_depth = 64;
    const auto doc = strict_json::read(header, options);
    if (doc.error) {
      ctx.add(Severity::medium, "safetensors.invalid-json",
              "header is not valid JSON: " + doc.error->message, 8 + doc.error->offset.value_or(0));
      return;
    }
    if (!doc.top_is_object) {
      ctx.add(Severity::medium, "safetensors.invalid-json", "header is not a JSON object", 8);
      return;
    }
    for (const auto& d : doc.duplicates) {
      ctx.add(Severity::high, "safetensors.duplicate-key",
              "key '" + d.key + "' appears more than once in " +
                  (d.path.empty() ? std::string("the header") : "'" + d.path + "'") +
                  "; loaders disagree on which one counts",
              8 + second_occurrence(header, json(d.key).dump()));
    }
    if (doc.duplicate_count > doc.duplicates.size()) {
      ctx.add(Severity::high, "safetensors.duplicate-key",
              std::to_string(doc.duplicate_count - doc.duplicates.size()) +
                  " more repeated keys not listed",
              8);
    }
    HeaderCheck check(ctx, header, 8 + n, data.size() - 8 - n);
    check.run(doc.members.get_ref<const json::object_t&>());
  }
};

}  // namespace

std::unique_ptr<Scanner> make_safetensors_scanner() {
  return std::make_unique<SafetensorsScanner>();
}

}  // namespace mlsc::scan
