// Signing a model: hash it into a manifest, wrap the in-toto statement in a DSSE envelope signed
// with a private key, and write a Sigstore bundle (model.sig) that the reference verifier
// (model_signing 1.x) accepts: key mode (publicKey.hint) or certificate mode (the signing
// certificate and its chain in x509CertificateChain).
//
// Incremental re-signing: with `reuse`, files whose stamp (size, mtime, ctime, inode) is the one
// recorded when the previous signature was made keep their previous digests unread. The stamps
// live in a cache file next to the signature (sign_cache_path); it only saves work when signing
// and is never read when verifying.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "mlsc/sign/bundle.hpp"
#include "mlsc/sign/certificate.hpp"
#include "mlsc/sign/keys.hpp"
#include "mlsc/sign/manifest.hpp"

namespace mlsc::sign {

struct SignOptions {
  // Hash type, method, shard size, ignore paths, symlink policy, threads, progress. The
  // signature file and the cache are added to the ignore paths when they lie inside the model.
  HashOptions hashing;
  std::vector<std::filesystem::path>
      cert_chain;                   // certificate mode: PEM files, signing certificate first
  std::filesystem::path signature;  // empty: the reuse path, else "model.sig"
  std::optional<std::filesystem::path> reuse;  // the previous signature of this model
};

struct SignResult {
  Manifest
      manifest;  // bytes_hashed / bytes_reused / files_reused say what incremental signing saved
  Bundle bundle;
  std::filesystem::path signature;
  std::optional<std::filesystem::path> cache;  // the cache written for the next --reuse
  std::string signer;                          // "key <hint>" or the certificate subject
  std::string reuse_note;                      // why previous digests could not be used, if so
  std::vector<std::string> warnings;
};

// "<signature>.mlsc-cache": where the incremental-signing cache of a signature lives.
std::filesystem::path sign_cache_path(const std::filesystem::path& signature);

// Loads a certificate chain (PEM files, signing certificate first) for signing with `key`:
// the signing certificate must hold the key's public key and allow digital signatures.
Expected<std::vector<Certificate>> load_signing_chain(
    const std::vector<std::filesystem::path>& files, const PrivateKey& key);

// Signs and writes the bundle. Errors: unreadable key or certificates, a certificate that does
// not belong to the key, a model that cannot be hashed, an unwritable signature.
Expected<SignResult> sign_model(const std::filesystem::path& model,
                                const std::filesystem::path& private_key,
                                const SignOptions& options);

// The bundle for a manifest, in memory: the statement as DSSE payload, signed with `key`;
// key mode when `chain` is empty, else certificate mode (chain[0] must hold the key's pair).
Expected<Bundle> make_bundle(const Manifest& manifest, const PrivateKey& key,
                             const std::vector<Certificate>& chain);

}  // namespace mlsc::sign
