// Verifying a signed model end to end: read the bundle, check its signature with the trust
// material the user gave (a public key, a certificate trust anchor, or a Sigstore trusted root
// with an expected identity), validate the signed in-toto statement, then re-hash the model and
// say which files are missing, extra or changed. Every failure carries a stable code and a
// specific reason; nothing stops at a bare "signature mismatch".
#pragma once

#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "mlsc/sign/bundle.hpp"
#include "mlsc/sign/keys.hpp"
#include "mlsc/sign/manifest.hpp"
#include "mlsc/sign/verify.hpp"

namespace mlsc::sign {

enum class TrustMode : std::uint8_t { public_key, certificate, sigstore };
std::string_view to_string(TrustMode m);  // "key", "certificate", "sigstore"

struct TrustMaterial {
  TrustMode mode = TrustMode::public_key;
  std::filesystem::path file;  // PUB.pem, CA.pem (one or more anchors), or ROOT.json
  std::string identity;        // sigstore: certificate SAN, email or URI
  std::string issuer;          // sigstore: OIDC issuer URL
};

// A specific reason verification failed. Codes are stable (docs/signing.md lists them).
struct Failure {
  std::string code;  // e.g. "signature.invalid", "model.mismatch"
  std::string message;
};

struct VerifyResult {
  TrustMode mode = TrustMode::public_key;
  // The inputs could not be read at all (missing bundle or key file, unreadable model): not a
  // verdict on the signature. The CLI exits 2 for these, 1 for any other failure.
  bool input_error = false;
  bool signature_ok = false;
  std::string signer;  // "key <hint>", a certificate subject, or "<identity> (<issuer>)"
  std::optional<Manifest> statement;  // the signed manifest, once the signature verified
  std::optional<ManifestDiff> diff;   // the model against it
  std::uint64_t bytes_hashed = 0;
  std::vector<Failure> failures;
  std::vector<std::string> warnings;

  bool ok() const { return !input_error && failures.empty() && signature_ok && diff && diff->ok(); }
};

struct SignedModelOptions {
  std::vector<std::string> ignore_paths;  // beyond those the statement records
  unsigned threads = 0;
  HashProgress progress;
  // Tests pin the clock for certificate validity; 0 means now.
  std::time_t now = 0;
};

// The whole verification. Never throws; reads at most kMaxBundleBytes of bundle.
VerifyResult verify_signed_model(const std::filesystem::path& model,
                                 const std::filesystem::path& signature, const TrustMaterial& trust,
                                 const SignedModelOptions& options = {});

// The signature layer alone, for a bundle already parsed: checks the material fits the mode and
// the DSSE signature verifies (and, per mode, the key hint, certificate chain or Sigstore log
// entry). On success fills result.signature_ok and result.signer.
void verify_bundle_signature(const Bundle& bundle, const TrustMaterial& trust,
                             const SignedModelOptions& options, VerifyResult& result);

// Parses the signed statement of an already verified bundle (exact payload bytes) into
// result.statement, or records why it is not an acceptable OMS statement.
void check_statement(const Bundle& bundle, VerifyResult& result);

}  // namespace mlsc::sign
