// Strict JSON reading for formats whose headers are JSON (safetensors, Hugging Face configs).
//
// nlohmann::json::parse silently keeps one of two equal keys in an object; two loaders that
// pick differently see different models, so repeated keys are findings. The document is read
// with nlohmann's SAX interface: repeated keys are recorded, nesting is bounded, and only the
// top-level members a caller asks for are built into values, so a 50 MB tokenizer.json costs a
// pass over its bytes and not a DOM.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/expected.hpp"

namespace mlsc::scan::strict_json {

struct DuplicateKey {
  std::string path;  // JSON pointer of the object holding the key, e.g. "/__metadata__"
  std::string key;
};

// A string value found anywhere whose own key names a template (see JsonOptions).
struct TemplateString {
  std::string path;  // JSON pointer of the value, e.g. "/chat_template/0/template"
  std::string value;
};

struct JsonOptions {
  std::size_t max_depth = 128;
  std::size_t max_duplicates = 32;  // reported; more are counted
  // Top-level members to build as values (all of them when unset).
  std::function<bool(std::string_view key)> capture;
  // Collect every string whose key contains "template" (case-insensitive), at any depth.
  bool collect_templates = false;
};

struct JsonDoc {
  std::optional<Error> error;  // syntax error (offset into the text) or nesting too deep
  bool top_is_object = false;
  // The error is content after one complete value (JSON Lines, or appended data).
  bool trailing_content = false;
  nlohmann::json members = nlohmann::json::object();  // captured top-level members
  std::vector<DuplicateKey> duplicates;
  std::size_t duplicate_count = 0;
  std::vector<TemplateString> templates;
};

JsonDoc read(std::string_view text, const JsonOptions& options);

// Escapes a key for use in a JSON pointer ("~" -> "~0", "/" -> "~1").
std::string pointer_token(std::string_view key);

}  // namespace mlsc::scan::strict_json
