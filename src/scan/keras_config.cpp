#include "keras_config.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/embedded.hpp"
#include "keras_code.hpp"
#include "mlsc/core/text.hpp"
#include "rule_lines.hpp"

namespace mlsc::scan::keras {

namespace {

using nlohmann::json;

// --- data tables ---------------------------------------------------------------------------

struct Gadget {
  std::string module;  // without ".*"
  bool submodules = false;
  std::string name;
  Severity severity = Severity::critical;
  std::string reason;
};

using rules::split_lines;
using rules::trim;

Severity parse_severity(std::string_view word) {
  if (word == "[high]") return Severity::high;
  if (word == "[medium]") return Severity::medium;
  if (word == "[low]") return Severity::low;
  return Severity::critical;
}

std::vector<Gadget> load_gadgets() {
  std::vector<Gadget> out;
  for (std::string_view line : split_lines(embedded::keras_gadgets)) {
    auto [words, reason] = rules::parse_rule_line(line);
    if (words.size() < 2) continue;
    Gadget g;
    g.module = std::string(words[0]);
    if (g.module.size() > 2 && g.module.substr(g.module.size() - 2) == ".*") {
      g.module.resize(g.module.size() - 2);
      g.submodules = true;
    }
    g.name = std::string(words[1]);
    g.severity = words.size() > 2 ? parse_severity(words[2]) : Severity::critical;
    g.reason = std::move(reason);
    out.push_back(std::move(g));
  }
  return out;
}

const std::vector<Gadget>& gadgets() {
  static const std::vector<Gadget> table = load_gadgets();
  return table;
}

const std::unordered_set<std::string>& builtin_classes() {
  static const std::unordered_set<std::string> names = [] {
    std::unordered_set<std::string> s;
    for (const auto line : split_lines(embedded::keras_builtin_classes)) {
      const auto t = trim(line);
      if (!t.empty() && t[0] != '#') s.emplace(t);
    }
    return s;
  }();
  return names;
}

bool module_in(std::string_view module, std::string_view package) {
  return module == package ||
         (module.size() > package.size() && module.substr(0, package.size()) == package &&
          module[package.size()] == '.');
}

const Gadget* find_gadget(std::string_view module, std::string_view name) {
  for (const auto& g : gadgets()) {
    if (g.name != name) continue;
    if (g.submodules ? module_in(module, g.module) : module == g.module) return &g;
  }
  return nullptr;
}

// Modules that are Keras itself; their classes are judged by the gadget table only.
bool keras_namespace(std::string_view module) {
  return module_in(module, "keras") || module_in(module, "tf_keras") ||
         module_in(module, "tensorflow");
}

// Keras's own add-on packages: still code outside Keras, but expected in KerasHub/NLP/CV models.
bool keras_family(std::string_view package) {
  return package == "keras_hub" || package == "keras_nlp" || package == "keras_cv" ||
         package == "keras_rs";
}

// --- helpers -------------------------------------------------------------------------------

std::string path_component(std::string_view name) {
  std::string out;
  for (const char c : name.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7F || c == '!' || c == '/') ? '_' : c;
  }
  return out.empty() ? std::string("_") : out;
}

std::string join(const std::string& path, std::string_view name) {
  return path.empty() ? path_component(name) : path + "/" + path_component(name);
}

const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::string string_member(const json& obj, const char* key) {
  const json* v = member(obj, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

std::string where(const std::string& path) {
  return path.empty() ? std::string("the model config") : "'" + path + "'";
}

// --- the walker ----------------------------------------------------------------------------

class Walker {
 public:
  Walker(const ImportPolicy& policy, const Limits& limits, Report& report)
      : policy_(policy), limits_(limits), report_(report) {}

  void walk(const json& node, const std::string& path) {
    if (stopped_) return;
    if (node.is_array()) {
      for (const auto& item : node) walk(item, path);
      return;
    }
    if (!node.is_object()) return;
    std::string here = path;
    if (is_keras_object(node)) {
      if (++report_.objects > limits_.max_objects) {
        stopped_ = true;
        add(Severity::high, "unscannable",
            "more than " + std::to_string(limits_.max_objects) +
                " serialised objects in the config; the rest was not analysed",
            path);
        return;
      }
      here = object_path(node, path);
      visit(node, here);
    }
    for (const auto& [key, value] : node.items()) walk(value, here);
  }

  void finish() {
    for (const auto& [rule, n] : suppressed_) {
      report_.issues.push_back({suppressed_severity_[rule],
                                rule,
                                std::to_string(n) + " more " + rule + " findings not listed",
                                {}});
    }
  }

 private:
  static bool is_keras_object(const json& node) {
    const json* cls = member(node, "class_name");
    return cls != nullptr && cls->is_string() && node.contains("config");
  }

  static std::string object_path(const json& node, const std::string& path) {
    std::string name = string_member(*member(node, "config"), "name");
    if (name.empty()) name = string_member(node, "name");
    return name.empty() ? path : join(path, name);
  }

  void add(Severity severity, const std::string& rule, std::string message,
           const std::string& path) {
    auto& n = per_rule_[rule];
    if (++n > limits_.max_issues_per_rule) {
      ++suppressed_[rule];
      suppressed_severity_[rule] = std::max(suppressed_severity_[rule], severity);
      return;
    }
    report_.issues.push_back({severity, rule, std::move(message), path});
  }

  void visit(const json& obj, const std::string& path) {
    const std::string cls = string_member(obj, "class_name");
    const json& inner = *member(obj, "config");
    const std::string module = string_member(obj, "module");
    const std::string registered = string_member(obj, "registered_name");
    if (report_.objects == 1 && report_.root_class.empty()) report_.root_class = cls;
    if (cls == "__lambda__") {
      ++report_.lambdas;
      lambda_code(inner, path, "Lambda function");
      return;
    }
    if (cls == "function") {
      if (inner.is_string()) callable(module, inner.get<std::string>(), path, true);
      return;
    }
    callable(module, cls, path, false);
    registered_name(module, registered, path);
    if (module.empty() || keras_namespace(module)) keras_class(cls, inner, path);
  }

  void keras_class(const std::string& cls, const json& inner, const std::string& path) {
    if (cls == "Lambda") lambda_layer(inner, path);
    if (cls == "TFOpLambda") tf_op_lambda(inner, path);
    if (cls == "StringLookup" || cls == "IntegerLookup" || cls == "TextVectorization") {
      vocabulary_file(inner, path);
    }
    if (cls == "TorchModuleWrapper") torch_payload(inner, path);
  }

  // A module + name that Keras will import and resolve.
  void callable(const std::string& module, const std::string& name, const std::string& path,
                bool is_function) {
    if (module.empty()) {
      if (!is_function && !builtin_classes().count(name) && name.find('>') == std::string::npos) {
        custom_once(Severity::low, name,
                    "custom object '" + printable(name, 80) + "' at " + where(path) +
                        " is not a built-in Keras class; loading needs custom_objects "
                        "supplied by the caller",
                    path);
      }
      return;
    }
    if (const Gadget* g = find_gadget(module, name)) {
      add(g->severity, "keras.unsafe-function",
          where(path) + " names " + printable(module, 80) + "." + printable(name, 80) +
              ", which Keras resolves at load: " + g->reason,
          path);
      return;
    }
    const ImportClass c = policy_.classify(module, name);
    if (c.verdict == ImportVerdict::dangerous) {
      add(c.severity, "keras.unsafe-module-import",
          where(path) + " makes Keras import module '" + printable(module, 80) + "' and take '" +
              printable(name, 80) + "' from it (" + c.reason +
              "); safe_mode does not stop this in Keras < 3.9 (CVE-2025-1550)",
          path);
      return;
    }
    if (keras_namespace(module) || module == "builtins" || c.verdict == ImportVerdict::safe) return;
    const std::string package = module.substr(0, module.find('.'));
    if (keras_family(package)) {
      custom_once(Severity::info, package,
                  "the model uses objects from the Keras add-on package '" + package +
                      "' (first at " + where(path) + "); loading imports it",
                  path);
      return;
    }
    custom_once(c.severity, module + "." + name,
                "custom object " + printable(module, 80) + "." + printable(name, 80) + " at " +
                    where(path) + ": Keras imports module '" + printable(module, 80) +
                    "' at load, so that package's code runs",
                path);
  }

  void registered_name(const std::string& module, const std::string& registered,
                       const std::string& path) {
    const auto gt = registered.find('>');
    if (gt == std::string::npos) return;
    const std::string package = registered.substr(0, gt);
    if (!module.empty() && !keras_namespace(module)) return;  // reported with its module
    if (keras_family(package) || package == "keras" || package == "Custom" || package == "Addons") {
      if (package != "Custom" || builtin_classes().count(registered.substr(gt + 1))) return;
    }
    custom_once(Severity::medium, registered,
                "registered custom object '" + printable(registered, 100) + "' at " + where(path) +
                    ": loading needs the package that registers it, whose code "
                    "then runs",
                path);
  }

  void custom_once(Severity severity, const std::string& key, std::string message,
                   const std::string& path) {
    if (!custom_seen_.insert(key).second) return;
    add(severity, "keras.custom-object", std::move(message), path);
  }

  // Keras 2: function / output_shape / mask, each with a *_type and *_module sibling.
  void lambda_layer(const json& inner, const std::string& path) {
    static constexpr std::array<std::array<const char*, 3>, 3> kSlots = {{
        {"function", "function_type", "module"},
        {"output_shape", "output_shape_type", "output_shape_module"},
        {"mask", "mask_type", "mask_module"},
    }};
    for (const auto& [key, type_key, module_key] : kSlots) {
      const json* v = member(inner, key);
      if (v == nullptr || v->is_null()) continue;
      const std::string type = string_member(inner, type_key);
      const std::string module = string_member(inner, module_key);
      if (v->is_object()) {
        named_keras3_function(*v, path, key);
        continue;
      }
      if (type == "raw" || (std::string_view(key) != "function" && type.empty())) continue;
      if (type == "function") {
        ++report_.lambdas;
        named_keras2_function(v->is_string() ? v->get<std::string>() : std::string(), module, path,
                              key);
        continue;
      }
      ++report_.lambdas;
      lambda_code(*v, path, std::string("Lambda layer ") + key, module);
    }
  }

  void named_keras3_function(const json& fn, const std::string& path, const char* key) {
    if (string_member(fn, "class_name") != "function") return;  // __lambda__: visited itself
    ++report_.lambdas;
    const std::string module = string_member(fn, "module");
    const json* name = member(fn, "config");
    const std::string fname = name != nullptr && name->is_string() ? name->get<std::string>() : "";
    add(Severity::medium, "keras.lambda-layer",
        "Lambda layer " + std::string(key) + " at " + where(path) + " calls " +
            printable(module, 80) + "." + printable(fname, 80) + " on its inputs at load",
        path);
  }

  void named_keras2_function(const std::string& name, const std::string& module,
                             const std::string& path, const char* key) {
    const ImportClass c = policy_.classify(module.empty() ? "builtins" : module, name);
    if (c.verdict == ImportVerdict::dangerous) {
      add(c.severity, "keras.lambda-dangerous-code",
          "Lambda layer " + std::string(key) + " at " + where(path) + " calls " +
              printable(module, 80) + "." + printable(name, 80) + " (" + c.reason + ")",
          path);
      return;
    }
    add(Severity::high, "keras.lambda-layer",
        "Lambda layer " + std::string(key) + " at " + where(path) + " calls the Python function '" +
            printable(name, 80) + "' looked up in module '" + printable(module, 80) + "'",
        path);
  }

  void lambda_code(const json& value, const std::string& path, const std::string& what,
                   const std::string& module = {}) {
    const json* code = &value;
    if (value.is_object()) {  // Keras 3: {"code": ...} (Lambda) or {"value": ...} (generic)
      code = member(value, "code");
      if (code == nullptr) code = member(value, "value");
    }
    if (code != nullptr && code->is_array() && !code->empty()) code = &(*code)[0];
    const std::string text = code != nullptr && code->is_string() ? code->get<std::string>() : "";
    const CodeVerdict v = judge_lambda_code(text, module, limits_.max_code_bytes);
    add(v.severity, v.rule, what + " at " + where(path) + " " + v.detail, path);
  }

  void tf_op_lambda(const json& inner, const std::string& path) {
    const std::string fn = string_member(inner, "function");
    static constexpr std::array<std::string_view, 8> kRisky = {
        "io.",   "py_func",    "py_function", "numpy_function",
        "gfile", "write_file", "read_file",   "load_op_library"};
    for (const auto risky : kRisky) {
      if (fn.find(risky) != std::string::npos) {
        add(Severity::high, "keras.tf-op-file-access",
            "TFOpLambda at " + where(path) + " calls tf." + printable(fn, 80) +
                ", a TensorFlow function with file or Python-callback access",
            path);
        return;
      }
    }
  }

  void vocabulary_file(const json& inner, const std::string& path) {
    const std::string vocab = string_member(inner, "vocabulary");
    if (vocab.empty()) return;
    const bool escapes = vocab[0] == '/' || vocab.find("..") != std::string::npos ||
                         vocab.find("://") != std::string::npos ||
                         (vocab.size() > 1 && vocab[1] == ':');
    add(escapes ? Severity::high : Severity::medium, "keras.external-file",
        "lookup layer at " + where(path) + " reads its vocabulary from '" + printable(vocab, 200) +
            "' when the model loads, even with safe_mode (GHSA-qg93-c7p6-gg7f)",
        path);
  }

  // TorchModuleWrapper stores torch.save() bytes, base64-encoded, in its config.
  void torch_payload(const json& inner, const std::string& path) {
    if (!inner.is_object()) return;
    for (const auto& [key, value] : inner.items()) {
      if (!value.is_string() || value.get_ref<const std::string&>().size() < 16) continue;
      auto bytes = decode_base64_lenient(value.get_ref<const std::string&>());
      if (!bytes || bytes->empty()) continue;
      report_.payloads.push_back({path, "TorchModuleWrapper " + key, std::move(*bytes)});
    }
  }

  const ImportPolicy& policy_;
  const Limits& limits_;
  Report& report_;
  bool stopped_ = false;
  std::map<std::string, std::size_t> per_rule_, suppressed_;
  std::map<std::string, Severity> suppressed_severity_;
  std::set<std::string> custom_seen_;
};

// --- bounded JSON parsing ------------------------------------------------------------------

struct Parsed {
  json doc;
  std::string error;
  std::optional<std::uint64_t> offset;
  bool too_deep = false;
};

Parsed parse(std::string_view text, std::size_t max_depth) {
  Parsed p;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t, json&) {
    if (static_cast<std::size_t>(depth) > max_depth) {
      p.too_deep = true;
      return false;
    }
    return true;
  };
  try {
    p.doc = json::parse(text.begin(), text.end(), cb);
  } catch (const json::parse_error& e) {
    p.error = e.what();
    p.offset = e.byte > 0 ? e.byte - 1 : 0;
  } catch (const json::exception& e) {
    p.error = e.what();
  }
  return p;
}

}  // namespace

Report analyse_config(std::string_view json_text, const ImportPolicy& policy, std::string_view root,
                      const Limits& limits) {
  Report report;
  Parsed p = parse(json_text, limits.max_depth);
  if (!p.error.empty()) {
    report.issues.push_back({Severity::medium, "keras.malformed-config",
                             "model config is not valid JSON (" + printable(p.error, 200) +
                                 (p.offset ? " at byte " + std::to_string(*p.offset) : "") +
                                 "); Keras cannot load it and mlsc could not analyse it",
                             std::string(root)});
    return report;
  }
  report.parsed = true;
  if (p.too_deep) {
    report.issues.push_back({Severity::high, "unscannable",
                             "model config nests deeper than " + std::to_string(limits.max_depth) +
                                 " levels; the deeper parts were not analysed",
                             std::string(root)});
  }
  Walker walker(policy, limits, report);
  walker.walk(p.doc, std::string(root));
  walker.finish();
  return report;
}

// --- content recognition -------------------------------------------------------------------

namespace {

class TopLevelKeys {
 public:
  explicit TopLevelKeys(std::string_view s) : s_(s) {}

