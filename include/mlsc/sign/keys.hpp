// Signing keys for model signing, through OpenSSL 3.
//
// OpenSSF Model Signing uses ECDSA on P-256, P-384 and P-521, each with the hash that matches
// the curve (SHA-256, SHA-384, SHA-512), signatures DER-encoded as the reference writes them.
// Ed25519 (pure, RFC 8032) is our extension: the spec's algorithm registry does not list it,
// so the reference cannot verify such bundles.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of our public headers

namespace mlsc::sign {

enum class KeyAlgorithm : std::uint8_t { ecdsa_p256, ecdsa_p384, ecdsa_p521, ed25519 };

// "ecdsa-p256", ...; and the Sigstore PublicKeyDetails name ("PKIX_ECDSA_P256_SHA_256", ...).
std::string_view to_string(KeyAlgorithm a);
std::string_view sigstore_key_details(KeyAlgorithm a);
// The digest ECDSA signs with ("SHA256", "SHA384", "SHA512"); empty for Ed25519.
std::string_view signature_digest(KeyAlgorithm a);

// Key files are small; anything larger is not a key and is refused unread.
inline constexpr std::size_t kMaxKeyFileBytes = 1 << 20;

struct PkeyFree {
  void operator()(evp_pkey_st* k) const;
};
using PkeyHandle = std::shared_ptr<evp_pkey_st>;

class PublicKey {
 public:
  // PEM ("-----BEGIN PUBLIC KEY-----"; text before the block is skipped, as in the reference's
  // public key file) or DER SubjectPublicKeyInfo. Only the algorithms above are accepted.
  static Expected<PublicKey> parse(ByteView pem_or_der);
  static Expected<PublicKey> load(const std::filesystem::path& file);
  // Takes ownership of an OpenSSL key (from a certificate), checking its algorithm.
  static Expected<PublicKey> adopt(evp_pkey_st* key);

  KeyAlgorithm algorithm() const { return algorithm_; }
  // SubjectPublicKeyInfo as DER, and as the PEM text OpenSSL and Python's cryptography write
  // (64-column base64, header, footer and final newline).
  std::vector<std::uint8_t> spki_der() const;
  std::string spki_pem() const;
  // The key-mode bundle's publicKey.hint: lowercase hex SHA-256 of spki_pem(), as the
  // reference computes it from 1.1.0 on.
  std::string hint() const;

  // Verifies `signature` over `message` with the curve's hash (or pure Ed25519).
  Expected<void> verify(ByteView message, ByteView signature) const;
  // ECDSA with an explicit digest name ("SHA256"): for the v0.2.0 reference's signatures.
  Expected<void> verify_with_digest(ByteView message, ByteView signature,
                                    std::string_view digest) const;

  friend bool operator==(const PublicKey& a, const PublicKey& b);

 private:
  friend class PrivateKey;
  PublicKey(PkeyHandle key, KeyAlgorithm a) : key_(std::move(key)), algorithm_(a) {}
  PkeyHandle key_;
  KeyAlgorithm algorithm_;
};

class PrivateKey {
 public:
  // Unencrypted PEM private key (PKCS#8 or SEC1 "EC PRIVATE KEY"). Encrypted keys are refused
  // with a clear message rather than prompting for a passphrase.
  static Expected<PrivateKey> parse_pem(std::string_view pem);
  static Expected<PrivateKey> load(const std::filesystem::path& file);

  KeyAlgorithm algorithm() const { return algorithm_; }
  PublicKey public_key() const;
  // DER ECDSA signature with the curve's hash, or a 64-byte Ed25519 signature.
  Expected<std::vector<std::uint8_t>> sign(ByteView message) const;

 private:
  PrivateKey(PkeyHandle key, KeyAlgorithm a) : key_(std::move(key)), algorithm_(a) {}
  PkeyHandle key_;
  KeyAlgorithm algorithm_;
};

// Reads a whole small file (keys, certificates, trust anchors), refusing anything larger
// than `max_bytes` or not a regular file.
Expected<std::string> read_small_file(const std::filesystem::path& file, std::size_t max_bytes);

}  // namespace mlsc::sign
