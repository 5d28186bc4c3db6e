#include "mlsc/sign/statement.hpp"

#include <cmath>
#include <unordered_set>

namespace mlsc::sign {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

constexpr std::string_view kV01ModelName = "compat-undefined-not-present";  // as the reference names it

Error bad(const std::string& where, const std::string& what) { return Error{"statement: " + where + ": " + what}; }

const json* member(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

Expected<std::string> string_at(const json& obj, const char* key, const std::string& where) {
  const json* v = member(obj, key);
  if (v == nullptr || !v->is_string()) return bad(where + "." + key, "missing or not a string");
  return v->get<std::string>();
}

Expected<Digest> digest_at(const json& obj, const char* key, const std::string& where, std::size_t size) {
  auto hex = string_at(obj, key, where);
  if (!hex) return hex.error();
  auto d = Digest::from_hex(*hex);
  if (!d || d->size != size) {
    return bad(where + "." + key, "not a " + std::to_string(2 * size) + "-digit lowercase hex digest");
  }
  return *d;
}

// shard_size is an integer in the spec, but the reference's protobuf Struct stores numbers as
// doubles and writes 1000000000.0: accept any positive integral value that fits.
Expected<std::uint64_t> shard_size_of(const json& ser) {
  const json* v = member(ser, "shard_size");
  if (v == nullptr) return bad("serialization.shard_size", "missing for method \"shards\"");
  if (v->is_number_unsigned()) {
    if (v->get<std::uint64_t>() > 0) return v->get<std::uint64_t>();
  } else if (v->is_number_integer() && v->get<std::int64_t>() > 0) {
    return static_cast<std::uint64_t>(v->get<std::int64_t>());
  }
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (d >= 1 && d <= 9007199254740992.0 && std::floor(d) == d) return static_cast<std::uint64_t>(d);
  }
  return bad("serialization.shard_size", "not a positive integer");
}

struct Serialization {
  Method method = Method::files;
  HashType hash = HashType::sha256;
  std::uint64_t shard_size = 0;
  bool allow_symlinks = false;
  std::vector<std::string> ignore_paths;
};

Expected<std::vector<std::string>> ignore_paths_of(const json& ser) {
  std::vector<std::string> out;
  const json* v = member(ser, "ignore_paths");
  if (v == nullptr) return out;
  if (!v->is_array()) return bad("serialization.ignore_paths", "not an array");
  for (const auto& p : *v) {
    if (!p.is_string()) return bad("serialization.ignore_paths", "entry is not a string");
    out.push_back(p.get<std::string>());
  }
  return out;
}

Expected<Serialization> serialization_of(const json& predicate) {
  const json* ser = member(predicate, "serialization");
  if (ser == nullptr || !ser->is_object()) return bad("predicate.serialization", "missing or not an object");
  Serialization s;
  auto method = string_at(*ser, "method", "serialization");
  if (!method) return method.error();
  if (*method != "files" && *method != "shards") return bad("serialization.method", "unknown method \"" + *method + "\"");
  s.method = *method == "files" ? Method::files : Method::shards;
  auto hash = string_at(*ser, "hash_type", "serialization");
  if (!hash) return hash.error();
  const auto type = parse_hash_type(*hash);
  if (!type) return bad("serialization.hash_type", "unsupported hash \"" + *hash + "\"");
  s.hash = *type;
  const json* links = member(*ser, "allow_symlinks");
  if (links == nullptr || !links->is_boolean()) return bad("serialization.allow_symlinks", "missing or not a boolean");
  s.allow_symlinks = links->get<bool>();
  if (s.method == Method::shards) {
    auto size = shard_size_of(*ser);
    if (!size) return size.error();
    s.shard_size = *size;
  }
  auto ignores = ignore_paths_of(*ser);
  if (!ignores) return ignores.error();
  s.ignore_paths = std::move(*ignores);
  return s;
}

bool valid_path_name(std::string_view path) {
  if (path == ".") return true;
  const auto c = canonical_relative_path(path);
  return c && *c == path;
}

// A resource name must be what a signer would have written: a canonical relative path ("."
// for a single-file model), plus for shards a range on the shard grid.
Expected<void> check_name(const std::string& name, const Serialization& s, const std::string& where) {
  if (s.method == Method::files) {
    if (!valid_path_name(name)) return bad(where + ".name", "not a canonical relative path: \"" + name + "\"");
    return {};
  }
  const auto shard = parse_shard_name(name);
  if (!shard || !valid_path_name(shard->path)) return bad(where + ".name", "not a \"path:start:end\" shard: \"" + name + "\"");
  if (shard->start % s.shard_size != 0 || shard->end - shard->start > s.shard_size) {
    return bad(where + ".name", "shard range does not fit shard_size " + std::to_string(s.shard_size));
  }
  return {};
}

Expected<Resource> resource_of(const json& r, const Serialization& s, const std::string& where) {
  if (!r.is_object()) return bad(where, "not an object");
  Resource res;
  auto name = string_at(r, "name", where);
  if (!name) return name.error();
  res.name = std::move(*name);
  if (auto ok = check_name(res.name, s, where); !ok) return ok.error();
  auto alg = string_at(r, "algorithm", where);
  if (!alg) return alg.error();
  const bool plain = *alg == to_string(s.hash);
  if (!plain && !(s.method == Method::shards && *alg == shard_algorithm(s.hash, s.shard_size))) {
    return bad(where + ".algorithm", "\"" + *alg + "\" does not match hash_type " + std::string(to_string(s.hash)));
  }
  res.algorithm = std::move(*alg);
  auto digest = digest_at(r, "digest", where, digest_size(s.hash));
  if (!digest) return digest.error();
  res.digest = *digest;
  return res;
}

Expected<std::vector<Resource>> resources_of(const json& predicate, const Serialization& s) {
  const json* list = member(predicate, "resources");
  if (list == nullptr || !list->is_array()) return bad("predicate.resources", "missing or not an array");
  std::vector<Resource> out;
  std::unordered_set<std::string> seen;
  bool single_file = false;
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto r = resource_of((*list)[i], s, "resources[" + std::to_string(i) + "]");
    if (!r) return r.error();
    if (!seen.insert(r->name).second) return bad("resources", "duplicate resource \"" + r->name + "\"");
    const auto shard = parse_shard_name(r->name);
    single_file = single_file || r->name == "." || (shard && shard->path == ".");
    out.push_back(std::move(*r));
  }
  if (single_file && s.method == Method::files && out.size() != 1) {
    return bad("resources", "\".\" names a single-file model, which has no other resources");
  }
  return out;
}

