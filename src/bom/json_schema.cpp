// JSON Schema evaluation (draft-07 and 2020-12 semantics, chosen per schema document by its
// "$schema"). Interprets the schema JSON directly; patterns are compiled once at load time so
// validation is const. Annotations are tracked only for what unevaluatedProperties needs.
#include "mlsc/bom/json_schema.hpp"

#include <algorithm>
#include <cmath>
#include <regex>
#include <set>

#include "big_stack.hpp"
#include "text_util.hpp"
#include "toml_json.hpp"

namespace mlsc::bom {

namespace {

using nlohmann::json;

// Assertion keywords recognised by JSON Schema drafts that this validator does not evaluate:
// a schema using one is refused at load time instead of being half-checked.
const std::set<std::string, std::less<>> kUnsupported = {
    "unevaluatedItems", "dependentSchemas", "dependencies", "$dynamicRef",
    "$recursiveRef",    "contentSchema",    "$anchor",      "$dynamicAnchor",
    "$recursiveAnchor", "maxContains",      "minContains"};

struct Doc {
  json root;
  std::string uri;
  bool draft7 = false;
};

std::string without_fragment(const std::string& uri) {
  return uri.substr(0, uri.find('#'));
}

std::string resolve_uri(const std::string& base, const std::string& ref) {
  if (ref.empty() || ref.front() == '#') return without_fragment(base) + ref;
  if (ref.find("://") != std::string::npos || ref.rfind("urn:", 0) == 0) return ref;
  const auto b = without_fragment(base);
  const auto slash = b.rfind('/');
  return (slash == std::string::npos ? std::string{} : b.substr(0, slash + 1)) + ref;
}

// RFC 6901 pointer with percent-decoding of the URI fragment form.
const json* follow_pointer(const json& root, const std::string& pointer) {
  std::string decoded;
  for (std::size_t i = 0; i < pointer.size(); ++i) {
    if (pointer[i] == '%' && i + 2 < pointer.size() &&
        std::isxdigit(static_cast<unsigned char>(pointer[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(pointer[i + 2]))) {
      decoded += static_cast<char>(std::stoi(pointer.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      decoded += pointer[i];
    }
  }
  const json* node = &root;
  if (decoded.empty()) return node;
  if (decoded.front() != '/') return nullptr;
  for (auto token : detail::split(std::string_view(decoded).substr(1), '/')) {
    std::string key;
    for (std::size_t i = 0; i < token.size(); ++i) {
      if (token[i] == '~' && i + 1 < token.size()) {
        key += token[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        key += token[i];
      }
    }
    if (node->is_object()) {
      const auto it = node->find(key);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (node->is_array()) {
      if (key.empty() || key.size() > 9 || !std::all_of(key.begin(), key.end(), ::isdigit))
        return nullptr;
      const auto index = std::stoul(key);
      if (index >= node->size()) return nullptr;
      node = &(*node)[index];
    } else {
      return nullptr;
    }
  }
  return node;
}

std::string escape_pointer_token(std::string_view token) {
  std::string out;
  for (const char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (const char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++n;
  return n;
}

bool is_integer(const json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  const double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

bool type_matches(const json& v, std::string_view type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "number") return v.is_number();
  if (type == "integer") return is_integer(v);
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  return false;
}

std::string short_dump(const json& v) {
  return detail::bounded(v.dump(), 80);
}

}  // namespace

// ---- formats ------------------------------------------------------------------------------

namespace {

bool digits_at(const std::string& s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return false;
  for (std::size_t i = pos; i < pos + n; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

int number_at(const std::string& s, std::size_t pos, std::size_t n) {
  return std::stoi(s.substr(pos, n));
}

// RFC 3339 date-time (what JSON Schema's "date-time" format means).
bool is_date_time(const std::string& s) {
  if (s.size() < 20 || !digits_at(s, 0, 4) || s[4] != '-' || !digits_at(s, 5, 2) || s[7] != '-' ||
      !digits_at(s, 8, 2) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits_at(s, 11, 2) || s[13] != ':' || !digits_at(s, 14, 2) || s[16] != ':' ||
      !digits_at(s, 17, 2))
    return false;
  const int month = number_at(s, 5, 2);
  const int day = number_at(s, 8, 2);
  const int year = number_at(s, 0, 4);
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1]) return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return false;
  if (number_at(s, 11, 2) > 23 || number_at(s, 14, 2) > 59 || number_at(s, 17, 2) > 60)
    return false;
  std::size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    const auto start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return false;
  }
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) return pos + 1 == s.size();
  if (pos + 6 != s.size() || (s[pos] != '+' && s[pos] != '-') || !digits_at(s, pos + 1, 2) ||
      s[pos + 3] != ':' || !digits_at(s, pos + 4, 2))
    return false;
  return number_at(s, pos + 1, 2) <= 23 && number_at(s, pos + 4, 2) <= 59;
}

// IRI references and URIs: no whitespace, no control characters, no characters RFC 3987
// excludes outright; a scheme (when present) of letter, then letters, digits, "+-.".
bool is_iri_reference(const std::string& s, bool require_scheme) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || c == '<' || c == '>' || c == '"' || c == '{' || c == '}' ||
        c == '|' || c == '\\' || c == '^' || c == '`')
      return false;
  }
  const auto colon = s.find(':');
  const auto first_delim = s.find_first_of("/?#");
  const bool has_scheme = colon != std::string::npos && colon > 0 &&
                          (first_delim == std::string::npos || colon < first_delim);
  if (has_scheme) {
    if (std::isalpha(static_cast<unsigned char>(s[0])) == 0) return false;
    for (std::size_t i = 1; i < colon; ++i) {
      const char c = s[i];
      if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '+' && c != '-' && c != '.')
        return false;
    }
  }
  return has_scheme || !require_scheme;
}

bool is_email(const std::string& s) {
  const auto at = s.rfind('@');
  return at != std::string::npos && at > 0 && at + 1 < s.size() &&
         s.find_first_of(" \t\r\n") == std::string::npos;
}

// Formats we assert; others are annotations, as the drafts allow.
std::optional<bool> check_format(std::string_view format, const std::string& value) {
  if (format == "date-time") return is_date_time(value);
  if (format == "iri-reference" || format == "uri-reference") return is_iri_reference(value, false);
  if (format == "iri" || format == "uri") return is_iri_reference(value, true);
  if (format == "email" || format == "idn-email") return is_email(value);
  return std::nullopt;
}

}  // namespace

// ---- the set ------------------------------------------------------------------------------

struct SchemaSet::Impl {
  std::vector<std::unique_ptr<Doc>> docs;
  std::map<std::string, const Doc*> by_uri;
  std::map<std::string, std::regex> patterns;

  Expected<void> check(const json& schema, const std::string& where);
  Expected<void> check_object(const json& schema, const std::string& where);
  const Doc* find_doc(const std::string& uri) const {
    const auto it = by_uri.find(without_fragment(uri));
    return it == by_uri.end() ? nullptr : it->second;
  }
};

Expected<void> SchemaSet::Impl::check(const json& schema, const std::string& where) {
  if (schema.is_boolean()) return {};
  if (!schema.is_object())
    return Error("schema at " + where + " is neither an object nor a boolean");
  return check_object(schema, where);
}

Expected<void> SchemaSet::Impl::check_object(const json& schema, const std::string& where) {
  for (const auto& [key, value] : schema.items()) {
    const auto here = where + "/" + escape_pointer_token(key);
    if (kUnsupported.count(key) != 0)
      return Error("schema keyword '" + key + "' at " + here + " is not supported");
    if (key == "properties" || key == "patternProperties" || key == "$defs" ||
        key == "definitions") {
      if (!value.is_object()) return Error(here + " is not an object");
      for (const auto& [name, sub] : value.items()) {
        if (key == "patternProperties" && patterns.count(name) == 0) {
          try {
            patterns.emplace(name, std::regex(name, std::regex::ECMAScript));
          } catch (const std::regex_error&) {
            return Error("pattern at " + here + " does not compile: " + name);
          }
        }
        if (auto r = check(sub, here + "/" + escape_pointer_token(name)); !r) return r;
      }
    } else if (key == "allOf" || key == "anyOf" || key == "oneOf" || key == "prefixItems") {
      if (!value.is_array() || value.empty()) return Error(here + " must be a non-empty array");
      for (std::size_t i = 0; i < value.size(); ++i)
        if (auto r = check(value[i], here + "/" + std::to_string(i)); !r) return r;
    } else if (key == "items") {
      if (value.is_array()) {
        for (std::size_t i = 0; i < value.size(); ++i)
          if (auto r = check(value[i], here + "/" + std::to_string(i)); !r) return r;
      } else if (auto r = check(value, here); !r) {
        return r;
      }
    } else if (key == "not" || key == "if" || key == "then" || key == "else" ||
               key == "additionalProperties" || key == "additionalItems" ||
               key == "unevaluatedProperties" || key == "contains" || key == "propertyNames") {
      if (auto r = check(value, here); !r) return r;
    } else if (key == "pattern") {
      if (!value.is_string()) return Error(here + " is not a string");
      const auto p = value.get<std::string>();
      if (patterns.count(p) == 0) {
        try {
          patterns.emplace(p, std::regex(p, std::regex::ECMAScript));
        } catch (const std::regex_error&) {
          return Error("pattern at " + here + " does not compile: " + p);
        }
      }
    } else if (key == "$ref") {
      if (!value.is_string()) return Error(here + " is not a string");
    } else if (key == "required" || key == "enum") {
      if (!value.is_array()) return Error(here + " is not an array");
    } else if (key == "type") {
      if (!value.is_string() && !value.is_array())
        return Error(here + " is neither a string nor an array");
    }
  }
  return {};
}

SchemaSet::SchemaSet() : impl_(std::make_unique<Impl>()) {}
SchemaSet::~SchemaSet() = default;
SchemaSet::SchemaSet(SchemaSet&&) noexcept = default;
SchemaSet& SchemaSet::operator=(SchemaSet&&) noexcept = default;

Expected<void> SchemaSet::add(json schema, const std::string& uri) {
  if (auto r = impl_->check(schema, "#"); !r) return Error(uri + ": " + r.error().message);
  auto doc = std::make_unique<Doc>();
  const std::string dialect =
      schema.is_object() ? detail::json_string(schema, "$schema") : std::string{};
  doc->draft7 = dialect.find("draft-07") != std::string::npos ||
                dialect.find("draft-06") != std::string::npos ||
                dialect.find("draft-04") != std::string::npos;
  const std::string id = schema.is_object() ? detail::json_string(schema, "$id") : std::string{};
  doc->uri = without_fragment(id.empty() ? uri : id);
  doc->root = std::move(schema);
  impl_->by_uri[without_fragment(uri)] = doc.get();
  impl_->by_uri[doc->uri] = doc.get();
  impl_->docs.push_back(std::move(doc));
  return {};
}

bool SchemaSet::has(const std::string& uri) const {
  return impl_->find_doc(uri) != nullptr;
}

// ---- evaluation ---------------------------------------------------------------------------

namespace {

using Errors = std::vector<SchemaViolation>;

struct Annotations {
  std::set<std::string> properties;  // evaluated property names at this instance location
};

class Evaluator {
 public:
  Evaluator(const std::map<std::string, const Doc*>& docs,
            const std::map<std::string, std::regex>& patterns, const ValidationLimits& limits)
      : docs_(docs), patterns_(patterns), limits_(limits) {}

  // `errors` null: only the verdict is needed, stop at the first failure.
  bool eval(const Doc& doc, const json& schema, const std::string& spath, const json& inst,
            const std::string& ipath, Errors* errors, Annotations* annotations);

  bool aborted() const { return aborted_; }
  const std::string& abort_reason() const { return abort_reason_; }

 private:
  const std::map<std::string, const Doc*>& docs_;
  const std::map<std::string, std::regex>& patterns_;
  const ValidationLimits& limits_;
  std::size_t depth_ = 0;
  bool aborted_ = false;
  std::string abort_reason_;

  static void add(Errors* errors, const std::string& ipath, const std::string& spath,
                  std::string message) {
    if (errors != nullptr)
      errors->push_back({ipath.empty() ? "/" : ipath, spath, std::move(message)});
  }

  bool eval_ref(const Doc& doc, const std::string& ref, const std::string& spath, const json& inst,
                const std::string& ipath, Errors* errors, Annotations* annotations);
  bool eval_type(const json& schema, const std::string& spath, const json& inst,
                 const std::string& ipath, Errors* errors);
  bool eval_scalar(const json& schema, const std::string& spath, const json& inst,
                   const std::string& ipath, Errors* errors);
  bool eval_combinators(const Doc& doc, const json& schema, const std::string& spath,
                        const json& inst, const std::string& ipath, Errors* errors,
                        Annotations& local);
  bool eval_branches(const Doc& doc, const json& list, const std::string& spath, const json& inst,
                     const std::string& ipath, Errors* errors, Annotations& local, bool one_of);
  bool eval_object(const Doc& doc, const json& schema, const std::string& spath, const json& inst,
                   const std::string& ipath, Errors* errors, Annotations& local);
  bool eval_array(const Doc& doc, const json& schema, const std::string& spath, const json& inst,
                  const std::string& ipath, Errors* errors);
};

bool Evaluator::eval(const Doc& doc, const json& schema, const std::string& spath, const json& inst,
                     const std::string& ipath, Errors* errors, Annotations* annotations) {
  if (aborted_) return false;
  if (schema.is_boolean()) {
    if (schema.get<bool>()) return true;
    add(errors, ipath, spath, "no value is allowed here");
    return false;
  }
  if (++depth_ > limits_.max_depth) {
    aborted_ = true;
    abort_reason_ = "schema evaluation nested deeper than " + std::to_string(limits_.max_depth) +
                    " at " + spath;
    --depth_;
    return false;
  }
  Annotations local;
  bool ok = true;
  const auto ref = schema.find("$ref");
  if (ref != schema.end() && doc.draft7) {
    // draft-07: "$ref" replaces every sibling keyword.
    ok = eval_ref(doc, ref->get<std::string>(), spath + "/$ref", inst, ipath, errors, &local);
  } else {
    ok = eval_type(schema, spath, inst, ipath, errors);
    if (ok || errors != nullptr) ok = eval_scalar(schema, spath, inst, ipath, errors) && ok;
    if ((ok || errors != nullptr) && ref != schema.end())
      ok = eval_ref(doc, ref->get<std::string>(), spath + "/$ref", inst, ipath, errors, &local) &&
           ok;
    if (ok || errors != nullptr)
      ok = eval_combinators(doc, schema, spath, inst, ipath, errors, local) && ok;
    if ((ok || errors != nullptr) && inst.is_object())
      ok = eval_object(doc, schema, spath, inst, ipath, errors, local) && ok;
    if ((ok || errors != nullptr) && inst.is_array())
      ok = eval_array(doc, schema, spath, inst, ipath, errors) && ok;
  }
  --depth_;
  if (ok && annotations != nullptr) annotations->properties.merge(local.properties);
  return ok && !aborted_;
}

bool Evaluator::eval_ref(const Doc& doc, const std::string& ref, const std::string& spath,
                         const json& inst, const std::string& ipath, Errors* errors,
                         Annotations* annotations) {
  const auto target_uri = resolve_uri(doc.uri, ref);
  const auto it = docs_.find(without_fragment(target_uri));
  if (it == docs_.end()) {
    aborted_ = true;
    abort_reason_ =
        "schema reference " + ref + " at " + spath + " names a schema that is not loaded";
    return false;
  }
  const auto hash = target_uri.find('#');
  const std::string fragment =
      hash == std::string::npos ? std::string{} : target_uri.substr(hash + 1);
  const json* target = follow_pointer(it->second->root, fragment);
  if (target == nullptr) {
    aborted_ = true;
    abort_reason_ = "schema reference " + ref + " at " + spath + " does not resolve";
    return false;
  }
  return eval(*it->second, *target, without_fragment(target_uri) + "#" + fragment, inst, ipath,
              errors, annotations);
}

bool Evaluator::eval_type(const json& schema, const std::string& spath, const json& inst,
                          const std::string& ipath, Errors* errors) {
  const auto type = schema.find("type");
  if (type == schema.end()) return true;
  if (type->is_string()) {
    if (type_matches(inst, type->get_ref<const std::string&>())) return true;
  } else {
    for (const auto& t : *type)
      if (t.is_string() && type_matches(inst, t.get_ref<const std::string&>())) return true;
  }
  add(errors, ipath, spath + "/type",
      "expected type " + type->dump() + ", found " + std::string(inst.type_name()));
  return false;
}

bool Evaluator::eval_scalar(const json& schema, const std::string& spath, const json& inst,
                            const std::string& ipath, Errors* errors) {
  bool ok = true;
  auto fail = [&](const std::string& kw, std::string msg) {
    add(errors, ipath, spath + "/" + kw, std::move(msg));
    ok = false;
    return errors != nullptr;  // keep going only when collecting
  };
  if (const auto c = schema.find("const"); c != schema.end() && inst != *c) {
    if (!fail("const", "must be " + short_dump(*c))) return false;
  }
  if (const auto e = schema.find("enum");
      e != schema.end() && std::find(e->begin(), e->end(), inst) == e->end()) {
    if (!fail("enum", short_dump(inst) + " is not one of the allowed values")) return false;
  }
  if (inst.is_string()) {
    const auto& str = inst.get_ref<const std::string&>();
    if (const auto m = schema.find("minLength");
        m != schema.end() && m->is_number() &&
        static_cast<double>(code_points(str)) < m->get<double>()) {
      if (!fail("minLength", "shorter than " + m->dump() + " characters")) return false;
    }
    if (const auto m = schema.find("maxLength");
        m != schema.end() && m->is_number() &&
        static_cast<double>(code_points(str)) > m->get<double>()) {
      if (!fail("maxLength", "longer than " + m->dump() + " characters")) return false;
    }
    if (const auto p = schema.find("pattern"); p != schema.end()) {
      const auto& pattern = p->get_ref<const std::string&>();
      if (str.size() > limits_.max_pattern_input) {
        if (!fail("pattern", "string of " + std::to_string(str.size()) +
                                 " bytes is too long to match against " + pattern))
          return false;
      } else if (const auto re = patterns_.find(pattern); re == patterns_.end()) {
        aborted_ = true;
        abort_reason_ = "pattern at " + spath + " was not compiled with its schema";
        return false;
      } else if (!std::regex_search(str, re->second)) {
        if (!fail("pattern", "'" + detail::bounded(str, 80) + "' does not match " + pattern))
          return false;
      }
    }
    if (const auto f = schema.find("format"); f != schema.end() && f->is_string()) {
      const auto verdict = check_format(f->get_ref<const std::string&>(), str);
      if (verdict && !*verdict) {
        if (!fail("format",
                  "'" + detail::bounded(str, 80) + "' is not a valid " + f->get<std::string>()))
          return false;
      }
    }
  }
  if (inst.is_number()) {
    const double v = inst.get<double>();
    auto bound = [&](const char* kw, auto violates, const char* what) {
      const auto b = schema.find(kw);
      if (b == schema.end() || !b->is_number()) return true;
      if (!violates(v, b->template get<double>())) return true;
      return fail(kw, std::string("must be ") + what + " " + b->dump());
    };
    if (!bound(
            "minimum", [](double x, double b) { return x < b; }, "at least"))
      return false;
    if (!bound(
            "maximum", [](double x, double b) { return x > b; }, "at most"))
      return false;
    if (!bound(
            "exclusiveMinimum", [](double x, double b) { return x <= b; }, "greater than"))
      return false;
    if (!bound(
            "exclusiveMaximum", [](double x, double b) { return x >= b; }, "less than"))
      return false;
    if (const auto m = schema.find("multipleOf");
        m != schema.end() && m->is_number() && m->get<double>() > 0) {
      const double q = v / m->get<double>();
      if (!std::isfinite(q) || std::fabs(q - std::round(q)) > 1e-9) {
        if (!fail("multipleOf", "not a multiple of " + m->dump())) return false;
      }
    }
  }
  return ok;
}

bool Evaluator::eval_branches(const Doc& doc, const json& list, const std::string& spath,
                              const json& inst, const std::string& ipath, Errors* errors,
                              Annotations& local, bool one_of) {
  std::size_t passed = 0;
  std::vector<std::size_t> passing;
  for (std::size_t i = 0; i < list.size(); ++i) {
    Annotations branch;
    if (eval(doc, list[i], spath + "/" + std::to_string(i), inst, ipath, nullptr, &branch)) {
      ++passed;
      passing.push_back(i);
      local.properties.merge(branch.properties);
      if (one_of && passed > 1) break;
    }
    if (aborted_) return false;
  }
  if (one_of ? passed == 1 : passed > 0) return true;
  if (one_of && passed > 1) {
    add(errors, ipath, spath,
        "matches more than one alternative of oneOf (" + std::to_string(passing[0]) + " and " +
            std::to_string(passing[1]) + ")");
    return false;
  }
  if (errors == nullptr) return false;
  // Explain the failure by the closest alternative: fewest violations, and alternatives
  // rejected by a discriminating constant ("type": "X") count as far away.
  Errors best;
  std::size_t best_score = SIZE_MAX;
  for (std::size_t i = 0; i < list.size(); ++i) {
    Errors branch;
    eval(doc, list[i], spath + "/" + std::to_string(i), inst, ipath, &branch, nullptr);
    std::size_t score = branch.size();
    for (const auto& e : branch) {
      const bool discriminator = e.instance_path == ipath + "/type" ||
                                 e.instance_path == ipath + "/@type" ||
                                 e.instance_path == ipath + "/bomFormat";
      if (discriminator && (e.message.rfind("must be", 0) == 0 ||
                            e.message.find("allowed values") != std::string::npos))
        score += 1000;
    }
    if (score < best_score) {
      best_score = score;
      best = std::move(branch);
    }
  }
  add(errors, ipath, spath,
      std::string("matches none of the ") + std::to_string(list.size()) + " alternatives of " +
          (one_of ? "oneOf" : "anyOf") + (best.empty() ? "" : "; the closest fails with:"));
  for (auto& e : best) {
    if (errors->size() >= limits_.max_violations * 4) break;
    errors->push_back(std::move(e));
  }
  return false;
}

bool Evaluator::eval_combinators(const Doc& doc, const json& schema, const std::string& spath,
                                 const json& inst, const std::string& ipath, Errors* errors,
                                 Annotations& local) {
  bool ok = true;
  if (const auto all = schema.find("allOf"); all != schema.end()) {
    for (std::size_t i = 0; i < all->size(); ++i) {
      if (!eval(doc, (*all)[i], spath + "/allOf/" + std::to_string(i), inst, ipath, errors,
                &local)) {
        ok = false;
        if (errors == nullptr) return false;
      }
    }
  }
  if (const auto any = schema.find("anyOf"); any != schema.end()) {
    if (!eval_branches(doc, *any, spath + "/anyOf", inst, ipath, errors, local, false)) {
      ok = false;
      if (errors == nullptr) return false;
    }
  }
  if (const auto one = schema.find("oneOf"); one != schema.end()) {
    if (!eval_branches(doc, *one, spath + "/oneOf", inst, ipath, errors, local, true)) {
      ok = false;
      if (errors == nullptr) return false;
    }
  }
  if (const auto n = schema.find("not"); n != schema.end()) {
    if (eval(doc, *n, spath + "/not", inst, ipath, nullptr, nullptr)) {
      add(errors, ipath, spath + "/not", "matches a schema it must not match");
      ok = false;
      if (errors == nullptr) return false;
    }
  }
  if (const auto cond = schema.find("if"); cond != schema.end()) {
    Annotations if_annotations;
    const bool holds = eval(doc, *cond, spath + "/if", inst, ipath, nullptr, &if_annotations);
    if (holds) local.properties.merge(if_annotations.properties);
    const char* branch = holds ? "then" : "else";
    if (const auto b = schema.find(branch); b != schema.end()) {
      if (!eval(doc, *b, spath + "/" + branch, inst, ipath, errors, &local)) ok = false;
    }
  }
  return ok;
}

bool Evaluator::eval_object(const Doc& doc, const json& schema, const std::string& spath,
                            const json& inst, const std::string& ipath, Errors* errors,
                            Annotations& local) {
  bool ok = true;
  auto fail = [&](const std::string& kw, const std::string& path, std::string msg) {
    add(errors, path, spath + "/" + kw, std::move(msg));
    ok = false;
    return errors != nullptr;
  };
  if (const auto req = schema.find("required"); req != schema.end()) {
    for (const auto& name : *req) {
      if (name.is_string() && !inst.contains(name.get_ref<const std::string&>())) {
        if (!fail("required", ipath, "missing required property '" + name.get<std::string>() + "'"))
          return false;
      }
    }
  }
  if (const auto m = schema.find("minProperties");
      m != schema.end() && m->is_number() && static_cast<double>(inst.size()) < m->get<double>()) {
    if (!fail("minProperties", ipath, "fewer than " + m->dump() + " properties")) return false;
  }
  if (const auto m = schema.find("maxProperties");
      m != schema.end() && m->is_number() && static_cast<double>(inst.size()) > m->get<double>()) {
    if (!fail("maxProperties", ipath, "more than " + m->dump() + " properties")) return false;
  }
  if (const auto dr = schema.find("dependentRequired"); dr != schema.end() && dr->is_object()) {
    for (const auto& [name, needed] : dr->items()) {
      if (!inst.contains(name) || !needed.is_array()) continue;
      for (const auto& n : needed)
        if (n.is_string() && !inst.contains(n.get_ref<const std::string&>()))
          if (!fail("dependentRequired", ipath,
                    "'" + name + "' requires '" + n.get<std::string>() + "'"))
            return false;
    }
  }
  const auto props = schema.find("properties");
  const auto pattern_props = schema.find("patternProperties");
  const auto additional = schema.find("additionalProperties");
  const auto names = schema.find("propertyNames");
  for (const auto& [key, value] : inst.items()) {
    const auto child = ipath + "/" + escape_pointer_token(key);
    bool matched = false;
    if (names != schema.end() &&
        !eval(doc, *names, spath + "/propertyNames", json(key), child, errors, nullptr)) {
      ok = false;
      if (errors == nullptr) return false;
    }
    if (props != schema.end() && props->is_object()) {
      if (const auto sub = props->find(key); sub != props->end()) {
        matched = true;
        if (!eval(doc, *sub, spath + "/properties/" + escape_pointer_token(key), value, child,
                  errors, nullptr)) {
          ok = false;
          if (errors == nullptr) return false;
        }
      }
    }
    if (pattern_props != schema.end() && pattern_props->is_object()) {
      for (const auto& [pattern, sub] : pattern_props->items()) {
        const auto re = patterns_.find(pattern);
        if (re == patterns_.end()) {
          aborted_ = true;
          abort_reason_ = "pattern at " + spath + " was not compiled with its schema";
          return false;
        }
        if (key.size() > limits_.max_pattern_input || !std::regex_search(key, re->second)) continue;
        matched = true;
        if (!eval(doc, sub, spath + "/patternProperties/" + escape_pointer_token(pattern), value,
                  child, errors, nullptr)) {
          ok = false;
          if (errors == nullptr) return false;
        }
      }
    }
    if (!matched && additional != schema.end()) {
      matched = true;
      if (additional->is_boolean() && !additional->get<bool>()) {
        if (!fail("additionalProperties", child,
                  "property '" + detail::bounded(key, 80) + "' is not allowed here"))
          return false;
      } else if (!eval(doc, *additional, spath + "/additionalProperties", value, child, errors,
                       nullptr)) {
        ok = false;
        if (errors == nullptr) return false;
      }
    }
    if (matched) local.properties.insert(key);
  }
  if (const auto uneval = schema.find("unevaluatedProperties"); uneval != schema.end()) {
    for (const auto& [key, value] : inst.items()) {
      if (local.properties.count(key) != 0) continue;
      const auto child = ipath + "/" + escape_pointer_token(key);
      if (uneval->is_boolean() && !uneval->get<bool>()) {
        if (!fail("unevaluatedProperties", child,
                  "property '" + detail::bounded(key, 80) + "' is not allowed here"))
          return false;
      } else if (!eval(doc, *uneval, spath + "/unevaluatedProperties", value, child, errors,
                       nullptr)) {
        ok = false;
        if (errors == nullptr) return false;
      }
    }
    for (const auto& [key, value] : inst.items()) local.properties.insert(key);
  }
  return ok;
}

bool Evaluator::eval_array(const Doc& doc, const json& schema, const std::string& spath,
                           const json& inst, const std::string& ipath, Errors* errors) {
  bool ok = true;
  auto fail = [&](const std::string& kw, std::string msg) {
    add(errors, ipath, spath + "/" + kw, std::move(msg));
    ok = false;
    return errors != nullptr;
  };
  if (const auto m = schema.find("minItems");
      m != schema.end() && m->is_number() && static_cast<double>(inst.size()) < m->get<double>()) {
    if (!fail("minItems", "fewer than " + m->dump() + " items")) return false;
  }
  if (const auto m = schema.find("maxItems");
      m != schema.end() && m->is_number() && static_cast<double>(inst.size()) > m->get<double>()) {
    if (!fail("maxItems", "more than " + m->dump() + " items")) return false;
  }
  if (const auto u = schema.find("uniqueItems");
      u != schema.end() && u->is_boolean() && u->get<bool>()) {
    std::set<std::string> seen;
    for (const auto& item : inst) {
      if (!seen.insert(item.dump()).second) {
        if (!fail("uniqueItems", "items are not unique: " + short_dump(item))) return false;
        break;
      }
    }
  }
  // Tuple part: draft-07 "items": [..] with "additionalItems", or 2020-12 "prefixItems".
  std::size_t tuple_len = 0;
  const json* tuple = nullptr;
  const json* rest = nullptr;
  std::string rest_kw;
  const auto items = schema.find("items");
  if (const auto prefix = schema.find("prefixItems"); prefix != schema.end() && !doc.draft7) {
    tuple = &*prefix;
    if (items != schema.end()) rest = &*items, rest_kw = "items";
  } else if (items != schema.end() && items->is_array()) {
    tuple = &*items;
    if (const auto add_items = schema.find("additionalItems"); add_items != schema.end())
      rest = &*add_items, rest_kw = "additionalItems";
  } else if (items != schema.end()) {
    rest = &*items, rest_kw = "items";
  }
  if (tuple != nullptr) tuple_len = tuple->size();
  for (std::size_t i = 0; i < inst.size(); ++i) {
    const auto child = ipath + "/" + std::to_string(i);
    const json* sub = nullptr;
    std::string sub_path;
    if (i < tuple_len) {
      sub = &(*tuple)[i];
      sub_path = spath + (doc.draft7 ? "/items/" : "/prefixItems/") + std::to_string(i);
    } else if (rest != nullptr) {
      sub = rest;
      sub_path = spath + "/" + rest_kw;
    }
    if (sub != nullptr && !eval(doc, *sub, sub_path, inst[i], child, errors, nullptr)) {
      ok = false;
      if (errors == nullptr) return false;
    }
  }
  if (const auto contains = schema.find("contains"); contains != schema.end()) {
    const bool any = std::any_of(inst.begin(), inst.end(), [&](const json& item) {
      return eval(doc, *contains, spath + "/contains", item, ipath, nullptr, nullptr);
    });
    if (!any && !fail("contains", "no item matches the 'contains' schema")) return false;
  }
  return ok;
}

}  // namespace

Expected<std::vector<SchemaViolation>> SchemaSet::validate(const json& instance,
                                                           const std::string& uri,
                                                           const ValidationLimits& limits) const {
  const Doc* doc = impl_->find_doc(uri);
  if (doc == nullptr) return Error("no schema loaded for " + uri);
  Evaluator evaluator(impl_->by_uri, impl_->patterns, limits);
  Errors errors;
  auto ran = detail::run_on_big_stack(
      [&] { evaluator.eval(*doc, doc->root, "#", instance, "", &errors, nullptr); });
  if (!ran) return ran.error();
  if (evaluator.aborted()) return Error(evaluator.abort_reason());
  if (errors.size() > limits.max_violations) errors.resize(limits.max_violations);
  return errors;
}

}  // namespace mlsc::bom
