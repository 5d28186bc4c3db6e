#include "mlsc/sign/keys.hpp"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "mlsc/sign/hashing.hpp"
#include "sign/ossl_handles.hpp"

namespace mlsc::sign {

namespace {

constexpr std::size_t kMaxSignedMessage = std::size_t{INT_MAX};

Expected<KeyAlgorithm> algorithm_of(EVP_PKEY* key) {
  const int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_ED25519) return KeyAlgorithm::ed25519;
  if (id != EVP_PKEY_EC) {
    return Error{
        std::string("unsupported key type ") + ossl::or_unknown(OBJ_nid2sn(id)) +
        ": model signing keys are ECDSA P-256, P-384 or P-521 (or Ed25519, an mlsc extension)"};
  }
  char group[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) !=
      1) {
    return Error{"EC key without a named curve (explicit curve parameters are not supported)"};
  }
  const std::string_view name(group, len);
  if (name == "prime256v1" || name == "P-256") return KeyAlgorithm::ecdsa_p256;
  if (name == "secp384r1" || name == "P-384") return KeyAlgorithm::ecdsa_p384;
  if (name == "secp521r1" || name == "P-521") return KeyAlgorithm::ecdsa_p521;
  return Error{"unsupported elliptic curve " + std::string(name) + ": use P-256, P-384 or P-521"};
}

ossl::Bio memory_bio(ByteView bytes) {
  return ossl::Bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

// Refuses to prompt on the terminal for a passphrase: mlsc has no passphrase flag.
int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) {
  return -1;
}

Expected<void> digest_verify(EVP_PKEY* key, const EVP_MD* md, ByteView message,
                             ByteView signature) {
  if (message.size() > kMaxSignedMessage) return Error{"message too large to verify"};
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) != 1) {
    ossl::clear_errors();
    return Error{"OpenSSL cannot set up signature verification"};
  }
  const int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                                  message.size());
  ossl::clear_errors();
  if (rc == 1) return {};
  return Error{"signature does not verify"};
}

}  // namespace

std::string_view to_string(KeyAlgorithm a) {
  switch (a) {
    case KeyAlgorithm::ecdsa_p256:
      return "ecdsa-p256";
    case KeyAlgorithm::ecdsa_p384:
      return "ecdsa-p384";
    case KeyAlgorithm::ecdsa_p521:
      return "ecdsa-p521";
    case KeyAlgorithm::ed25519:
      return "ed25519";
  }
  return "?";
}

std::string_view sigstore_key_details(KeyAlgorithm a) {
  switch (a) {
    case KeyAlgorithm::ecdsa_p256:
      return "PKIX_ECDSA_P256_SHA_256";
    case KeyAlgorithm::ecdsa_p384:
      return "PKIX_ECDSA_P384_SHA_384";
    case KeyAlgorithm::ecdsa_p521:
      return "PKIX_ECDSA_P521_SHA_512";
    case KeyAlgorithm::ed25519:
      return "PKIX_ED25519";
  }
  return "?";
}

std::string_view signature_digest(KeyAlgorithm a) {
  switch (a) {
    case KeyAlgorithm::ecdsa_p256:
      return "SHA256";
    case KeyAlgorithm::ecdsa_p384:
      return "SHA384";
    case KeyAlgorithm::ecdsa_p521:
      return "SHA512";
    case KeyAlgorithm::ed25519:
      return "";
  }
  return "";
}

void PkeyFree::operator()(evp_pkey_st* k) const {
  EVP_PKEY_free(k);
}

Expected<PublicKey> PublicKey::adopt(evp_pkey_st* key) {
  PkeyHandle handle(key, PkeyFree{});
  if (!handle) return Error{"no public key"};
  auto a = algorithm_of(handle.get());
  if (!a) return a.error();
  return PublicKey(std::move(handle), *a);
}

Expected<PublicKey> PublicKey::parse(ByteView bytes) {
  if (bytes.size() > kMaxKeyFileBytes)
    return Error{"public key larger than " + std::to_string(kMaxKeyFileBytes) + " bytes"};
  EVP_PKEY* key = nullptr;
  if (as_chars(bytes).find("-----BEGIN") != std::string_view::npos) {
    auto bio = memory_bio(bytes);
    key = PEM_read_bio_PUBKEY(bio.get(), nullptr, no_passphrase, nullptr);
    if (key == nullptr) {
      ossl::clear_errors();
      return Error{
          "no PEM \"PUBLIC KEY\" block could be read (is this a certificate or a private key?)"};
    }
  } else {
    const unsigned char* p = bytes.data();
    key = d2i_PUBKEY(nullptr, &p, static_cast<long>(bytes.size()));
    if (key == nullptr || p != bytes.data() + bytes.size()) {
      EVP_PKEY_free(key);
      ossl::clear_errors();
      return Error{"neither a PEM public key nor a DER SubjectPublicKeyInfo"};
    }
  }
  return adopt(key);
}

