#include "rekor_body.hpp"

#include <algorithm>

#include "sigstore_crypto.hpp"
#include "sigstore_json.hpp"

namespace mlsc::sign {
namespace {

namespace sj = sigstore_json;
using Json = nlohmann::json;

constexpr std::size_t kMaxSignatures = 16;
constexpr std::size_t kMaxSignatureBytes = 4096;
constexpr std::size_t kMaxPemBytes = 64 * 1024;

Error mismatch(const std::string& what) {
  return Error{"Rekor entry body does not match the bundle: " + what};
}

// {"algorithm": "sha256", "value": "<hex>"} equal to `expected`.
Expected<void> check_hash(const Json& obj, std::string_view key, const std::string& path,
                          const std::string& expected_hex, std::string_view algorithm = "sha256") {
  auto h = sj::required_object(obj, key, path);
  if (!h) return h.error();
  const std::string hpath = path + "." + std::string(key);
  auto alg = sj::required_string(**h, "algorithm", hpath, 32);
  if (!alg) return alg.error();
  auto value = sj::required_string(**h, "value", hpath, 256);
  if (!value) return value.error();
  if (*alg != algorithm)
    return mismatch(hpath + ".algorithm is '" + std::string(*alg) + "', expected " +
                    std::string(algorithm));
  if (*value != expected_hex) return mismatch(hpath + " differs from the bundle's");
  return {};
}

// The DER certificate in a base64-encoded PEM text, as Rekor bodies carry verifiers.
Expected<std::vector<std::uint8_t>> certificate_from_b64_pem(const Json& obj, std::string_view key,
                                                             const std::string& path) {
  auto pem = sj::required_bytes(obj, key, path, kMaxPemBytes);
  if (!pem) return pem.error();
  return sigstore_crypto::certificate_der_from_pem(*pem, path + "." + std::string(key));
}

// Each of the bundle's signatures must be recorded once, with the leaf as its verifier; the
// body may not record signatures the bundle lacks.
template <class ReadEntry>
Expected<void> check_signature_list(const Json& list, const std::string& path,
                                    const BundleContent& content,
                                    const std::vector<std::uint8_t>& leaf_der,
                                    ReadEntry read_entry) {
  if (!list.is_array() || list.size() > kMaxSignatures)
    return Error{path + ": expected an array of signatures"};
  if (list.size() != content.signatures.size()) {
    return mismatch(path + " records " + std::to_string(list.size()) +
                    " signatures, the bundle has " + std::to_string(content.signatures.size()));
  }
  std::vector<bool> used(content.signatures.size(), false);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string epath = path + "[" + std::to_string(i) + "]";
    std::vector<std::uint8_t> sig, cert;
    auto read = read_entry(list[i], epath, sig, cert);
    if (!read) return read.error();
    if (cert != leaf_der) return mismatch(epath + ": verifier is not the bundle's certificate");
    bool found = false;
    for (std::size_t j = 0; j < content.signatures.size() && !found; ++j) {
      if (!used[j] && content.signatures[j] == sig) used[j] = found = true;
    }
    if (!found) return mismatch(epath + ": signature is not the bundle's");
  }
  return {};
}

Expected<void> check_dsse_v001(const Json& spec, const BundleContent& content,
                               const std::vector<std::uint8_t>& leaf_der) {
  const std::string path = "body.spec";
  auto ph =
      check_hash(spec, "payloadHash", path, sj::to_hex(sigstore_crypto::sha256(content.payload)));
  if (!ph) return ph.error();
  auto sigs = sj::required_member(spec, "signatures", path);
  if (!sigs) return sigs.error();
  return check_signature_list(
      **sigs, path + ".signatures", content, leaf_der,
      [](const Json& e, const std::string& epath, std::vector<std::uint8_t>& sig,
         std::vector<std::uint8_t>& cert) -> Expected<void> {
        auto s = sj::required_bytes(e, "signature", epath, kMaxSignatureBytes);
        if (!s) return s.error();
        auto c = certificate_from_b64_pem(e, "verifier", epath);
        if (!c) return c.error();
        sig = std::move(*s);
        cert = std::move(*c);
        return {};
      });
}

Expected<void> check_intoto_v002(const Json& spec, const BundleContent& content,
                                 const std::vector<std::uint8_t>& leaf_der) {
  auto c = sj::required_object(spec, "content", "body.spec");
  if (!c) return c.error();
  const std::string path = "body.spec.content";
  auto ph =
      check_hash(**c, "payloadHash", path, sj::to_hex(sigstore_crypto::sha256(content.payload)));
  if (!ph) return ph.error();
  auto env = sj::required_object(**c, "envelope", path);
  if (!env) return env.error();
  auto type = sj::required_string(**env, "payloadType", path + ".envelope", 256);
  if (!type) return type.error();
  if (*type != content.payload_type)
    return mismatch(path + ".envelope.payloadType differs from the bundle's");
  auto sigs = sj::required_member(**env, "signatures", path + ".envelope");
  if (!sigs) return sigs.error();
  // intoto 0.0.2 stores each signature base64-encoded twice (the DSSE text, then as bytes).
  return check_signature_list(
      **sigs, path + ".envelope.signatures", content, leaf_der,
      [](const Json& e, const std::string& epath, std::vector<std::uint8_t>& sig,
         std::vector<std::uint8_t>& cert) -> Expected<void> {
        auto outer = sj::required_bytes(e, "sig", epath, kMaxSignatureBytes * 2);
        if (!outer) return outer.error();
        auto inner = sj::decode_bytes(as_chars(*outer), epath + ".sig", kMaxSignatureBytes);
        if (!inner) return inner.error();
        auto c = certificate_from_b64_pem(e, "publicKey", epath);
        if (!c) return c.error();
        sig = std::move(*inner);
        cert = std::move(*c);
        return {};
      });
}

Expected<void> check_hashedrekord_v001(const Json& spec, const BundleContent& content,
                                       const std::vector<std::uint8_t>& leaf_der) {
  const std::string path = "body.spec";
  if (content.digest_algorithm != "SHA2_256") {
    return Error{"message signature: digest algorithm '" + content.digest_algorithm +
                 "' is not supported"};
  }
  auto data = sj::required_object(spec, "data", path);
  if (!data) return data.error();
  auto h = check_hash(**data, "hash", path + ".data", sj::to_hex(content.digest));
  if (!h) return h.error();
  auto sig = sj::required_object(spec, "signature", path);
  if (!sig) return sig.error();
  const std::string spath = path + ".signature";
  auto bytes = sj::required_bytes(**sig, "content", spath, kMaxSignatureBytes);
  if (!bytes) return bytes.error();
  if (content.signatures.size() != 1 || *bytes != content.signatures[0]) {
    return mismatch(spath + ".content is not the bundle's signature");
  }
  auto key = sj::required_object(**sig, "publicKey", spath);
  if (!key) return key.error();
  auto cert = certificate_from_b64_pem(**key, "content", spath + ".publicKey");
  if (!cert) return cert.error();
  if (*cert != leaf_der) return mismatch(spath + ".publicKey is not the bundle's certificate");
  return {};
}

}  // namespace

Expected<void> check_body_matches(const VerifiedRekorEntry& entry, const BundleContent& content,
                                  const std::vector<std::uint8_t>& leaf_der) {
  auto spec = sj::required_object(entry.body_json, "spec", "body");
  if (!spec) return spec.error();
  const bool dsse_bundle = content.kind == BundleContent::Kind::dsse;
  if (dsse_bundle && entry.kind == "dsse" && entry.version == "0.0.1")
    return check_dsse_v001(**spec, content, leaf_der);
  if (dsse_bundle && entry.kind == "intoto" && entry.version == "0.0.2")
    return check_intoto_v002(**spec, content, leaf_der);
  if (!dsse_bundle && entry.kind == "hashedrekord" && entry.version == "0.0.1") {
    return check_hashedrekord_v001(**spec, content, leaf_der);
  }
  return Error{"Rekor entry: kind " + entry.kind + " " + entry.version +
               " is not supported for a " + (dsse_bundle ? "DSSE" : "message-signature") +
               " bundle"};
}

}  // namespace mlsc::sign
