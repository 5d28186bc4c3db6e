// GGUF files: the structure checks of gguf_reader, the data layout (alignment, bounds, overlaps,
// holes) computed from the tensor infos alone, and the chat templates in the metadata, which
// llama.cpp bindings render with Jinja (CVE-2024-34359 in llama-cpp-python).
#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>

#include "gguf_reader.hpp"
#include "mlsc/scan/scanners.hpp"
#include "number_text.hpp"
#include "template_check.hpp"

namespace mlsc::scan {

namespace {

using gguf::Problem;

struct ProblemRule {
  Severity severity;
  const char* rule;
  const char* why;
};

ProblemRule problem_rule(Problem p) {
  switch (p) {
    case Problem::truncated:
      return {Severity::medium, "gguf.truncated", "the file ends inside its header"};
    case Problem::count_overflow:
      return {Severity::high, "gguf.count-overflow",
              "a count larger than the file can hold: the shape of the GGUF allocation overflows "
              "(CVE-2024-25664 and following)"};
    case Problem::length_overflow:
      return {Severity::high, "gguf.length-overflow",
              "a string length larger than the file: the shape of the GGUF string-read overflows"};
    case Problem::too_many_dims:
      return {Severity::high, "gguf.too-many-dims",
              "more than GGML_MAX_DIMS dimensions overflow the tensor-info array of older parsers"};
    case Problem::element_overflow:
      return {Severity::high, "gguf.element-overflow",
              "tensor dimensions whose product overflows: size computations wrap"};
    case Problem::bad_value_type:
      return {Severity::medium, "gguf.bad-value-type",
              "a metadata value type GGUF does not define"};
    case Problem::nesting:
      return {Severity::medium, "gguf.nested-array",
              "arrays nested deeper than any reader supports"};
    case Problem::too_many:
      return {Severity::high, "unscannable",
              "more entries than mlsc keeps; the rest is not analysed"};
    case Problem::none:
      break;
  }
  return {Severity::medium, "gguf.truncated", ""};
}

bool power_of_two(std::uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

class Layout {
 public:
  Layout(const gguf::File& f, ByteView data, ScanContext& ctx) : f_(f), data_(data), ctx_(ctx) {}

  void run() {
    const std::uint64_t align = alignment();
    // The data section starts at the first aligned offset after the tensor infos.
    const auto pad = (align - f_.infos_end % align) % align;
    data_start_ = f_.infos_end + pad;
    data_len_ = data_start_ <= data_.size() ? data_.size() - data_start_ : 0;
    std::unordered_map<std::string_view, int> names;
    for (const auto& t : f_.tensors) {
      if (++names[t.name] == 2) {
        ctx_.add(Severity::medium, "gguf.duplicate-tensor",
                 "tensor '" + std::string(t.name) +
                     "' is defined more than once; llama.cpp rejects the file",
                 t.offset_in_file);
      }
      tensor(t, align);
    }
    layout(align);
    summary();
  }

 private:
  std::uint64_t alignment() {
    const auto* kv = gguf::find(f_, "general.alignment");
    if (kv == nullptr) return gguf::kDefaultAlignment;
    if (kv->type != gguf::ValueType::u32 || !kv->uint || !power_of_two(*kv->uint)) {
      ctx_.add(Severity::medium, "gguf.bad-alignment",
               "general.alignment must be a u32 power of two; llama.cpp rejects this file",
               kv->offset);
      return gguf::kDefaultAlignment;
    }
    return *kv->uint;
  }

  void tensor(const gguf::TensorInfo& t, std::uint64_t align) {
    const std::string name(t.name);
    const auto traits = gguf::type_traits(t.type);
    if (!traits) {
      ctx_.add(Severity::medium, "gguf.unknown-tensor-type",
               "tensor '" + name + "' has ggml type " + std::to_string(t.type) +
                   ", which no current llama.cpp accepts (an out-of-range type indexes past the "
                   "type table)",
               t.offset_in_file);
      return;
    }
    ++type_mix_[std::string(traits->name)];
    params_ += *gguf::element_count(t);
    const auto size = gguf::data_size(t);
    if (!size) {
      ctx_.add(Severity::medium, "gguf.bad-shape",
               "tensor '" + name + "': first dimension " + std::to_string(t.dims[0]) +
                   " is not a multiple of the " + std::string(traits->name) + " block size " +
                   std::to_string(traits->block),
               t.offset_in_file);
      return;
    }
    if (t.offset % align != 0) {
      ctx_.add(Severity::medium, "gguf.misaligned-tensor",
               "tensor '" + name + "' data offset " + std::to_string(t.offset) +
                   " is not a multiple of the alignment " + std::to_string(align),
               t.offset_in_file);
    }
    if (t.offset > UINT64_MAX - *size) {
      ctx_.add(Severity::high, "gguf.offset-overflow",
               "tensor '" + name + "': offset + size wraps past 2^64", t.offset_in_file);
      return;
    }
    if (t.offset + *size > data_len_) {
      ctx_.add(Severity::medium, "gguf.tensor-out-of-bounds",
               "tensor '" + name + "' data [" + std::to_string(t.offset) + ", " +
                   std::to_string(t.offset + *size) + ") runs past the " +
                   std::to_string(data_len_) + "-byte data section",
               t.offset_in_file);
    }
    ranges_.push_back({t.offset, t.offset + *size, name});
  }

  void layout(std::uint64_t align) {
    std::sort(ranges_.begin(), ranges_.end());
    std::uint64_t cursor = 0;
    std::string last;
    for (const auto& [begin, end, name] : ranges_) {
      if (begin < cursor) {
        ctx_.add(Severity::medium, "gguf.tensor-overlap",
                 "tensor '" + name + "' overlaps tensor '" + last + "'", data_start_ + begin);
      } else if (begin > cursor) {
        ctx_.add(Severity::medium, "gguf.gap",
                 std::to_string(begin - cursor) + " bytes before tensor '" + name +
                     "' belong to no tensor (hidden data; llama.cpp expects tensors back to back)",
                 data_start_ + cursor);
      }
      if (end > cursor) {
        // Each tensor's data is padded to the alignment.
        cursor = end + (align - end % align) % align;
        last = name;
      }
    }
    if (!ranges_.empty() && cursor < data_len_) {
      ctx_.add(
          Severity::low, "gguf.trailing-data",
          std::to_string(data_len_ - cursor) + " bytes after the last tensor belong to no tensor",
          data_start_ + cursor);
    }
  }

  void summary() {
    std::string mix;
    for (const auto& [type, n] : type_mix_) {
      mix += (mix.empty() ? "" : ", ") + type + " " + std::to_string(n);
    }
    const auto* arch = gguf::find(f_, "general.architecture");
    ctx_.add(Severity::info, "gguf.summary",
             "GGUF v" + std::to_string(f_.version) +
                 (arch && arch->type == gguf::ValueType::string
                      ? ", architecture " + std::string(arch->str)
                      : "") +
                 ", " + std::to_string(f_.tensors.size()) + " tensors, " + with_commas(params_) +
                 " parameters, " + std::to_string(f_.kv.size()) + " metadata keys" +
                 (mix.empty() ? std::string() : "; tensor types: " + mix),
             0);
  }

  const gguf::File& f_;
  ByteView data_;
  ScanContext& ctx_;
  std::uint64_t data_start_ = 0;
  std::uint64_t data_len_ = 0;
  std::uint64_t params_ = 0;
  std::map<std::string, std::uint64_t> type_mix_;
  std::vector<std::tuple<std::uint64_t, std::uint64_t, std::string>> ranges_;
};

bool is_chat_template_key(std::string_view key) {
  constexpr std::string_view kKey = "tokenizer.chat_template";
  return key == kKey ||
         (key.size() > kKey.size() && key.substr(0, kKey.size() + 1) == "tokenizer.chat_template.");
}

void check_metadata(const gguf::File& f, ScanContext& ctx) {
  std::unordered_map<std::string_view, int> keys;
  for (const auto& kv : f.kv) {
    if (++keys[kv.key] == 2) {
      ctx.add(Severity::high, "gguf.duplicate-key",
              "metadata key '" + std::string(kv.key) +
                  "' appears more than once; readers disagree on which value counts",
              kv.offset);
    }
    if (kv.type == gguf::ValueType::array && kv.array_depth >= 2) {
      ctx.add(Severity::medium, "gguf.nested-array",
              "metadata '" + std::string(kv.key) +
                  "' is an array of arrays; llama.cpp rejects nested arrays",
              kv.value_offset);
    }
    if (is_chat_template_key(kv.key) && kv.type == gguf::ValueType::string) {
      const std::uint64_t len_width = f.version == 1 ? 4 : 8;
      check_template(ctx, kv.str, std::string(kv.key), kv.value_offset + len_width);
    }
  }
}

std::uint32_t byteswap32(std::uint32_t v) {
  return (v >> 24) | ((v >> 8) & 0xFF00) | ((v << 8) & 0xFF0000) | (v << 24);
}

class GgufScanner final : public Scanner {
 public:
  std::string_view format() const override { return "gguf"; }
  bool matches(ByteView data) const override { return starts_with(data, "GGUF"); }

  void scan(ByteView data, ScanContext& ctx) const override {
    const auto version = load_le<std::uint32_t>(data, 4);
    if (!version) {
      ctx.add(Severity::medium, "gguf.truncated", "the file ends inside the GGUF header", 0);
      return;
    }
    if (*version < 1 || *version > 3) {
      const auto swapped = byteswap32(*version);
      if (swapped >= 1 && swapped <= 3) {
        ctx.add(
            Severity::high, "unscannable",
            "big-endian GGUF v" + std::to_string(swapped) + "; mlsc reads little-endian GGUF only",
            4);
      } else {
        ctx.add(Severity::medium, "gguf.unsupported-version",
                "GGUF version " + std::to_string(*version) + " is not 1, 2 or 3; not analysed", 4);
      }
      return;
    }
    const auto f = gguf::read(data);
    check_metadata(f, ctx);
    if (f.problem != Problem::none) {
      const auto rule = problem_rule(f.problem);
      ctx.add(rule.severity, rule.rule, f.error->message + " (" + rule.why + ")", f.error->offset);
      return;
    }
    Layout(f, data, ctx).run();
  }
};

}  // namespace

std::unique_ptr<Scanner> make_gguf_scanner() {
  return std::make_unique<GgufScanner>();
}

}  // namespace mlsc::scan
