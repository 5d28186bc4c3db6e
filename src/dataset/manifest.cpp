// Dataset manifests: hashing a directory with the signing module's parallel engine, the Merkle
// root over the sorted leaves, and the in-toto statement both ways.
#include "mlsc/dataset/manifest.hpp"

#include <algorithm>
#include <ctime>
#include <map>
#include <unordered_map>

#include "mlsc/core/mapped_file.hpp"
#include "mlsc/core/merkle.hpp"
#include "mlsc/core/text.hpp"
#include "mlsc/dataset/croissant.hpp"
#include "mlsc/dataset/url_list.hpp"
#include "mlsc/sign/hashing.hpp"
#include "mlsc/sign/statement_bundle.hpp"

namespace mlsc::dataset {

namespace {

using json = nlohmann::json;

std::string now_rfc3339() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

std::string base_name(const fs::path& dir) {
  std::error_code ec;
  const fs::path abs = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  const std::string name = abs.filename().string();
  return name.empty() ? abs.string() : name;
}

// The directory hashed into `m.files` (sorted); an empty tree is allowed here, refused by the
// caller that builds a new manifest.
Expected<void> hash_directory(const fs::path& dir, const ManifestOptions& o, DatasetManifest& m) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error{dir.string() + ": not a directory"};
  sign::HashOptions h;
  h.hash = sign::HashType::sha256;
  h.method = sign::Method::files;
  h.allow_symlinks = o.allow_symlinks;
  h.ignore_paths = o.ignore_paths;
  h.signature = o.exclude;
  h.allow_empty = true;
  h.threads = o.threads;
  h.progress = o.progress;
  auto hashed = sign::hash_model(dir, h);
  if (!hashed) return hashed.error();
  std::unordered_map<std::string, std::uint64_t> sizes;
  for (const auto& f : hashed->files) sizes[f.name] = f.stamp.size;
  m.files.clear();
  m.files.reserve(hashed->resources.size());
  for (const auto& r : hashed->resources) {
    m.files.push_back({r.name, sizes[r.name], r.digest.hex()});
    m.bytes_hashed += sizes[r.name];
  }
  m.warnings.insert(m.warnings.end(), hashed->warnings.begin(), hashed->warnings.end());
  return {};
}

std::vector<std::string> canonical_ignores(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    if (auto c = sign::canonical_relative_path(p)) out.push_back(*c);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void read_croissant_metadata(const fs::path& dir, DatasetManifest& m) {
  const auto file = find_croissant(dir);
  if (!file) return;
  m.croissant = file->filename().string();
  std::string text;
  auto doc = [&]() -> Expected<CroissantDoc> {
    std::error_code ec;
    const auto size = fs::file_size(*file, ec);
    if (ec || size > kMaxCroissantBytes) return Error{"unreadable or larger than 64 MiB"};
    auto mapped = MappedFile::open(file->string());
    if (!mapped) return mapped.error();
    return parse_croissant(as_chars(mapped->bytes()));
  }();
  if (!doc) {
    m.errors.push_back(m.croissant + ": " + doc.error().describe());
    return;
  }
  for (auto& e : check_croissant(*doc, m, dir)) m.errors.push_back(m.croissant + ": " + e);
}

bool is_hex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// One entry of either kind, for the diff.
struct Entry {
  std::string_view sha256;
  std::optional<std::uint64_t> size;
};

std::map<std::string_view, Entry> entries_of(const DatasetManifest& m) {
  std::map<std::string_view, Entry> out;
  for (const auto& f : m.files) out.emplace(f.path, Entry{f.sha256, f.size});
  for (const auto& r : m.records) out.emplace(r.url, Entry{r.sha256, r.size});
  return out;
}

const json* member(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

Expected<std::string> string_member(const json& j, const char* key, bool required) {
  const json* v = member(j, key);
  if (!v) {
    if (required) return Error{std::string("missing '") + key + "'"};
    return std::string();
  }
  if (!v->is_string()) return Error{std::string("'") + key + "' is not a string"};
  return v->get<std::string>();
}

Expected<std::optional<std::uint64_t>> size_member(const json& j) {
  const json* v = member(j, "size");
  if (!v) return std::optional<std::uint64_t>();
  if (!v->is_number_unsigned()) return Error{"'size' is not a non-negative integer"};
  return std::optional<std::uint64_t>(v->get<std::uint64_t>());
}

Expected<DatasetFile> file_from_json(const json& j) {
  auto path = string_member(j, "path", true);
  if (!path) return path.error();
  const auto canonical = sign::canonical_relative_path(*path);
  if (!canonical || *canonical != *path || has_control(*path)) {
    return Error{"file path '" + *path + "' is not a canonical relative path"};
  }
  auto sha = string_member(j, "sha256", true);
  if (!sha) return sha.error();
  if (!is_hex64(*sha)) return Error{*path + ": sha256 is not 64 lowercase hex digits"};
  auto size = size_member(j);
  if (!size) return size.error();
  if (!*size) return Error{*path + ": missing 'size'"};
  return DatasetFile{*path, **size, *sha};
}

Expected<DatasetRecord> record_from_json(const json& j) {
  auto url = string_member(j, "url", true);
  if (!url) return url.error();
  if (url->empty() || url->size() > kMaxUrlBytes || has_control(*url)) {
    return Error{"record url is empty, too long or has control characters"};
  }
  auto sha = string_member(j, "sha256", true);
  if (!sha) return sha.error();
  if (!is_hex64(*sha)) return Error{*url + ": sha256 is not 64 lowercase hex digits"};
  auto size = size_member(j);
  if (!size) return size.error();
  auto path = string_member(j, "path", false);
  if (!path) return path.error();
  if (!path->empty()) {
    const auto canonical = sign::canonical_relative_path(*path);
    if (!canonical || *canonical != *path || has_control(*path)) {
      return Error{*url + ": path '" + *path + "' is not a canonical relative path"};
    }
  }
  return DatasetRecord{*url, *sha, *size, *path};
}

template <class T, class F>
Expected<std::vector<T>> array_of(const json& predicate, const char* key, F parse) {
  std::vector<T> out;
  const json* arr = member(predicate, key);
  if (!arr) return out;
  if (!arr->is_array()) return Error{std::string("predicate.") + key + " is not an array"};
  out.reserve(arr->size());
  for (std::size_t i = 0; i < arr->size(); ++i) {
    auto v = parse((*arr)[i]);
    if (!v)
      return Error{std::string("predicate.") + key + "[" + std::to_string(i) +
                   "]: " + v.error().message};
    out.push_back(std::move(*v));
  }
  return out;
}

Expected<void> read_predicate_texts(const json& p, DatasetManifest& m) {
  for (auto [key, dest] :
       {std::pair{"name", &m.name}, std::pair{"source", &m.source},
        std::pair{"croissant", &m.croissant}, std::pair{"createdOn", &m.created_on}}) {
    auto v = string_member(p, key, false);
    if (!v) return Error{std::string("predicate: ") + v.error().message};
    if (!v->empty()) *dest = *v;
  }
  const json* ignores = member(p, "ignorePaths");
  if (!ignores) return {};
  if (!ignores->is_array()) return Error{"predicate.ignorePaths is not an array"};
  for (const auto& i : *ignores) {
    if (!i.is_string()) return Error{"predicate.ignorePaths holds a non-string"};
    const auto c = sign::canonical_relative_path(i.get<std::string>());
    if (!c) return Error{"predicate.ignorePaths holds a path that is not relative"};
    m.ignore_paths.push_back(*c);
  }
  return {};
}

}  // namespace

std::string leaf_entry(std::string_view key, std::string_view sha256_hex) {
  std::string e;
  e.reserve(key.size() + 1 + sha256_hex.size());
  e.append(key);
  e.push_back('\0');
  e.append(sha256_hex);
  return e;
}

std::string merkle_root(const std::vector<DatasetFile>& files,
                        const std::vector<DatasetRecord>& records) {
  std::vector<std::pair<std::string_view, std::string_view>> leaves;
  leaves.reserve(files.size() + records.size());
  for (const auto& f : files) leaves.emplace_back(f.path, f.sha256);
  for (const auto& r : records) leaves.emplace_back(r.url, r.sha256);
  std::sort(leaves.begin(), leaves.end());
  std::vector<merkle::Hash> hashes;
  hashes.reserve(leaves.size());
  for (const auto& [key, sha] : leaves)
    hashes.push_back(merkle::leaf_hash(as_bytes(leaf_entry(key, sha))));
  const merkle::Hash root = merkle::root(hashes);
  return sign::Digest::of(ByteView(root.data(), root.size())).hex();
}

Expected<void> finalize(DatasetManifest& m) {
  // The statement is JSON: every text in it must be UTF-8 to be written losslessly.
  for (const auto* t : {&m.name, &m.source, &m.croissant, &m.created_on}) {
    if (!is_valid_utf8(*t)) return Error{"name, source or date is not valid UTF-8"};
  }
  for (const auto& r : m.records) {
    if (!is_valid_utf8(r.url) || !is_valid_utf8(r.path))
      return Error{"a record url or path is not valid UTF-8"};
  }
  for (const auto& f : m.files) {
    if (!is_valid_utf8(f.path)) return Error{"file path is not valid UTF-8: " + f.path};
  }
  std::sort(m.files.begin(), m.files.end(),
            [](const DatasetFile& a, const DatasetFile& b) { return a.path < b.path; });
  std::sort(m.records.begin(), m.records.end(),
            [](const DatasetRecord& a, const DatasetRecord& b) { return a.url < b.url; });
  for (std::size_t i = 1; i < m.files.size(); ++i) {
    if (m.files[i].path == m.files[i - 1].path)
      return Error{"duplicate file path: " + m.files[i].path};
  }
  for (std::size_t i = 1; i < m.records.size(); ++i) {
    if (m.records[i].url == m.records[i - 1].url)
      return Error{"duplicate record url: " + m.records[i].url};
  }
  m.merkle_root = merkle_root(m.files, m.records);
  return {};
}

Expected<DatasetManifest> build_manifest(const fs::path& dir, const ManifestOptions& options) {
  DatasetManifest m;
  m.name = options.name.empty() ? base_name(dir) : options.name;
  m.source = options.source;
  m.created_on = options.created_on.empty() ? now_rfc3339() : options.created_on;
  m.ignore_paths = canonical_ignores(options.ignore_paths);
  auto hashed = hash_directory(dir, options, m);
  if (!hashed) return hashed.error();
  if (m.files.empty())
    return Error{dir.string() + ": the dataset has no regular file (after exclusions)"};
  if (options.read_croissant) read_croissant_metadata(dir, m);
  auto ok = finalize(m);
  if (!ok) return ok.error();
  return m;
}

nlohmann::ordered_json to_statement(const DatasetManifest& m) {
  using ojson = nlohmann::ordered_json;
  ojson files = ojson::array();
  for (const auto& f : m.files)
    files.push_back({{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
  ojson records = ojson::array();
  for (const auto& r : m.records) {
    ojson rec = {{"url", r.url}, {"sha256", r.sha256}};
    if (r.size) rec["size"] = *r.size;
    if (!r.path.empty()) rec["path"] = r.path;
    records.push_back(std::move(rec));
  }
  ojson predicate = {{"name", m.name}, {"createdOn", m.created_on}};
  if (!m.source.empty()) predicate["source"] = m.source;
  if (!m.croissant.empty()) predicate["croissant"] = m.croissant;
  predicate["merkleTree"] = {{"algorithm", "rfc6962-sha256"},
                             {"leaf", "<path or url> NUL <sha256 hex>, sorted bytewise"},
                             {"leaves", m.files.size() + m.records.size()}};
  predicate["ignorePaths"] = m.ignore_paths;
  predicate["files"] = std::move(files);
  predicate["records"] = std::move(records);
  return {{"_type", sign::kInTotoStatementV1},
          {"subject", ojson::array({{{"name", m.name}, {"digest", {{"sha256", m.merkle_root}}}}})},
          {"predicateType", kPredicateType},
          {"predicate", std::move(predicate)}};
}

Expected<DatasetManifest> manifest_from_statement(const nlohmann::json& statement) {
  if (!statement.is_object()) return Error{"statement is not a JSON object"};
  auto type = string_member(statement, "predicateType", true);
  if (!type) return Error{"statement: " + type.error().message};
  if (*type != kPredicateType)
    return Error{"statement predicateType is '" + *type + "', not " + std::string(kPredicateType)};
  const json* subject = member(statement, "subject");
  if (!subject || !subject->is_array() || subject->size() != 1) {
    return Error{"statement must have exactly one subject"};
  }
  const json* digest = member((*subject)[0], "digest");
  auto root =
      digest ? string_member(*digest, "sha256", true) : Expected<std::string>(Error{"no digest"});
  if (!root || !is_hex64(*root)) return Error{"subject has no lowercase hex sha256 digest"};
  const json* predicate = member(statement, "predicate");
  if (!predicate || !predicate->is_object()) return Error{"statement has no predicate object"};
  DatasetManifest m;
  auto texts = read_predicate_texts(*predicate, m);
  if (!texts) return texts.error();
  auto subject_name = string_member((*subject)[0], "name", false);
  if (subject_name && !subject_name->empty()) m.name = *subject_name;
  auto files = array_of<DatasetFile>(*predicate, "files", file_from_json);
  if (!files) return files.error();
  auto records = array_of<DatasetRecord>(*predicate, "records", record_from_json);
  if (!records) return records.error();
  m.files = std::move(*files);
  m.records = std::move(*records);
  auto ok = finalize(m);
  if (!ok) return Error{"predicate: " + ok.error().message};
  if (m.merkle_root != *root) {
    return Error{"subject digest " + *root + " is not the Merkle root of the listed entries (" +
                 m.merkle_root + ")"};
  }
  return m;
}

DatasetDiff diff_manifests(const DatasetManifest& a, const DatasetManifest& b) {
  const auto ea = entries_of(a);
  const auto eb = entries_of(b);
  DatasetDiff d;
  for (const auto& [key, e] : ea) {
    auto it = eb.find(key);
    if (it == eb.end()) {
      d.removed.emplace_back(key);
    } else if (it->second.sha256 != e.sha256) {
      d.changed.push_back({std::string(key), std::string(e.sha256), std::string(it->second.sha256),
                           e.size, it->second.size});
    }
  }
  for (const auto& [key, e] : eb) {
    if (!ea.contains(key)) d.added.emplace_back(key);
  }
  return d;
}

Expected<DatasetDiff> verify_directory(const fs::path& dir, const DatasetManifest& m) {
  return verify_directory(dir, m, ManifestOptions{});
}

Expected<DatasetDiff> verify_directory(const fs::path& dir, const DatasetManifest& m,
                                       const ManifestOptions& options) {
  ManifestOptions o = options;
  o.ignore_paths.insert(o.ignore_paths.end(), m.ignore_paths.begin(), m.ignore_paths.end());
  DatasetManifest now;
  auto hashed = hash_directory(dir, o, now);
  if (!hashed) return hashed.error();
  now.records = m.records;  // URL records are not files of the directory
  return diff_manifests(m, now);
}

}  // namespace mlsc::dataset
