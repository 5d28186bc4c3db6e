// verify_sigstore: the order of the checks is chosen so that each failure names the first thing
// wrong: the log entry (whose SET is the only signature over the integrated time), then the
// certificate at that time, then who it names, then whether the entry records this bundle.
#include "mlsc/sign/sigstore.hpp"

#include <algorithm>

#include "fulcio.hpp"
#include "rekor.hpp"
#include "rekor_body.hpp"
#include "sigstore_json.hpp"

namespace mlsc::sign {
namespace {

namespace sj = sigstore_json;
using Json = nlohmann::json;

constexpr std::size_t kMaxPayloadBytes = std::size_t{256} << 20;
constexpr std::size_t kMaxSignatureBytes = 4096;
constexpr std::size_t kMaxChainLength = 10;
constexpr std::size_t kMaxTlogEntries = 16;

enum class BundleVersion : std::uint8_t { v01, v02, v03 };

Expected<BundleVersion> bundle_version(const Json& bundle) {
  auto media = sj::required_string(bundle, "mediaType", "bundle", 256);
  if (!media) return media.error();
  if (*media == "application/vnd.dev.sigstore.bundle+json;version=0.1") return BundleVersion::v01;
  if (*media == "application/vnd.dev.sigstore.bundle+json;version=0.2") return BundleVersion::v02;
  if (*media == "application/vnd.dev.sigstore.bundle+json;version=0.3" ||
      *media == "application/vnd.dev.sigstore.bundle.v0.3+json") {
    return BundleVersion::v03;
  }
  return Error{"bundle.mediaType: unsupported '" + std::string(*media) + "'"};
}

// The signing certificate: v0.3's single `certificate`, or the first of an older chain (any
// other certificates a bundle carries are ignored: trust comes from the trusted root only).
Expected<std::vector<std::uint8_t>> leaf_certificate(const Json& vm) {
  const std::string path = "bundle.verificationMaterial";
  if (const Json* cert = sj::optional_member(vm, "certificate"); cert != nullptr) {
    return sj::required_bytes(*cert, "rawBytes", path + ".certificate", kMaxLeafCertificateBytes);
  }
  if (const Json* chain = sj::optional_member(vm, "x509CertificateChain"); chain != nullptr) {
    auto certs =
        sj::required_array(*chain, "certificates", path + ".x509CertificateChain", kMaxChainLength);
    if (!certs) return certs.error();
    if ((*certs)->empty()) return Error{path + ".x509CertificateChain.certificates: empty"};
    return sj::required_bytes((**certs)[0], "rawBytes",
                              path + ".x509CertificateChain.certificates[0]",
                              kMaxLeafCertificateBytes);
  }
  if (sj::optional_member(vm, "publicKey") != nullptr) {
    return Error{
        "bundle: signed with a public key, not a Fulcio certificate; verify it with that key "
        "instead"};
  }
  return Error{path + ": has no certificate"};
}

Expected<BundleContent> dsse_content(const Json& env) {
  const std::string path = "bundle.dsseEnvelope";
  BundleContent c;
  c.kind = BundleContent::Kind::dsse;
  auto payload = sj::required_bytes(env, "payload", path, kMaxPayloadBytes);
  if (!payload) return payload.error();
  c.payload = std::move(*payload);
  auto type = sj::required_string(env, "payloadType", path, 256);
  if (!type) return type.error();
  c.payload_type = std::string(*type);
  auto sigs = sj::required_array(env, "signatures", path, kMaxChainLength);
  if (!sigs) return sigs.error();
  // A Sigstore bundle has one signer, the certificate's subject.
  if ((*sigs)->size() != 1) {
    return Error{path + ".signatures: expected exactly one signature, found " +
                 std::to_string((*sigs)->size())};
  }
  auto sig = sj::required_bytes((**sigs)[0], "sig", path + ".signatures[0]", kMaxSignatureBytes);
  if (!sig) return sig.error();
  if (sig->empty()) return Error{path + ".signatures[0].sig: empty"};
  c.signatures.push_back(std::move(*sig));
  return c;
}

Expected<BundleContent> message_content(const Json& ms) {
  const std::string path = "bundle.messageSignature";
  BundleContent c;
  c.kind = BundleContent::Kind::message_signature;
  auto digest = sj::required_object(ms, "messageDigest", path);
  if (!digest) return digest.error();
  auto alg = sj::required_string(**digest, "algorithm", path + ".messageDigest", 64);
  if (!alg) return alg.error();
  c.digest_algorithm = std::string(*alg);
  auto bytes = sj::required_bytes(**digest, "digest", path + ".messageDigest", 64);
  if (!bytes) return bytes.error();
  c.digest = std::move(*bytes);
  auto sig = sj::required_bytes(ms, "signature", path, kMaxSignatureBytes);
  if (!sig) return sig.error();
  c.signatures.push_back(std::move(*sig));
  return c;
}

Expected<BundleContent> bundle_content(const Json& bundle) {
  const Json* env = sj::optional_member(bundle, "dsseEnvelope");
  const Json* ms = sj::optional_member(bundle, "messageSignature");
  if ((env != nullptr) == (ms != nullptr)) {
    return Error{"bundle: must hold exactly one of dsseEnvelope and messageSignature"};
  }
  return env != nullptr ? dsse_content(*env) : message_content(*ms);
}

Expected<void> check_policy(const FulcioIdentity& id, const SigstorePolicy& policy) {
  const auto matches = [&](const std::vector<std::string>& names) {
    return std::find(names.begin(), names.end(), policy.identity) != names.end();
  };
  if (!matches(id.emails) && !matches(id.uris)) {
    std::string found;
    for (const auto* list : {&id.emails, &id.uris}) {
      for (const auto& n : *list) found += (found.empty() ? "'" : ", '") + n + "'";
    }
    return Error{"identity mismatch: the certificate is for " + found + ", expected '" +
                 policy.identity + "'"};
  }
  if (id.issuer != policy.issuer) {
    return Error{"issuer mismatch: the certificate's OIDC issuer is '" + id.issuer +
                 "', expected '" + policy.issuer + "'"};
  }
  return {};
}

}  // namespace

Expected<SigstoreVerified> verify_sigstore(const Json& bundle, const TrustedRoot& root,
                                           const SigstorePolicy& policy) {
  if (policy.identity.empty() || policy.issuer.empty()) {
    return Error{
        "Sigstore verification needs both an expected identity and an expected OIDC issuer"};
  }
  if (!bundle.is_object()) return Error{"bundle: expected a JSON object"};
  auto version = bundle_version(bundle);
  if (!version) return version.error();
  auto vm = sj::required_object(bundle, "verificationMaterial", "bundle");
  if (!vm) return vm.error();
  auto leaf = leaf_certificate(**vm);
  if (!leaf) return leaf.error();
  auto content = bundle_content(bundle);
  if (!content) return content.error();

  auto entries =
      sj::required_array(**vm, "tlogEntries", "bundle.verificationMaterial", kMaxTlogEntries);
  if (!entries) return entries.error();
  if ((*entries)->size() != 1) {
    return Error{"bundle.verificationMaterial.tlogEntries: expected exactly one entry, found " +
                 std::to_string((*entries)->size())};
  }
  RekorRequirements required;
  required.inclusion_proof = *version != BundleVersion::v01;
  auto entry = verify_rekor_entry((**entries)[0], root, required, "tlogEntries[0]");
  if (!entry) return entry.error();

  auto id = verify_fulcio_certificate(*leaf, root, entry->integrated_time);
  if (!id) return id.error();
  auto allowed = check_policy(*id, policy);
  if (!allowed) return allowed.error();
  auto recorded = check_body_matches(*entry, *content, *leaf);
  if (!recorded) return recorded.error();

  SigstoreVerified out;
  out.leaf_der = std::move(*leaf);
  out.identity = policy.identity;
  out.issuer = id->issuer;
  out.integrated_time = entry->integrated_time;
  out.log_index = entry->log_index;
  out.inclusion_proof_verified = entry->inclusion_proof_verified;
  return out;
}

}  // namespace mlsc::sign