Expected<Manifest> parse_v1(const json& doc) {
  const json* subjects = member(doc, "subject");
  if (subjects == nullptr || !subjects->is_array() || subjects->size() != 1) {
    return bad("subject", "must be an array of exactly one model");
  }
  auto name = string_at((*subjects)[0], "name", "subject[0]");
  if (!name) return name.error();
  if (name->empty()) return bad("subject[0].name", "empty");
  const json* digest_set = member((*subjects)[0], "digest");
  if (digest_set == nullptr) return bad("subject[0].digest", "missing");
  auto subject_digest = digest_at(*digest_set, "sha256", "subject[0].digest", 32);
  if (!subject_digest) return subject_digest.error();
  const json* predicate = member(doc, "predicate");
  if (predicate == nullptr || !predicate->is_object()) return bad("predicate", "missing or not an object");
  auto s = serialization_of(*predicate);
  if (!s) return s.error();
  auto resources = resources_of(*predicate, *s);
  if (!resources) return resources.error();

  Manifest m;
  m.model_name = std::move(*name);
  m.method = s->method;
  m.hash = s->hash;
  m.shard_size = s->shard_size;
  m.allow_symlinks = s->allow_symlinks;
  m.ignore_paths = std::move(s->ignore_paths);
  m.resources = std::move(*resources);
  auto root = m.root_digest();
  if (!root) return root.error();
  if (*root != *subject_digest) {
    return bad("subject[0].digest", "sha256 " + subject_digest->hex() + " does not match the resources (" +
                                        root->hex() + "): the manifest is inconsistent");
  }
  return m;
}

