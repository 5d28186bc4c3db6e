// RAII owners for the OpenSSL objects the signing code uses, and small helpers around them.
// Private to src/sign (namespace ossl keeps them apart from other modules' helpers).
#pragma once

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <string>

namespace mlsc::sign::ossl {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};

inline void bio_free(BIO* b) {
  BIO_free(b);
}

using Bio = std::unique_ptr<BIO, Deleter<BIO, bio_free>>;
using Md = std::unique_ptr<EVP_MD, Deleter<EVP_MD, EVP_MD_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Store = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
using StoreCtx = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

inline void x509_stack_free(STACK_OF(X509) * s) {
  sk_X509_free(s);
}
using X509Stack = std::unique_ptr<STACK_OF(X509), Deleter<STACK_OF(X509), x509_stack_free>>;

// OpenSSL queues errors per thread; a failed call we handle ourselves must not leave them for
// an unrelated later call to report.
inline void clear_errors() {
  ERR_clear_error();
}

inline const char* or_unknown(const char* s) {
  return s != nullptr ? s : "unknown";
}

inline std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

}  // namespace mlsc::sign::ossl
