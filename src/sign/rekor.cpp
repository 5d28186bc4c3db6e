#include "rekor.hpp"

#include <algorithm>

#include "mlsc/core/base64.hpp"
#include "mlsc/core/merkle.hpp"
#include "rekor_checkpoint.hpp"
#include "sigstore_crypto.hpp"
#include "sigstore_json.hpp"

namespace mlsc::sign {
namespace {

namespace sj = sigstore_json;
using Json = nlohmann::json;

constexpr std::size_t kMaxSetBytes = 1024;
// Year 9999: keeps every later conversion to time_t and arithmetic on times in range.
constexpr std::int64_t kMaxTime = 253402300799;

const TransparencyLogKey* find_log(const TrustedRoot& root,
                                   const std::vector<std::uint8_t>& log_id) {
  for (const auto& log : root.tlogs) {
    if (log.log_id == log_id) return &log;
  }
  return nullptr;
}

Expected<void> verify_set(const Json& entry, const VerifiedRekorEntry& out,
                          const std::string& path) {
  auto promise = sj::required_object(entry, "inclusionPromise", path);
  if (!promise) return promise.error();
  auto set = sj::required_bytes(**promise, "signedEntryTimestamp", path + ".inclusionPromise",
                                kMaxSetBytes);
  if (!set) return set.error();
  const std::string payload =
      signed_entry_timestamp_payload(out.body, out.integrated_time, out.log->log_id, out.log_index);
  auto ok = sigstore_crypto::verify_signature(out.log->public_key_der, out.log->key_details,
                                              as_bytes(payload), *set, "signed entry timestamp");
  if (!ok) return Error{path + ".inclusionPromise: " + ok.error().message};
  return {};
}

Expected<merkle::Hash> hash_field(const Json& obj, std::string_view key, const std::string& path) {
  auto bytes = sj::required_bytes(obj, key, path, 32);
  if (!bytes) return bytes.error();
  if (bytes->size() != 32)
    return Error{path + "." + std::string(key) + ": not a 32-byte SHA-256 hash"};
  merkle::Hash h{};
  std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

Expected<void> verify_inclusion_proof(const Json& proof, const VerifiedRekorEntry& out,
                                      const std::string& path) {
  auto index = sj::required_int64(proof, "logIndex", path);
  if (!index) return index.error();
  auto size = sj::required_int64(proof, "treeSize", path);
  if (!size) return size.error();
  auto root = hash_field(proof, "rootHash", path);
  if (!root) return root.error();
  auto hashes_json = sj::required_array(proof, "hashes", path, merkle::kMaxProofHashes);
  if (!hashes_json) return hashes_json.error();
  std::vector<merkle::Hash> hashes;
  for (std::size_t i = 0; i < (*hashes_json)->size(); ++i) {
    const std::string hpath = path + ".hashes[" + std::to_string(i) + "]";
    const Json& h = (**hashes_json)[i];
    if (!h.is_string()) return Error{hpath + ": expected a string"};
    auto bytes = sj::decode_bytes(h.get_ref<const std::string&>(), hpath, 32);
    if (!bytes) return bytes.error();
    if (bytes->size() != 32) return Error{hpath + ": not a 32-byte SHA-256 hash"};
    merkle::Hash mh{};
    std::copy(bytes->begin(), bytes->end(), mh.begin());
    hashes.push_back(mh);
  }

  // The tree head must be one the log signed, before any proof against it means anything.
  auto cp_obj = sj::required_object(proof, "checkpoint", path);
  if (!cp_obj) return cp_obj.error();
  auto note = sj::required_string(**cp_obj, "envelope", path + ".checkpoint", kMaxCheckpointChars);
  if (!note) return note.error();
  auto cp = parse_checkpoint(*note);
  if (!cp) return Error{path + ".checkpoint: " + cp.error().message};
  auto signed_ok = verify_checkpoint_signature(*cp, *out.log);
  if (!signed_ok) return Error{path + ".checkpoint: " + signed_ok.error().message};
  if (cp->tree_size != static_cast<std::uint64_t>(*size)) {
    return Error{path + ": tree size " + std::to_string(*size) +
                 " differs from the signed checkpoint's " + std::to_string(cp->tree_size)};
  }
  if (cp->root_hash != *root)
    return Error{path + ": root hash differs from the signed checkpoint's"};

  const merkle::Hash leaf = merkle::leaf_hash(out.body);
  auto included = merkle::verify_inclusion(static_cast<std::uint64_t>(*index),
                                           static_cast<std::uint64_t>(*size), leaf, hashes, *root);
  if (!included) return Error{path + ": " + included.error().message};
  return {};
}

// kindVersion must name what the body says it is, so the body is matched by the right rules.
Expected<void> parse_body(const Json& entry, VerifiedRekorEntry& out, const std::string& path) {
  auto body = sj::required_bytes(entry, "canonicalizedBody", path, kMaxRekorBodyBytes);
  if (!body) return body.error();
  out.body = std::move(*body);
  auto parsed =
      sj::parse_bounded(as_chars(out.body), path + ".canonicalizedBody", kMaxRekorBodyBytes);
  if (!parsed) return parsed.error();
  out.body_json = std::move(*parsed);
  auto kv = sj::required_object(entry, "kindVersion", path);
  if (!kv) return kv.error();
  auto kind = sj::required_string(**kv, "kind", path + ".kindVersion", 64);
  if (!kind) return kind.error();
  auto version = sj::required_string(**kv, "version", path + ".kindVersion", 64);
  if (!version) return version.error();
  out.kind = std::string(*kind);
  out.version = std::string(*version);
  const std::string bpath = path + ".canonicalizedBody";
  auto body_kind = sj::required_string(out.body_json, "kind", bpath, 64);
  if (!body_kind) return body_kind.error();
  auto body_version = sj::required_string(out.body_json, "apiVersion", bpath, 64);
  if (!body_version) return body_version.error();
  if (*body_kind != out.kind || *body_version != out.version) {
    return Error{bpath + ": is a " + std::string(*body_kind) + " " + std::string(*body_version) +
                 " entry, but kindVersion says " + out.kind + " " + out.version};
  }
  return {};
}

}  // namespace

std::string signed_entry_timestamp_payload(const std::vector<std::uint8_t>& body,
                                           std::int64_t integrated_time,
                                           const std::vector<std::uint8_t>& log_id,
                                           std::int64_t log_index) {
  // RFC 8785 canonical JSON of four members, written directly: keys in code-point order, no
  // whitespace, integers in plain decimal, and strings (base64, hex) that need no escaping.
  return R"({"body":")" + base64_encode(body) + R"(","integratedTime":)" +
         std::to_string(integrated_time) + R"(,"logID":")" + sj::to_hex(log_id) +
         R"(","logIndex":)" + std::to_string(log_index) + "}";
}

