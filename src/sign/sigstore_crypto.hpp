// OpenSSL plumbing for Sigstore verification: owners for the objects we create, SHA-256, and
// checking a signature with a DER SubjectPublicKeyInfo as a trusted root describes it.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"

namespace mlsc::sign::sigstore_crypto {

template <class T, void (*Free)(T*)>
struct OsslFree {
  void operator()(T* p) const { Free(p); }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, OsslFree<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OsslFree<X509, X509_free>>;

using Sha256 = std::array<std::uint8_t, 32>;
Sha256 sha256(ByteView data);

// Parses DER that must be exactly one X.509 certificate (no trailing bytes).
Expected<X509Ptr> parse_certificate_der(ByteView der, const std::string& what);

// The DER certificate in a PEM text ("-----BEGIN CERTIFICATE-----"), as Rekor bodies embed them.
Expected<std::vector<std::uint8_t>> certificate_der_from_pem(ByteView pem, const std::string& what);

// Checks `signature` over `message` with the key in `spki_der`. `key_details` is the trusted
// root's PublicKeyDetails (e.g. PKIX_ECDSA_P256_SHA_256) and fixes the algorithm and hash;
// when empty, the hash follows from the key (P-256: SHA-256, P-384: SHA-384, P-521: SHA-512,
// RSA: SHA-256, Ed25519: none). `what` names the signature in errors.
Expected<void> verify_signature(ByteView spki_der, std::string_view key_details, ByteView message,
                                ByteView signature, const std::string& what);

// The same with a key already loaded (e.g. a certificate's), hash chosen from the key.
Expected<void> verify_signature(EVP_PKEY* key, ByteView message, ByteView signature,
                                const std::string& what);

// The most recent OpenSSL error as text, and the queue cleared.
std::string take_openssl_error();

}  // namespace mlsc::sign::sigstore_crypto