// Reference v0.2.0: each file is a subject with its sha256; nothing else to check.
Expected<Manifest> parse_v01(const json& doc) {
  const json* subjects = member(doc, "subject");
  if (subjects == nullptr || !subjects->is_array()) return bad("subject", "missing or not an array");
  Serialization s;
  Manifest m;
  m.model_name = kV01ModelName;
  for (std::size_t i = 0; i < subjects->size(); ++i) {
    const std::string where = "subject[" + std::to_string(i) + "]";
    auto name = string_at((*subjects)[i], "name", where);
    if (!name) return name.error();
    if (auto ok = check_name(*name, s, where); !ok) return ok.error();
    const json* set = member((*subjects)[i], "digest");
    if (set == nullptr) return bad(where + ".digest", "missing");
    auto d = digest_at(*set, "sha256", where + ".digest", 32);
    if (!d) return d.error();
    m.resources.push_back({std::move(*name), "sha256", *d});
  }
  return m;
}

}  // namespace

Expected<ordered_json> to_statement(const Manifest& m) {
  if (m.model_name.empty()) return Error{"statement: the model name is empty"};
  auto root = m.root_digest();
  if (!root) return root.error();
  ordered_json ser = ordered_json::object();
  ser["method"] = to_string(m.method);
  ser["hash_type"] = to_string(m.hash);
  ser["allow_symlinks"] = m.allow_symlinks;
  if (m.method == Method::shards) ser["shard_size"] = m.shard_size;
  if (!m.ignore_paths.empty()) {
    std::vector<std::string> ignores = m.ignore_paths;
    std::sort(ignores.begin(), ignores.end());
    ser["ignore_paths"] = ignores;
  }
  ordered_json resources = ordered_json::array();
  for (const auto& r : m.resources) {
    ordered_json o = ordered_json::object();
    o["algorithm"] = r.algorithm;
    o["digest"] = r.digest.hex();
    o["name"] = r.name;
    resources.push_back(std::move(o));
  }
  ordered_json subject = ordered_json::object();
  subject["name"] = m.model_name;
  subject["digest"] = ordered_json::object({{"sha256", root->hex()}});
  ordered_json doc = ordered_json::object();
  doc["_type"] = kStatementType;
  doc["subject"] = ordered_json::array({subject});
  doc["predicateType"] = kPredicateType;
  doc["predicate"] = ordered_json::object();
  doc["predicate"]["serialization"] = std::move(ser);
  doc["predicate"]["resources"] = std::move(resources);
  return doc;
}

Expected<std::string> statement_json(const Manifest& m, int indent) {
  auto doc = to_statement(m);
  if (!doc) return doc.error();
  try {
    return doc->dump(indent);
  } catch (const nlohmann::json::exception&) {
    return Error{"statement: a name is not valid UTF-8"};
  }
}

Expected<Manifest> parse_statement(std::string_view text) {
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error{"statement: not valid JSON"};
  return parse_statement_document(doc);
}

Expected<Manifest> parse_statement_document(const json& doc) {
  if (!doc.is_object()) return bad("document", "not a JSON object");
  auto type = string_at(doc, "_type", "statement");
  if (!type) return type.error();
  if (*type != kStatementType) return bad("_type", "expected " + std::string(kStatementType) + ", got " + *type);
  auto predicate_type = string_at(doc, "predicateType", "statement");
  if (!predicate_type) return predicate_type.error();
  if (*predicate_type == kPredicateType) return parse_v1(doc);
  if (*predicate_type == kPredicateTypeV01) return parse_v01(doc);
  return bad("predicateType", "unsupported predicate type " + *predicate_type);
}

}  // namespace mlsc::sign