Expected<PublicKey> PublicKey::load(const std::filesystem::path& file) {
  auto text = read_small_file(file, kMaxKeyFileBytes);
  if (!text) return text.error();
  auto key = parse(as_bytes(*text));
  if (!key) return Error{file.string() + ": " + key.error().message};
  return key;
}

std::vector<std::uint8_t> PublicKey::spki_der() const {
  unsigned char* out = nullptr;
  const int len = i2d_PUBKEY(key_.get(), &out);
  if (len <= 0) return {};
  std::vector<std::uint8_t> der(out, out + len);
  OPENSSL_free(out);
  return der;
}

std::string PublicKey::spki_pem() const {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) return {};
  return ossl::bio_contents(bio.get());
}

std::string PublicKey::hint() const {
  const std::string pem = spki_pem();
  auto d = hash_bytes(HashType::sha256, as_bytes(pem));
  return d ? d->hex() : std::string();
}

Expected<void> PublicKey::verify(ByteView message, ByteView signature) const {
  if (algorithm_ == KeyAlgorithm::ed25519)
    return digest_verify(key_.get(), nullptr, message, signature);
  return verify_with_digest(message, signature, signature_digest(algorithm_));
}

Expected<void> PublicKey::verify_with_digest(ByteView message, ByteView signature,
                                             std::string_view digest) const {
  if (algorithm_ == KeyAlgorithm::ed25519)
    return Error{"Ed25519 signatures take no separate digest"};
  ossl::Md md(EVP_MD_fetch(nullptr, std::string(digest).c_str(), nullptr));
  if (!md) return Error{"OpenSSL has no digest " + std::string(digest)};
  return digest_verify(key_.get(), md.get(), message, signature);
}

bool operator==(const PublicKey& a, const PublicKey& b) {
  const bool same = EVP_PKEY_eq(a.key_.get(), b.key_.get()) == 1;
  ossl::clear_errors();
  return same;
}

Expected<PrivateKey> PrivateKey::parse_pem(std::string_view pem) {
  if (pem.size() > kMaxKeyFileBytes)
    return Error{"private key larger than " + std::to_string(kMaxKeyFileBytes) + " bytes"};
  if (pem.find("ENCRYPTED") != std::string_view::npos) {
    return Error{
        "the private key is encrypted; mlsc takes unencrypted PEM keys (decrypt with `openssl "
        "pkey`)"};
  }
  auto bio = memory_bio(as_bytes(pem));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  ossl::clear_errors();
  if (key == nullptr) return Error{"no PEM private key could be read"};
  PkeyHandle handle(key, PkeyFree{});
  auto a = algorithm_of(key);
  if (!a) return a.error();
  return PrivateKey(std::move(handle), *a);
}

Expected<PrivateKey> PrivateKey::load(const std::filesystem::path& file) {
  auto text = read_small_file(file, kMaxKeyFileBytes);
  if (!text) return text.error();
  auto key = parse_pem(*text);
  if (!key) return Error{file.string() + ": " + key.error().message};
  return key;
}

PublicKey PrivateKey::public_key() const {
  // Round trip through DER SubjectPublicKeyInfo: keeps only the public half.
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key_.get(), &der);
  const unsigned char* p = der;
  EVP_PKEY* pub = len > 0 ? d2i_PUBKEY(nullptr, &p, len) : nullptr;
  OPENSSL_free(der);
  ossl::clear_errors();
  return PublicKey(PkeyHandle(pub, PkeyFree{}), algorithm_);
}

Expected<std::vector<std::uint8_t>> PrivateKey::sign(ByteView message) const {
  if (message.size() > kMaxSignedMessage) return Error{"message too large to sign"};
  ossl::Md md;
  if (algorithm_ != KeyAlgorithm::ed25519)
    md.reset(EVP_MD_fetch(nullptr, std::string(signature_digest(algorithm_)).c_str(), nullptr));
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md.get(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) != 1) {
    ossl::clear_errors();
    return Error{"OpenSSL cannot sign with this key"};
  }
  std::vector<std::uint8_t> sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1) {
    ossl::clear_errors();
    return Error{"signing failed"};
  }
  sig.resize(len);
  return sig;
}

Expected<std::string> read_small_file(const std::filesystem::path& file, std::size_t max_bytes) {
  const std::string name = file.string();
  const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{name + ": " + std::strerror(errno)};
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Error{name + ": " + std::strerror(errno)};
  if (!S_ISREG(st.st_mode)) return Error{name + ": not a regular file"};
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    return Error{name + ": " + std::to_string(st.st_size) + " bytes, more than the limit of " +
                 std::to_string(max_bytes)};
  }
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{name + ": " + std::strerror(errno)};
    if (n == 0) break;  // shrank while reading: take what is there
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

}  // namespace mlsc::sign
