// Standalone template text (.jinja / .j2 / chat_template files, and YAML configs that carry a
// chat_template), recognised by content: text without NUL bytes holding a closed {{ }} or {% %}
// block. A YAML mapping has its template strings checked one by one (the YAML quoting is not
// Jinja); any other text is checked as one template.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>

#include "jinja.hpp"
#include "mlsc/scan/scanners.hpp"
#include "template_check.hpp"

namespace mlsc::scan {

namespace {

constexpr std::size_t kMaxTemplateFile = 4U << 20;  // larger text is not taken for a template
constexpr std::size_t kBinaryProbe = 8192;
constexpr std::size_t kMaxYamlNodes = 100000;  // aliases can make a small document huge

class YamlWalk {
 public:
  explicit YamlWalk(ScanContext& ctx) : ctx_(ctx) {}

  std::size_t templates() const { return templates_; }

  void walk(const YAML::Node& node, const std::string& path, const std::string& key, int depth) {
    if (++nodes_ > kMaxYamlNodes || depth > 64) {
      if (!stopped_)
        ctx_.add(Severity::high, "unscannable", "YAML too large or deep to walk; rest not checked");
      stopped_ = true;
      return;
    }
    if (node.IsScalar()) {
      const std::string& v = node.Scalar();
      const bool named = key.find("template") != std::string::npos;
      if (!v.empty() && (named || jinja::looks_like_template(v))) {
        ++templates_;
        check_template(ctx_, v, "template " + path, std::nullopt);
      }
    } else if (node.IsMap()) {
      for (const auto& kv : node) {
        const std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "?";
        walk(kv.second, path + "/" + k, k, depth + 1);
        if (stopped_) return;
      }
    } else if (node.IsSequence()) {
      std::size_t i = 0;
      for (const auto& item : node) {
        walk(item, path + "/" + std::to_string(i++), key, depth + 1);
        if (stopped_) return;
      }
    }
  }

 private:
  ScanContext& ctx_;
  std::size_t nodes_ = 0;
  std::size_t templates_ = 0;
  bool stopped_ = false;
};

// A YAML mapping (not a template that happens to parse as YAML), or a null node. Text that
// starts with '{' is a template: `{{ x }}` also reads as a YAML flow mapping.
YAML::Node yaml_mapping(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] == '{') return YAML::Node();
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (root.IsMap()) return root;
  } catch (const std::exception&) {
  }
  return YAML::Node();
}

class TemplateScanner final : public Scanner {
 public:
  std::string_view format() const override { return "jinja"; }

  bool matches(ByteView data) const override {
    if (data.empty() || data.size() > kMaxTemplateFile) return false;
    const auto probe = data.first(std::min(data.size(), kBinaryProbe));
    if (std::find(probe.begin(), probe.end(), 0) != probe.end()) return false;
    return jinja::looks_like_template(as_chars(data));
  }

  void scan(ByteView data, ScanContext& ctx) const override {
    const auto text = as_chars(data);
    if (auto yaml = yaml_mapping(text); yaml.IsMap()) {
      YamlWalk walk(ctx);
      walk.walk(yaml, "", "", 0);
      if (walk.templates() > 0) {
        ctx.set_format("yaml");
        return;
      }
    }
    // Text that only contains braces (Python, Markdown, HTML) is not held to Jinja's syntax; a
    // file named as a template is.
    check_template(ctx, text, "template", 0, named_as_template(ctx));
  }

 private:
  static bool named_as_template(const ScanContext& ctx) {
    const std::string& m = ctx.member();
    const std::string name = m.empty() ? ctx.file_path() : m.substr(m.rfind('!') + 1);
    if (name.empty()) return true;  // in-memory bytes: assume a template
    for (std::string_view ext : {".jinja", ".jinja2", ".j2", ".template", ".tmpl", ".tpl"}) {
      if (name.size() >= ext.size() &&
          name.compare(name.size() - ext.size(), ext.size(), ext) == 0) {
        return true;
      }
    }
    return name.find("chat_template") != std::string::npos;
  }
};

}  // namespace

std::unique_ptr<Scanner> make_template_scanner() {
  return std::make_unique<TemplateScanner>();
}

}  // namespace mlsc::scan
