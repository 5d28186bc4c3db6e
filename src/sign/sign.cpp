#include "mlsc/sign/sign.hpp"

#include <chrono>

#include "mlsc/sign/dsse.hpp"
#include "mlsc/sign/sign_cache.hpp"
#include "mlsc/sign/statement.hpp"

namespace mlsc::sign {

namespace fs = std::filesystem;

namespace {

// The reference writes the statement with two-space indentation (protobuf's MessageToJson).
constexpr int kPayloadIndent = 2;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Whether `p` would be enumerated as part of a directory model.
bool inside_model(const fs::path& model, const fs::path& p) {
  std::error_code ec;
  if (!fs::is_directory(model, ec)) return false;
  const fs::path root = fs::weakly_canonical(fs::absolute(model, ec), ec);
  const fs::path abs = fs::absolute(p, ec);
  const fs::path rel = fs::weakly_canonical(abs.parent_path(), ec)
                           .append(abs.filename().string())
                           .lexically_relative(root);
  return !rel.empty() && *rel.begin() != ".." && rel != ".";
}

}  // namespace

Expected<std::vector<Certificate>> load_signing_chain(const std::vector<fs::path>& files,
                                                      const PrivateKey& key) {
  if (files.empty()) return Error{"no signing certificate given"};
  std::vector<Certificate> chain;
  for (const auto& f : files) {
    auto certs = Certificate::load_pem_file(f);
    if (!certs) return certs.error();
    for (auto& c : *certs) chain.push_back(std::move(c));
  }
  if (chain.size() > kMaxChainLength)
    return Error{"more than " + std::to_string(kMaxChainLength) + " certificates in the chain"};
  auto leaf_key = chain.front().public_key();
  if (!leaf_key) return leaf_key.error();
  if (!(*leaf_key == key.public_key())) {
    return Error{"the signing certificate \"" + chain.front().subject() +
                 "\" does not hold the signing key's public key"};
  }
  if (auto problem = chain.front().signing_usage_problem(); !problem.empty()) return Error{problem};
  return chain;
}

namespace {

// Previous digests for --reuse, or why there are none (then everything is hashed).
std::optional<PriorDigests> prior_for(const SignOptions& o, const PublicKey& signer,
                                      std::string& note) {
  if (!o.reuse) return std::nullopt;
  auto prior = load_prior_digests(*o.reuse, sign_cache_path(*o.reuse), signer);
  if (!prior) {
    note = prior.error().message;
    return std::nullopt;
  }
  return std::move(*prior);
}

}  // namespace

fs::path sign_cache_path(const fs::path& signature) {
  fs::path p = signature;
  p += ".mlsc-cache";
  return p;
}

Expected<Bundle> make_bundle(const Manifest& manifest, const PrivateKey& key,
                             const std::vector<Certificate>& chain) {
  auto payload = statement_json(manifest, kPayloadIndent);
  if (!payload) return payload.error();
  Bundle b;
  b.envelope.payload_type = std::string(kInTotoJsonPayloadType);
  b.envelope.payload.assign(payload->begin(), payload->end());
  auto sig = key.sign(as_bytes(dsse_pae(b.envelope.payload_type, b.envelope.payload)));
  if (!sig) return sig.error();
  b.envelope.signatures.push_back({std::move(*sig), ""});
  if (chain.empty()) {
    b.kind = MaterialKind::public_key;
    b.public_key.hint = key.public_key().hint();
  } else {
    b.kind = MaterialKind::certificate_chain;
    for (const auto& c : chain) b.certificates.push_back(c.der());
  }
  b.has_tlog_entries_field = true;
  return b;
}

Expected<SignResult> sign_model(const fs::path& model, const fs::path& private_key,
                                const SignOptions& o) {
  auto key = PrivateKey::load(private_key);
  if (!key) return key.error();
  std::vector<Certificate> chain;
  if (!o.cert_chain.empty()) {
    auto loaded = load_signing_chain(o.cert_chain, *key);
    if (!loaded) return loaded.error();
    chain = std::move(*loaded);
  }
  SignResult result;
  result.signature = !o.signature.empty() ? o.signature
                     : o.reuse            ? *o.reuse
                                          : fs::path("model.sig");
  const fs::path cache = sign_cache_path(result.signature);
  const bool cache_inside = inside_model(model, cache);
  // A cache inside the model would become part of it; write one there only when asked to.
  const bool write_cache = o.reuse.has_value() || !cache_inside;

  HashOptions h = o.hashing;
  h.signature = fs::absolute(result.signature);
  std::error_code ec;
  if (cache_inside && (write_cache || fs::exists(cache, ec)))
    h.ignore_paths.push_back(fs::absolute(cache).string());
  const auto prior = prior_for(o, key->public_key(), result.reuse_note);
  h.prior = prior ? &*prior : nullptr;

  const std::int64_t started = now_ns();
  auto manifest = hash_model(model, h);
  if (!manifest) return manifest.error();
  auto bundle = make_bundle(*manifest, *key, chain);
  if (!bundle) return bundle.error();
  const std::string text = serialize_bundle(*bundle);
  if (auto ok = write_file_atomically(result.signature, text); !ok) return ok.error();

  if (write_cache) {
    if (auto ok = write_sign_cache(cache, *manifest, text, started); ok) {
      result.cache = cache;
    } else {
      result.warnings.push_back("incremental-signing cache not written: " + ok.error().message);
    }
  }
  result.signer = chain.empty() ? "key " + bundle->public_key.hint : chain.front().subject();
  result.warnings.insert(result.warnings.end(), manifest->warnings.begin(),
                         manifest->warnings.end());
  result.manifest = std::move(*manifest);
  result.bundle = std::move(*bundle);
  return result;
}

}  // namespace mlsc::sign
