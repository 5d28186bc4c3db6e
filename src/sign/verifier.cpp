#include "mlsc/sign/verifier.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "mlsc/sign/certificate.hpp"
#include "mlsc/sign/dsse.hpp"
#include "mlsc/sign/sigstore.hpp"
#include "mlsc/sign/statement.hpp"

namespace mlsc::sign {

namespace fs = std::filesystem;

namespace {

void fail(VerifyResult& r, std::string code, std::string message) {
  r.failures.push_back({std::move(code), std::move(message)});
}

void input_error(VerifyResult& r, std::string code, std::string message) {
  r.input_error = true;
  fail(r, std::move(code), std::move(message));
}

// The material a bundle must carry for each mode. Sigstore bundles before v0.3 put the Fulcio
// certificate in a one-element x509CertificateChain.
bool material_fits(const Bundle& b, TrustMode mode) {
  switch (mode) {
    case TrustMode::public_key:
      return b.kind == MaterialKind::public_key;
    case TrustMode::certificate:
      return b.kind == MaterialKind::certificate_chain;
    case TrustMode::sigstore:
      return b.kind == MaterialKind::certificate ||
             (b.kind == MaterialKind::certificate_chain && b.media_type != kBundleMediaTypeV03);
  }
  return false;
}

std::string_view mode_flag(MaterialKind k) {
  switch (k) {
    case MaterialKind::public_key:
      return "--public-key";
    case MaterialKind::certificate_chain:
      return "--trust-anchor";
    case MaterialKind::certificate:
      return "--trusted-root with --identity and --issuer";
  }
  return "?";
}

// Checks the DSSE signatures with `key`: any one verifying is enough (DSSE). The standard PAE
// first; then the v0.2.0 reference's encoding, with the curve's hash (what the reference's own
// verifiers try) or SHA-256 (what v0.2.0 actually signed with).
bool dsse_verifies(const DsseEnvelope& env, const PublicKey& key, VerifyResult& r) {
  const std::string pae = dsse_pae(env.payload_type, env.payload);
  for (const auto& s : env.signatures) {
    if (key.verify(as_bytes(pae), s.sig)) return true;
  }
  if (key.algorithm() == KeyAlgorithm::ed25519) return false;
  const std::string legacy = dsse_pae_v020(env.payload_type, env.payload);
  for (const auto& s : env.signatures) {
    if (key.verify(as_bytes(legacy), s.sig) ||
        key.verify_with_digest(as_bytes(legacy), s.sig, "SHA256")) {
      r.warnings.push_back(
          "signed with the pre-1.0 reference's PAE encoding (model_signing 0.2.0); re-sign to "
          "update");
      return true;
    }
  }
  return false;
}

void check_signature_with(const Bundle& b, const PublicKey& key, VerifyResult& r) {
  if (b.envelope.payload_type != kInTotoJsonPayloadType) {
    fail(r, "envelope.payload_type",
         "payloadType is \"" + b.envelope.payload_type + "\", expected " +
             std::string(kInTotoJsonPayloadType));
    return;
  }
  if (!dsse_verifies(b.envelope, key, r)) {
    fail(r, "signature.invalid",
         "the DSSE signature does not verify with the " + std::string(to_string(key.algorithm())) +
             " key: the bundle was altered or signed by another key");
    return;
  }
  r.signature_ok = true;
}

// Key mode: the bundle names its key by hint (1.1.0 on) or carries it (before); either must
// match the key the user trusts.
void verify_key_mode(const Bundle& b, const TrustMaterial& t, VerifyResult& r) {
  auto key = PublicKey::load(t.file);
  if (!key) return input_error(r, "input.public_key", key.error().message);
  const std::string hint = key->hint();
  r.signer = "key " + hint;
  if (!b.public_key.hint.empty() && b.public_key.hint != hint) {
    return fail(r, "signature.key_mismatch",
                "the bundle was signed by the key with hint " + b.public_key.hint +
                    ", not the given key (" + hint + ")");
  }
  if (!b.public_key.raw_bytes.empty()) {
    auto carried = PublicKey::parse(b.public_key.raw_bytes);
    if (!carried) {
      r.warnings.push_back("verificationMaterial.publicKey.rawBytes is not a readable key: " +
                           carried.error().message);
    } else if (!(*carried == *key)) {
      return fail(r, "signature.key_mismatch",
                  "the bundle carries a different public key (" + carried->hint() +
                      ") than the given key (" + hint + ")");
    }
  }
  check_signature_with(b, *key, r);
}

Expected<std::vector<Certificate>> bundle_certificates(const Bundle& b) {
  std::vector<Certificate> chain;
  for (std::size_t i = 0; i < b.certificates.size(); ++i) {
    auto c = Certificate::from_der(b.certificates[i]);
    if (!c)
      return Error{"certificate " + std::to_string(i) + " in the bundle: " + c.error().message};
    chain.push_back(std::move(*c));
  }
  return chain;
}

void verify_certificate_mode(const Bundle& b, const TrustMaterial& t, const SignedModelOptions& o,
                             VerifyResult& r) {
  auto anchors = Certificate::load_pem_file(t.file);
  if (!anchors) return input_error(r, "input.trust_anchor", anchors.error().message);
  auto chain = bundle_certificates(b);
  if (!chain) return fail(r, "certificate.malformed", chain.error().message);
  r.signer = chain->front().subject();
  ChainPolicy policy;
  policy.now = o.now;
  std::string code;
  auto key = verify_certificate_chain(*chain, *anchors, policy, &code);
  if (!key) return fail(r, code, key.error().message);
  check_signature_with(b, *key, r);
}

void verify_sigstore_mode(const Bundle& b, const TrustMaterial& t, VerifyResult& r) {
  // What the bundle lacks is reported before anything is read from the trusted root.
  if (b.tlog_entries.empty()) {
    return fail(
        r, "sigstore.no_tlog_entry",
        "the bundle has no transparency log entry; a Sigstore signature needs one (OMS 4.1)");
  }
  if (t.identity.empty() || t.issuer.empty()) {
    return input_error(r, "input.sigstore_policy",
                       "Sigstore verification needs both --identity and --issuer");
  }
  auto root = load_trusted_root(t.file);
  if (!root)
    return input_error(r, "input.trusted_root", t.file.string() + ": " + root.error().message);
  auto verified = verify_sigstore(b.document, *root, SigstorePolicy{t.identity, t.issuer});
  if (!verified) return fail(r, "sigstore.unverified", verified.error().message);
  r.signer = verified->identity + " (" + verified->issuer + ")";
  auto leaf = Certificate::from_der(verified->leaf_der);
  if (!leaf)
    return fail(r, "certificate.malformed", "Sigstore leaf certificate: " + leaf.error().message);
  auto key = leaf->public_key();
  if (!key) return fail(r, "certificate.malformed", key.error().message);
  check_signature_with(b, *key, r);
}

std::string statement_code(const std::string& message) {
  if (message.starts_with("statement: predicateType")) return "statement.predicate_type";
  if (message.starts_with("statement: subject[0].digest")) return "statement.subject_digest";
  return "statement.invalid";
}

std::string diff_summary(const ManifestDiff& d) {
  std::string s;
  auto add = [&](std::size_t n, const char* what) {
    if (n == 0) return;
    if (!s.empty()) s += ", ";
    s += std::to_string(n) + " " + what;
  };
  add(d.changed.size(), "changed");
  add(d.missing.size(), "missing");
  add(d.extra.size(), "extra (not signed)");
  return "the model does not match its signature: " + s;
}

void check_model(const fs::path& model, const fs::path& signature, const SignedModelOptions& o,
                 VerifyResult& r) {
  struct stat st {};
  if (::stat(model.c_str(), &st) != 0) {
    return input_error(r, "input.model", model.string() + ": " + std::strerror(errno));
  }
  VerifyOptions v;
  // Not the incremental-signing cache: when it lies inside the model, the signer recorded it in
  // ignore_paths; otherwise a file of that name is model content like any other.
  v.ignore_paths = o.ignore_paths;
  v.signature = fs::absolute(signature);
  v.threads = o.threads;
  HashOptions h = options_for(*r.statement, v);
  h.progress = o.progress;
  auto actual = hash_model(model, h);
  if (!actual) return fail(r, "model.unreadable", actual.error().describe());
  r.bytes_hashed = actual->bytes_hashed;
  r.warnings.insert(r.warnings.end(), actual->warnings.begin(), actual->warnings.end());
  r.diff = compare_manifests(*r.statement, *actual, v.allow_extra);
  if (!r.diff->ok()) fail(r, "model.mismatch", diff_summary(*r.diff));
}

}  // namespace

std::string_view to_string(TrustMode m) {
  switch (m) {
    case TrustMode::public_key:
      return "key";
    case TrustMode::certificate:
      return "certificate";
    case TrustMode::sigstore:
      return "sigstore";
  }
  return "?";
}

void verify_bundle_signature(const Bundle& b, const TrustMaterial& t, const SignedModelOptions& o,
                             VerifyResult& r) {
  r.mode = t.mode;
  if (!material_fits(b, t.mode)) {
    return fail(r, "bundle.material_mismatch",
                "the bundle carries verificationMaterial." + std::string(to_string(b.kind)) +
                    ", which " + std::string(to_string(t.mode)) +
                    " verification cannot use; verify it with " + std::string(mode_flag(b.kind)));
  }
  switch (t.mode) {
    case TrustMode::public_key:
      return verify_key_mode(b, t, r);
    case TrustMode::certificate:
      return verify_certificate_mode(b, t, o, r);
    case TrustMode::sigstore:
      return verify_sigstore_mode(b, t, r);
  }
}

void check_statement(const Bundle& b, VerifyResult& r) {
  const std::string_view payload = as_chars(b.envelope.payload);
  if (json_nesting_exceeds(payload, kMaxBundleDepth)) {
    return fail(r, "statement.invalid", "statement: JSON nested more than 64 levels deep");
  }
  auto m = parse_statement(payload);
  if (!m) return fail(r, statement_code(m.error().message), m.error().message);
  r.statement = std::move(*m);
}

VerifyResult verify_signed_model(const fs::path& model, const fs::path& signature,
                                 const TrustMaterial& trust, const SignedModelOptions& options) {
  VerifyResult r;
  r.mode = trust.mode;
  auto text = read_small_file(signature, kMaxBundleBytes);
  if (!text) {
    input_error(r, "input.signature", text.error().message);
    return r;
  }
  auto bundle = parse_bundle(*text);
  if (!bundle) {
    fail(r, "bundle.malformed", signature.string() + ": " + bundle.error().describe());
    return r;
  }
  verify_bundle_signature(*bundle, trust, options, r);
  if (!r.signature_ok) return r;  // never trust a payload whose signature did not verify
  check_statement(*bundle, r);
  if (!r.statement) return r;
  check_model(model, signature, options, r);
  return r;
}

}  // namespace mlsc::sign
