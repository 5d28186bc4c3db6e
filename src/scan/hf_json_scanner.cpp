// JSON configuration files, recognised by content: Hugging Face config.json and
// tokenizer_config.json (auto_map -> trust_remote_code; chat_template -> Jinja injection), and
// any other JSON object whose keys name templates. The document is read once with the strict
// SAX reader: repeated keys are reported, only the members we need are built.
#include <string>

#include "hf_repo.hpp"
#include "json_strict.hpp"
#include "mlsc/scan/scanners.hpp"
#include "template_check.hpp"

namespace mlsc::scan {

namespace {

constexpr std::size_t kMaxLeadingSpace = 4096;

bool space(std::uint8_t c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Offset of the first byte after an optional UTF-8 BOM and whitespace.
std::size_t skip_lead(ByteView d) {
  std::size_t i = starts_with(d, "\xEF\xBB\xBF") ? 3 : 0;
  while (i < d.size() && i < kMaxLeadingSpace && space(d[i])) ++i;
  return i;
}

bool captured(std::string_view key) {
  return key == "auto_map" || key == "custom_pipelines" || key == "model_type" ||
         key == "architectures" || key == "tokenizer_class";
}

class HfJsonScanner final : public Scanner {
 public:
  std::string_view format() const override { return "json"; }

  // A JSON object: '{' then '"' or '}' (a Jinja template also starts with '{', then '%' or '{').
  bool matches(ByteView data) const override {
    std::size_t i = skip_lead(data);
    if (i >= data.size() || data[i] != '{') return false;
    ++i;
    while (i < data.size() && i < kMaxLeadingSpace && space(data[i])) ++i;
    return i < data.size() && (data[i] == '"' || data[i] == '}');
  }

  void scan(ByteView data, ScanContext& ctx) const override {
    const std::size_t lead = starts_with(data, "\xEF\xBB\xBF") ? 3 : 0;
    strict_json::JsonOptions options;
    options.max_depth = 512;
    options.capture = captured;
    options.collect_templates = true;
    const auto doc = strict_json::read(as_chars(data.subspan(lead)), options);
    if (doc.error && doc.trailing_content) {
      // JSON Lines (datasets) or data appended after the object: the first value was checked.
      ctx.set_format("jsonl");
    } else if (doc.error) {
      ctx.add(
          Severity::low, "json.invalid",
          "not valid JSON: " + doc.error->message + "; loaders refuse it, so nothing in it runs",
          lead + doc.error->offset.value_or(0));
    }
    name_format(doc, ctx);
    for (const auto& d : doc.duplicates) {
      const bool sensitive = d.key.find("template") != std::string::npos || d.key == "auto_map";
      ctx.add(sensitive ? Severity::high : Severity::medium, "json.duplicate-key",
              "key '" + d.key + "' appears more than once in " +
                  (d.path.empty() ? std::string("the document") : d.path) +
                  "; JSON readers disagree on which value counts");
    }
    for (const auto& t : doc.templates) {
      if (!t.value.empty()) check_template(ctx, t.value, "template " + t.path, std::nullopt);
    }
    if (!doc.error) hf::check_remote_code(ctx, doc.members);
  }

 private:
  static void name_format(const strict_json::JsonDoc& doc, ScanContext& ctx) {
    const auto& m = doc.members;
    if (m.contains("auto_map") || m.contains("model_type") || m.contains("architectures")) {
      ctx.set_format("hf-config");
    } else if (m.contains("tokenizer_class") || !doc.templates.empty()) {
      ctx.set_format("hf-tokenizer-config");
    }
  }
};

}  // namespace

std::unique_ptr<Scanner> make_hf_json_scanner() {
  return std::make_unique<HfJsonScanner>();
}

}  // namespace mlsc::scan