  // Collects the top-level keys of a JSON object; false when the text is not one.
  bool run(std::set<std::string>& keys) {
    skip_ws();
    if (s_.substr(pos_, 3) == "\xEF\xBB\xBF") pos_ += 3;
    skip_ws();
    if (!eat('{')) return false;
    skip_ws();
    if (eat('}')) return true;
    while (true) {
      skip_ws();
      std::string key;
      if (!string(&key)) return false;
      skip_ws();
      if (!eat(':')) return false;
      if (!value()) return false;
      if (keys.size() < 256) keys.insert(key);
      skip_ws();
      if (eat(',')) continue;
      return eat('}');
    }
  }

 private:
  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) {
      ++pos_;
    }
  }
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool string(std::string* out) {
    if (!eat('"')) return false;
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (pos_ >= s_.size()) return false;
        if (out != nullptr) *out += '\\';
        ++pos_;
        continue;
      }
      if (out != nullptr && out->size() < 64) *out += c;
    }
    return false;
  }
  // Skips one value: strings and brackets are matched, scalars run to the next delimiter.
  bool value() {
    skip_ws();
    std::size_t depth = 0;
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c == '"') {
        if (!string(nullptr)) return false;
      } else if (c == '{' || c == '[') {
        ++depth;
        ++pos_;
      } else if (c == '}' || c == ']') {
        if (depth == 0) return true;
        --depth;
        ++pos_;
      } else if (c == ',' && depth == 0) {
        return true;
      } else {
        ++pos_;
      }
      if (depth == 0 && (c == '"' || c == '}' || c == ']')) return true;
    }
    return false;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

JsonKind classify_json(ByteView data) {
  std::size_t i = 0;
  if (starts_with(data, "\xEF\xBB\xBF")) i = 3;
  while (i < data.size() &&
         (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t')) {
    ++i;
  }
  if (i >= data.size() || data[i] != '{') return JsonKind::none;
  std::set<std::string> keys;
  if (!TopLevelKeys(as_chars(data)).run(keys)) return JsonKind::none;
  const auto has = [&](const char* k) { return keys.count(k) != 0; };
  if (has("class_name") && has("config") &&
      (has("module") || has("registered_name") || has("keras_version"))) {
    return JsonKind::model_config;
  }
  if (has("keras_version") && has("date_saved")) return JsonKind::metadata;
  return JsonKind::none;
}

}  // namespace mlsc::scan::keras
