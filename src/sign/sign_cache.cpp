#include "mlsc/sign/sign_cache.hpp"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "mlsc/sign/bundle.hpp"
#include "mlsc/sign/dsse.hpp"
#include "mlsc/sign/statement.hpp"

namespace mlsc::sign {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kVersion = 1;

std::string sha256_hex(std::string_view bytes) {
  auto d = hash_bytes(HashType::sha256, as_bytes(bytes));
  return d ? d->hex() : std::string();
}

Expected<FileRecord> record_of(const json& row) {
  if (!row.is_array() || row.size() != 6 || !row[0].is_string())
    return Error{"cache: malformed file entry"};
  for (std::size_t i = 1; i < 6; ++i) {
    if (!row[i].is_number_integer()) return Error{"cache: malformed file entry"};
  }
  FileRecord r;
  r.name = row[0].get<std::string>();
  r.stamp.size = row[1].get<std::uint64_t>();
  r.stamp.mtime_ns = row[2].get<std::int64_t>();
  r.stamp.ctime_ns = row[3].get<std::int64_t>();
  r.stamp.dev = row[4].get<std::uint64_t>();
  r.stamp.ino = row[5].get<std::uint64_t>();
  return r;
}

// The previous signature's resources grouped by file, each file's in shard order.
std::map<std::string, std::vector<const Resource*>, std::less<>> resources_by_file(
    const Manifest& m) {
  std::map<std::string, std::vector<const Resource*>, std::less<>> out;
  for (const auto& r : m.resources) {
    if (m.method == Method::files) {
      out[r.name].push_back(&r);
    } else if (auto shard = parse_shard_name(r.name)) {
      out[std::string(shard->path)].push_back(&r);
    }
  }
  if (m.method == Method::shards) {
    for (auto& [name, list] : out) {
      std::sort(list.begin(), list.end(), [](const Resource* a, const Resource* b) {
        return parse_shard_name(a->name)->start < parse_shard_name(b->name)->start;
      });
    }
  }
  return out;
}

Expected<Manifest> verified_statement(std::string_view signature_text, const PublicKey& signer) {
  auto bundle = parse_bundle(signature_text);
  if (!bundle) return bundle.error();
  const DsseEnvelope& env = bundle->envelope;
  const std::string pae = dsse_pae(env.payload_type, env.payload);
  const bool verifies = std::any_of(
      env.signatures.begin(), env.signatures.end(),
      [&](const DsseSignature& s) { return bool(signer.verify(as_bytes(pae), s.sig)); });
  if (!verifies) return Error{"the previous signature does not verify with this key"};
  if (json_nesting_exceeds(as_chars(env.payload), kMaxBundleDepth))
    return Error{"statement nested too deeply"};
  return parse_statement(as_chars(env.payload));
}

}  // namespace

Expected<void> write_sign_cache(const fs::path& cache, const Manifest& m,
                                std::string_view signature_bytes, std::int64_t hashing_started_ns) {
  json files = json::array();
  for (const auto& f : m.files) {
    if (f.stamp.mtime_ns >= hashing_started_ns - kRacyWindowNs) continue;
    files.push_back(json::array(
        {f.name, f.stamp.size, f.stamp.mtime_ns, f.stamp.ctime_ns, f.stamp.dev, f.stamp.ino}));
  }
  json doc = {{"format", kSignCacheFormat},
              {"version", kVersion},
              {"signature_sha256", sha256_hex(signature_bytes)},
              {"hash_type", to_string(m.hash)},
              {"method", to_string(m.method)},
              {"shard_size", m.shard_size},
              {"files", std::move(files)}};
  std::string text;
  try {
    text = doc.dump();
  } catch (const json::exception&) {
    return Error{"cache: a file name is not valid UTF-8"};
  }
  return write_file_atomically(cache, text);
}

Expected<PriorDigests> load_prior_digests(const fs::path& previous_signature, const fs::path& cache,
                                          const PublicKey& signer) {
  auto signature_text = read_small_file(previous_signature, kMaxBundleBytes);
  if (!signature_text) return signature_text.error();
  auto cache_text = read_small_file(cache, kMaxSignCacheBytes);
  if (!cache_text)
    return Error{"no cache from the previous signature (" + cache_text.error().message + ")"};
  if (json_nesting_exceeds(*cache_text, 8)) return Error{cache.string() + ": not a signing cache"};
  const json doc = json::parse(*cache_text, nullptr, false);
  if (!doc.is_object() || doc.value("format", "") != kSignCacheFormat ||
      doc.value("version", 0) != kVersion || !doc.contains("files") || !doc["files"].is_array()) {
    return Error{cache.string() + ": not a signing cache of this mlsc version"};
  }
  if (doc.value("signature_sha256", "") != sha256_hex(*signature_text)) {
    return Error{cache.string() + ": belongs to another signature than " +
                 previous_signature.string()};
  }
  auto statement = verified_statement(*signature_text, signer);
  if (!statement) return Error{previous_signature.string() + ": " + statement.error().message};

  PriorDigests prior;
  prior.hash = statement->hash;
  prior.method = statement->method;
  prior.shard_size = statement->shard_size;
  const auto by_file = resources_by_file(*statement);
  for (const auto& row : doc["files"]) {
    auto rec = record_of(row);
    if (!rec) return Error{cache.string() + ": " + rec.error().message};
    const auto it = by_file.find(rec->name);
    if (it == by_file.end()) continue;
    PriorDigests::File f{rec->stamp, {}};
    for (const Resource* r : it->second) f.digests.push_back(r->digest);
    prior.files.emplace(std::move(rec->name), std::move(f));
  }
  return prior;
}

}  // namespace mlsc::sign
