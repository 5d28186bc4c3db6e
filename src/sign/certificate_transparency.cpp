#include "certificate_transparency.hpp"

#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <string>
#include <vector>

#include "sigstore_crypto.hpp"

namespace mlsc::sign {
namespace {

namespace sc = sigstore_crypto;
using sc::OsslFree;

void free_scts(STACK_OF(SCT) * s) {
  SCT_LIST_free(s);
}
using SctListPtr = std::unique_ptr<STACK_OF(SCT), OsslFree<STACK_OF(SCT), free_scts>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, OsslFree<X509_EXTENSION, X509_EXTENSION_free>>;

void put_be(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// DER of the leaf's TBSCertificate with the SCT list extension taken out: what the log signed.
Expected<std::vector<std::uint8_t>> precertificate_tbs(X509* leaf) {
  sc::X509Ptr copy(X509_dup(leaf));
  if (!copy) return Error{"SCT: cannot copy the certificate"};
  const int idx = X509_get_ext_by_NID(copy.get(), NID_ct_precert_scts, -1);
  if (idx < 0) return Error{"SCT: certificate has no SCT list"};
  ExtensionPtr removed(X509_delete_ext(copy.get(), idx));
  unsigned char* der = nullptr;
  const int len = i2d_re_X509_tbs(copy.get(), &der);
  if (len <= 0) return Error{"SCT: cannot encode the precertificate"};
  std::vector<std::uint8_t> out(der, der + len);
  OPENSSL_free(der);
  return out;
}

Expected<sc::Sha256> issuer_key_hash(X509* issuer) {
  unsigned char* der = nullptr;
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(issuer), &der);
  if (len <= 0) return Error{"SCT: cannot encode the issuer's public key"};
  const sc::Sha256 h = sc::sha256(ByteView(der, static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  return h;
}

// RFC 6962 §3.2 digitally-signed struct for a precert entry.
std::vector<std::uint8_t> signed_data(const SCT* sct, const sc::Sha256& key_hash,
                                      const std::vector<std::uint8_t>& tbs) {
  std::vector<std::uint8_t> out;
  out.reserve(tbs.size() + 64);
  out.push_back(0);  // sct_version v1
  out.push_back(0);  // signature_type certificate_timestamp
  put_be(out, SCT_get_timestamp(sct), 8);
  put_be(out, 1, 2);  // entry_type precert_entry
  out.insert(out.end(), key_hash.begin(), key_hash.end());
  put_be(out, tbs.size(), 3);
  out.insert(out.end(), tbs.begin(), tbs.end());
  unsigned char* ext = nullptr;
  const std::size_t ext_len = SCT_get0_extensions(sct, &ext);
  put_be(out, ext_len, 2);
  if (ext_len > 0) out.insert(out.end(), ext, ext + ext_len);
  return out;
}

std::int64_t asn1_time_seconds(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

const TransparencyLogKey* find_ct_log(const TrustedRoot& root, const SCT* sct) {
  unsigned char* id = nullptr;
  const std::size_t id_len = SCT_get0_log_id(sct, &id);
  for (const auto& log : root.ctlogs) {
    if (log.log_id.size() == id_len && std::equal(log.log_id.begin(), log.log_id.end(), id))
      return &log;
  }
  return nullptr;
}

}  // namespace

Expected<void> verify_embedded_scts(X509* leaf, X509* issuer, const TrustedRoot& root) {
  if (root.ctlogs.empty())
    return Error{"certificate: the trusted root lists no CT logs to check its SCT against"};
  int crit = 0;
  SctListPtr scts(
      static_cast<STACK_OF(SCT)*>(X509_get_ext_d2i(leaf, NID_ct_precert_scts, &crit, nullptr)));
  ERR_clear_error();
  if (!scts || sk_SCT_num(scts.get()) == 0) {
    return Error{"certificate: carries no signed certificate timestamp (SCT)"};
  }
  auto tbs = precertificate_tbs(leaf);
  if (!tbs) return tbs.error();
  auto key_hash = issuer_key_hash(issuer);
  if (!key_hash) return key_hash.error();
  const std::int64_t not_before = asn1_time_seconds(X509_get0_notBefore(leaf));
  const std::int64_t not_after = asn1_time_seconds(X509_get0_notAfter(leaf));

  std::string last_problem = "no SCT is from a CT log of the trusted root";
  for (int i = 0; i < sk_SCT_num(scts.get()); ++i) {
    const SCT* sct = sk_SCT_value(scts.get(), i);
    if (SCT_get_version(sct) != SCT_VERSION_V1) continue;
    const TransparencyLogKey* log = find_ct_log(root, sct);
    if (log == nullptr) continue;
    const auto when = static_cast<std::int64_t>(SCT_get_timestamp(sct) / 1000);
    if (!log->valid_for.contains(when)) {
      last_problem = "the SCT's log key was not valid at the SCT's time";
      continue;
    }
    // Fulcio logs the precertificate while issuing, so the SCT falls within the validity.
    if (when < not_before - 60 || when > not_after) {
      last_problem = "the SCT's time is outside the certificate's validity";
      continue;
    }
    unsigned char* sig = nullptr;
    const std::size_t sig_len = SCT_get0_signature(sct, &sig);
    const auto data = signed_data(sct, *key_hash, *tbs);
    auto ok = sc::verify_signature(log->public_key_der, log->key_details, data,
                                   ByteView(sig, sig_len), "SCT");
    if (ok) return {};
    last_problem = "the SCT signature does not verify with its CT log's key";
  }
  return Error{"certificate: no valid SCT: " + last_problem};
}

}  // namespace mlsc::sign