Expected<VerifiedRekorEntry> verify_rekor_entry(const Json& entry, const TrustedRoot& root,
                                                const RekorRequirements& required,
                                                const std::string& path) {
  if (!entry.is_object()) return Error{path + ": expected an object"};
  VerifiedRekorEntry out;
  auto log_id_obj = sj::required_object(entry, "logId", path);
  if (!log_id_obj) return log_id_obj.error();
  auto log_id = sj::required_bytes(**log_id_obj, "keyId", path + ".logId", 64);
  if (!log_id) return log_id.error();
  out.log = find_log(root, *log_id);
  if (out.log == nullptr)
    return Error{path + ".logId: log " + sj::to_hex(*log_id) + " is not in the trusted root"};

  auto index = sj::required_int64(entry, "logIndex", path);
  if (!index) return index.error();
  out.log_index = *index;
  auto time = sj::required_int64(entry, "integratedTime", path);
  if (!time) return time.error();
  if (*time == 0 || *time > kMaxTime) return Error{path + ".integratedTime: out of range"};
  out.integrated_time = *time;
  if (!out.log->valid_for.contains(out.integrated_time)) {
    return Error{path + ": integrated time " + std::to_string(out.integrated_time) +
                 " is outside the validity period of the log key"};
  }
  auto body = parse_body(entry, out, path);
  if (!body) return body.error();

  const bool has_promise = sj::optional_member(entry, "inclusionPromise") != nullptr;
  if (has_promise || required.inclusion_promise) {
    auto set_ok = verify_set(entry, out, path);
    if (!set_ok) return set_ok.error();
  }
  const Json* proof = sj::optional_member(entry, "inclusionProof");
  if (proof == nullptr) {
    if (required.inclusion_proof) return Error{path + ".inclusionProof: missing"};
    return out;
  }
  if (!proof->is_object()) return Error{path + ".inclusionProof: expected an object"};
  auto proof_ok = verify_inclusion_proof(*proof, out, path + ".inclusionProof");
  if (!proof_ok) return proof_ok.error();
  out.inclusion_proof_verified = true;
  return out;
}

}  // namespace mlsc::sign
