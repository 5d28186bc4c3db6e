#include "sigstore_crypto.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstring>

namespace mlsc::sign::sigstore_crypto {
namespace {

using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OsslFree<EVP_MD_CTX, EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, OsslFree<BIO, BIO_free_all>>;

// Which key type and hash a PublicKeyDetails name stands for.
struct Algorithm {
  int key_type = EVP_PKEY_NONE;  // EVP_PKEY_EC, EVP_PKEY_RSA, EVP_PKEY_ED25519
  const char* curve = nullptr;   // group name for EC keys
  const EVP_MD* md = nullptr;    // nullptr for Ed25519
};

std::string curve_of(EVP_PKEY* key) {
  char name[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) !=
      1)
    return {};
  return std::string(name, len);
}

Expected<Algorithm> algorithm_for_key(EVP_PKEY* key) {
  const int type = EVP_PKEY_get_base_id(key);
  if (type == EVP_PKEY_ED25519) return Algorithm{type, nullptr, nullptr};
  if (type == EVP_PKEY_RSA) return Algorithm{type, nullptr, EVP_sha256()};
  if (type == EVP_PKEY_EC) {
    const std::string curve = curve_of(key);
    if (curve == "prime256v1") return Algorithm{type, "prime256v1", EVP_sha256()};
    if (curve == "secp384r1") return Algorithm{type, "secp384r1", EVP_sha384()};
    if (curve == "secp521r1") return Algorithm{type, "secp521r1", EVP_sha512()};
    return Error{"unsupported elliptic curve '" + curve + "'"};
  }
  return Error{"unsupported public key type"};
}

Expected<Algorithm> algorithm_for_details(std::string_view details) {
  if (details == "PKIX_ECDSA_P256_SHA_256")
    return Algorithm{EVP_PKEY_EC, "prime256v1", EVP_sha256()};
  if (details == "PKIX_ECDSA_P384_SHA_384")
    return Algorithm{EVP_PKEY_EC, "secp384r1", EVP_sha384()};
  if (details == "PKIX_ECDSA_P521_SHA_512")
    return Algorithm{EVP_PKEY_EC, "secp521r1", EVP_sha512()};
  if (details == "PKIX_ED25519") return Algorithm{EVP_PKEY_ED25519, nullptr, nullptr};
  if (details.starts_with("PKIX_RSA_PKCS1V15_") && details.ends_with("_SHA256")) {
    return Algorithm{EVP_PKEY_RSA, nullptr, EVP_sha256()};
  }
  return Error{"unsupported key details '" + std::string(details) + "'"};
}

Expected<void> verify_with(EVP_PKEY* key, const Algorithm& alg, ByteView message,
                           ByteView signature, const std::string& what) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, alg.md, nullptr, key) != 1) {
    return Error{what + ": cannot set up verification: " + take_openssl_error()};
  }
  const int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                                  message.size());
  ERR_clear_error();
  if (rc != 1) return Error{what + ": signature does not verify"};
  return {};
}

}  // namespace

std::string take_openssl_error() {
  const unsigned long code = ERR_peek_last_error();
  std::string out = "unknown OpenSSL error";
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    out = buf;
  }
  ERR_clear_error();
  return out;
}

Sha256 sha256(ByteView data) {
  Sha256 out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1)
    out.fill(0);
  return out;
}

Expected<X509Ptr> parse_certificate_der(ByteView der, const std::string& what) {
  if (der.empty()) return Error{what + ": empty certificate"};
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return Error{what + ": not a DER X.509 certificate: " + take_openssl_error()};
  if (p != der.data() + der.size()) return Error{what + ": trailing bytes after the certificate"};
  return cert;
}

Expected<std::vector<std::uint8_t>> certificate_der_from_pem(ByteView pem,
                                                             const std::string& what) {
  if (pem.size() > (1u << 20)) return Error{what + ": PEM text too large"};
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Error{what + ": out of memory"};
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Error{what + ": not a PEM certificate: " + take_openssl_error()};
  unsigned char* out = nullptr;
  const int len = i2d_X509(cert.get(), &out);
  if (len <= 0) return Error{what + ": cannot re-encode certificate"};
  std::vector<std::uint8_t> der(out, out + len);
  OPENSSL_free(out);
  return der;
}

Expected<void> verify_signature(ByteView spki_der, std::string_view key_details, ByteView message,
                                ByteView signature, const std::string& what) {
  const unsigned char* p = spki_der.data();
  PkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size())));
  if (!key || p != spki_der.data() + spki_der.size()) {
    ERR_clear_error();
    return Error{what + ": the trusted key is not a DER SubjectPublicKeyInfo"};
  }
  auto from_key = algorithm_for_key(key.get());
  if (!from_key) return Error{what + ": " + from_key.error().message};
  if (key_details.empty() || key_details == "PUBLIC_KEY_DETAILS_UNSPECIFIED") {
    return verify_with(key.get(), *from_key, message, signature, what);
  }
  auto declared = algorithm_for_details(key_details);
  if (!declared) return Error{what + ": " + declared.error().message};
  const bool curve_matches =
      declared->curve == nullptr ||
      (from_key->curve != nullptr && std::strcmp(declared->curve, from_key->curve) == 0);
  if (declared->key_type != from_key->key_type || !curve_matches) {
    return Error{what + ": the trusted key does not match its declared type " +
                 std::string(key_details)};
  }
  return verify_with(key.get(), *declared, message, signature, what);
}

Expected<void> verify_signature(EVP_PKEY* key, ByteView message, ByteView signature,
                                const std::string& what) {
  auto alg = algorithm_for_key(key);
  if (!alg) return Error{what + ": " + alg.error().message};
  return verify_with(key, *alg, message, signature, what);
}

}  // namespace mlsc::sign::sigstore_crypto
