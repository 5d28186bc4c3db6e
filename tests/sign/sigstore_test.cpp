// Offline Sigstore verification against the public-good trusted root: every Sigstore-mode golden
// bundle of the reference signer verifies with the identity and issuer its certificate names,
// and each kind of tampering is refused with the check that caught it. Tests that need a log
// entry no real log would sign (a body that does not match, a time outside the certificate)
// re-sign the entry with a test Rekor key that replaces the real one in the trusted root.
#include "mlsc/sign/sigstore.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <fstream>
#include <iterator>

#include "mlsc/core/base64.hpp"
#include "mlsc/core/merkle.hpp"
#include "sign/rekor.hpp"
#include "sign/sign_test_util.hpp"
#include "sign/sigstore_crypto.hpp"

namespace mlsc::sign {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::shared_dir;

constexpr const char* kGoldenIdentity = "stefanb@us.ibm.com";
constexpr const char* kGoldenIssuer = "https://sigstore.verify.ibm.com/oauth2";

fs::path sigstore_dir() {
  return shared_dir() / "vectors" / "sigstore";
}
fs::path golden(const std::string& name) {
  return shared_dir() / "vectors" / "model-signing" / "golden-bundles" / name / "model.sig";
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
Json read_json(const fs::path& p) {
  return Json::parse(read_text(p));
}

const TrustedRoot& public_good() {
  static const TrustedRoot root = [] {
    auto r = load_trusted_root(sigstore_dir() / "trusted-root-public-good.json");
    if (!r) throw std::runtime_error(r.error().message);
    return *r;
  }();
  return root;
}

SigstorePolicy golden_policy() {
  return {kGoldenIdentity, kGoldenIssuer};
}

std::vector<std::uint8_t> b64(const Json& j) {
  auto r = base64_decode(j.get<std::string>());
  if (!r) throw std::runtime_error(r.error().message);
  return *r;
}

Json& tlog(Json& bundle) {
  return bundle["verificationMaterial"]["tlogEntries"][0];
}

// Expects failure, with `reason` in the message.
void expect_refused(const Json& bundle, const TrustedRoot& root, const SigstorePolicy& policy,
                    const std::string& reason) {
  auto r = verify_sigstore(bundle, root, policy);
  ASSERT_FALSE(r) << "expected failure mentioning: " << reason;
  EXPECT_NE(r.error().message.find(reason), std::string::npos)
      << "expected '" << reason << "' in: " << r.error().message;
}

// ---- Trusted root ----

TEST(SigstoreTrustedRoot, ParsesPublicGood) {
  const TrustedRoot& root = public_good();
  ASSERT_EQ(root.certificate_authorities.size(), 2u);
  ASSERT_EQ(root.tlogs.size(), 1u);
  EXPECT_EQ(root.ctlogs.size(), 2u);
  EXPECT_FALSE(root.timestamp_authorities.empty());
  const auto& rekor = root.tlogs[0];
  EXPECT_EQ(rekor.base_url, "https://rekor.sigstore.dev");
  EXPECT_EQ(rekor.key_details, "PKIX_ECDSA_P256_SHA_256");
  EXPECT_EQ(rekor.valid_for.start, 1610452407);  // 2021-01-12T11:53:27.000Z
  EXPECT_EQ(rekor.valid_for.end, std::numeric_limits<std::int64_t>::max());
  // The log id is the SHA-256 of the key.
  const auto id = sigstore_crypto::sha256(rekor.public_key_der);
  EXPECT_EQ(rekor.log_id, std::vector<std::uint8_t>(id.begin(), id.end()));
  // The first Fulcio CA was retired at the end of 2022.
  EXPECT_EQ(root.certificate_authorities[0].valid_for.end, 1672531199);  // 2022-12-31T23:59:59.999Z
  EXPECT_EQ(root.certificate_authorities[0].uri, "https://fulcio.sigstore.dev");
  EXPECT_EQ(root.certificate_authorities[1].chain_der.size(), 2u);
  EXPECT_EQ(root.ctlogs[0].valid_for.end,
            1667260799);  // 2022-10-31T23:59:59.999Z, fraction dropped
}

TEST(SigstoreTrustedRoot, ReadsTheRootInsideAClientTrustConfig) {
  auto r = load_trusted_root(sigstore_dir() / "custom_trust_config.json");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->tlogs.size(), 1u);
  EXPECT_EQ(r->tlogs[0].log_id, public_good().tlogs[0].log_id);
  EXPECT_FALSE(r->certificate_authorities.empty());
}

TEST(SigstoreTrustedRoot, RefusesMalformedRoots) {
  const Json good = read_json(sigstore_dir() / "trusted-root-public-good.json");
  const auto refused = [](const Json& j, const std::string& reason) {
    auto r = parse_trusted_root(j.dump());
    ASSERT_FALSE(r) << reason;
    EXPECT_NE(r.error().message.find(reason), std::string::npos) << r.error().message;
  };
  Json j = good;
  j["mediaType"] = "application/json";
  refused(j, "unsupported");
  j = good;
  j.erase("tlogs");
  refused(j, "no transparency logs");
  j = good;
  j["tlogs"][0]["publicKey"]["rawBytes"] = "not base64!";
  refused(j, "tlogs[0].publicKey.rawBytes");
  j = good;
  j["certificateAuthorities"][1]["certChain"]["certificates"][0]["rawBytes"] = "AAAA";
  refused(j, "not a DER X.509 certificate");
  j = good;
  j["tlogs"][0]["publicKey"]["validFor"]["start"] = "2021-13-01T00:00:00Z";
  refused(j, "not an RFC 3339 timestamp");
  j = good;
  j["ctlogs"][0]["logId"]["keyId"] = 5;
  refused(j, "expected a string");
  EXPECT_FALSE(parse_trusted_root(
      "{\"mediaType\": "
      "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"));
  EXPECT_FALSE(parse_trusted_root("not json"));
  EXPECT_FALSE(load_trusted_root(sigstore_dir() / "no-such-file.json"));
}

// ---- Real bundles ----

struct GoldenCase {
  const char* name;
  fs::path path;
};

std::vector<GoldenCase> golden_cases() {
  return {
      {"v0.3.1", golden("v0.3.1-sigstore")},
      {"v1.0.0", golden("v1.0.0-sigstore")},
      {"v1.0.1", golden("v1.0.1-sigstore")},
      {"v1.1.0", golden("v1.1.0-sigstore")},
      {"spec-valid", shared_dir() / "vectors" / "model-signing" / "spec-test-vectors" / "valid" /
                         "sigstore.bundle.json"},
  };
}

TEST(Sigstore, EveryGoldenBundleVerifies) {
  for (const auto& c : golden_cases()) {
    SCOPED_TRACE(c.name);
    const Json bundle = read_json(c.path);
    auto r = verify_sigstore(bundle, public_good(), golden_policy());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->identity, kGoldenIdentity);
    EXPECT_EQ(r->issuer, kGoldenIssuer);
    const Json& entry = bundle["verificationMaterial"]["tlogEntries"][0];
    EXPECT_EQ(std::to_string(r->integrated_time), entry["integratedTime"].get<std::string>());
    EXPECT_EQ(std::to_string(r->log_index), entry["logIndex"].get<std::string>());
    EXPECT_EQ(r->leaf_der, b64(bundle["verificationMaterial"]["certificate"]["rawBytes"]));
    EXPECT_TRUE(r->inclusion_proof_verified);
  }
}

TEST(Sigstore, GoClientProvenanceBundleVerifiesOnItsSet) {
  // v0.1, intoto 0.0.2 entry, certificate chain, no inclusion proof (v0.1 did not require one).
  const Json bundle = read_json(sigstore_dir() / "bundle-provenance.json");
  const SigstorePolicy policy{
      "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
      "https://token.actions.githubusercontent.com"};
  auto r = verify_sigstore(bundle, public_good(), policy);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->integrated_time, 1681839912);
  EXPECT_EQ(r->log_index, 18300934);
  EXPECT_FALSE(r->inclusion_proof_verified);
  expect_refused(bundle, public_good(), {policy.identity, "https://accounts.google.com"},
                 "issuer mismatch");
}

TEST(Sigstore, GoClientPublicKeyBundleIsNotKeyless) {
  const Json bundle = read_json(sigstore_dir() / "bundle-publish.json");
  expect_refused(bundle, public_good(), golden_policy(), "signed with a public key");
}

TEST(Sigstore, SpecInvalidVectorsAreRefused) {
  const fs::path dir = shared_dir() / "vectors" / "model-signing" / "spec-test-vectors" / "invalid";
  const std::pair<const char*, const char*> cases[] = {
      {"empty.bundle.json", "expected a JSON object"},               // an empty file
      {"missing-envelope.bundle.json", "signed with a public key"},  // a key-mode bundle
      {"missing-tlog-entries.bundle.json", "tlogEntries"},
      {"missing-verification-material.bundle.json", "verificationMaterial"},
  };
  for (const auto& [file, reason] : cases) {
    SCOPED_TRACE(file);
    const std::string text = read_text(dir / file);
    const Json bundle = Json::parse(text, nullptr, false);
    expect_refused(bundle, public_good(), golden_policy(), reason);
  }
}

// ---- Tampering with a real bundle ----

class SigstoreTamper : public ::testing::Test {
 protected:
  Json bundle = read_json(golden("v1.1.0-sigstore"));
};

TEST_F(SigstoreTamper, WrongIdentity) {
  expect_refused(bundle, public_good(), {"someone@example.com", kGoldenIssuer},
                 "identity mismatch");
  // Exact match only: no prefix, suffix or case folding.
  expect_refused(bundle, public_good(), {"Stefanb@us.ibm.com", kGoldenIssuer}, "identity mismatch");
  expect_refused(bundle, public_good(), {"stefanb@us.ibm.co", kGoldenIssuer}, "identity mismatch");
}

TEST_F(SigstoreTamper, WrongIssuer) {
  expect_refused(bundle, public_good(), {kGoldenIdentity, "https://accounts.google.com"},
                 "issuer mismatch");
  expect_refused(bundle, public_good(),
                 {kGoldenIdentity, "https://sigstore.verify.ibm.com/oauth2/"}, "issuer mismatch");
}

TEST_F(SigstoreTamper, EmptyPolicyIsRefused) {
  expect_refused(bundle, public_good(), {"", kGoldenIssuer}, "needs both");
  expect_refused(bundle, public_good(), {kGoldenIdentity, ""}, "needs both");
}

TEST_F(SigstoreTamper, SignedEntryTimestamp) {
  auto set = b64(tlog(bundle)["inclusionPromise"]["signedEntryTimestamp"]);
  set[set.size() / 2] ^= 0x01;
  tlog(bundle)["inclusionPromise"]["signedEntryTimestamp"] = base64_encode(set);
  expect_refused(bundle, public_good(), golden_policy(), "signed entry timestamp");
}

TEST_F(SigstoreTamper, IntegratedTimeWithoutResigning) {
  tlog(bundle)["integratedTime"] = "1760062341";
  expect_refused(bundle, public_good(), golden_policy(), "signed entry timestamp");
}

TEST(Sigstore, GoClientProvenancePayloadNotRecorded) {
  Json bundle = read_json(sigstore_dir() / "bundle-provenance.json");
  const SigstorePolicy policy{
      "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
      "https://token.actions.githubusercontent.com"};
  auto payload = b64(bundle["dsseEnvelope"]["payload"]);
  payload[3] ^= 0x01;
  bundle["dsseEnvelope"]["payload"] = base64_encode(payload);
  expect_refused(bundle, public_good(), policy, "body.spec.content.payloadHash differs");
  bundle = read_json(sigstore_dir() / "bundle-provenance.json");
  bundle["dsseEnvelope"]["payloadType"] = "text/plain";
  expect_refused(bundle, public_good(), policy, "payloadType differs");
}

TEST_F(SigstoreTamper, MissingSet) {
  tlog(bundle).erase("inclusionPromise");
  expect_refused(bundle, public_good(), golden_policy(), "inclusionPromise: missing");
}

TEST_F(SigstoreTamper, InclusionProofHash) {
  auto& hashes = tlog(bundle)["inclusionProof"]["hashes"];
  auto h = b64(hashes[3]);
  h[0] ^= 0x80;
  hashes[3] = base64_encode(h);
  expect_refused(bundle, public_good(), golden_policy(), "computed root does not match");
}

TEST_F(SigstoreTamper, InclusionProofShape) {
  auto& proof = tlog(bundle)["inclusionProof"];
  proof["hashes"].erase(proof["hashes"].size() - 1);
  expect_refused(bundle, public_good(), golden_policy(), "fewer hashes");
  bundle = read_json(golden("v1.1.0-sigstore"));
  tlog(bundle)["inclusionProof"]["logIndex"] = "476246823";
  expect_refused(bundle, public_good(), golden_policy(), "inclusion proof:");
  bundle = read_json(golden("v1.1.0-sigstore"));
  tlog(bundle)["inclusionProof"]["logIndex"] = "476246825";  // == tree size
  expect_refused(bundle, public_good(), golden_policy(), "is not below tree size");
}

TEST_F(SigstoreTamper, MissingInclusionProofInV03) {
  tlog(bundle).erase("inclusionProof");
  expect_refused(bundle, public_good(), golden_policy(), "inclusionProof: missing");
}

TEST_F(SigstoreTamper, CheckpointSignature) {
  std::string cp = tlog(bundle)["inclusionProof"]["checkpoint"]["envelope"];
  const auto sig_at = cp.find("\xE2\x80\x94 rekor.sigstore.dev ") +
                      std::string("\xE2\x80\x94 rekor.sigstore.dev ").size();
  auto sig = *base64_decode(cp.substr(sig_at, cp.size() - sig_at - 1));
  sig.back() ^= 0x01;
  cp = cp.substr(0, sig_at) + base64_encode(sig) + "\n";
  tlog(bundle)["inclusionProof"]["checkpoint"]["envelope"] = cp;
  expect_refused(bundle, public_good(), golden_policy(), "checkpoint: signature does not verify");
}

TEST_F(SigstoreTamper, CheckpointText) {
  // The root hash in the note changed together with the proof's: the note's signature catches it.
  std::string cp = tlog(bundle)["inclusionProof"]["checkpoint"]["envelope"];
  cp.replace(cp.find("\n476246825\n"), 11, "\n476246826\n");
  tlog(bundle)["inclusionProof"]["checkpoint"]["envelope"] = cp;
  expect_refused(bundle, public_good(), golden_policy(), "checkpoint: signature does not verify");
}

TEST_F(SigstoreTamper, CheckpointKeyHint) {
  std::string cp = tlog(bundle)["inclusionProof"]["checkpoint"]["envelope"];
  const std::string dash = "\xE2\x80\x94 rekor.sigstore.dev ";
  const auto sig_at = cp.find(dash) + dash.size();
  auto sig = *base64_decode(cp.substr(sig_at, cp.size() - sig_at - 1));
  sig[0] ^= 0x01;
  cp = cp.substr(0, sig_at) + base64_encode(sig) + "\n";
  tlog(bundle)["inclusionProof"]["checkpoint"]["envelope"] = cp;
  expect_refused(bundle, public_good(), golden_policy(), "not signed by the trusted log key");
}

TEST_F(SigstoreTamper, CheckpointDisagreesWithProof) {
  tlog(bundle)["inclusionProof"]["treeSize"] = "476246826";
  expect_refused(bundle, public_good(), golden_policy(), "differs from the signed checkpoint");
  bundle = read_json(golden("v1.1.0-sigstore"));
  auto root = b64(tlog(bundle)["inclusionProof"]["rootHash"]);
  root[5] ^= 1;
  tlog(bundle)["inclusionProof"]["rootHash"] = base64_encode(root);
  expect_refused(bundle, public_good(), golden_policy(),
                 "root hash differs from the signed checkpoint");
}

TEST_F(SigstoreTamper, MalformedCheckpoint) {
  const std::string root = "\n" + std::string(43, 'A') + "=\n";  // 32 zero bytes
  const std::pair<std::string, std::string> cases[] = {
      {"rekor.sigstore.dev - 1\n5\nAAAA\n", "no blank line"},
      {"", "no blank line"},
      {"a\n1\n\n\xE2\x80\x94 x AAAAAAA=\n", "fewer than three lines"},
      {"a\n1\nAAAA\n\n\xE2\x80\x94 x AAAAAAA=\n", "not 32 bytes"},
      {"a\n1" + root + "\n\xE2\x80\x94 x AAAAAAA=\n", "not signed by the trusted log key"},
      {"a\n1" + root + "\n- x AAAAAAA=\n", "em dash"},
      {"a\n1" + root + "\n\xE2\x80\x94 x AAAAAAA=", "end with a newline"},
      {"a\n-1" + root + "\n\xE2\x80\x94 x AAAAAAA=\n", "tree size"},
      {"a\n1" + root + "\n\xE2\x80\x94 x AAAA\n", "too short"},
  };
  for (const auto& [text, reason] : cases) {
    SCOPED_TRACE(reason);
    tlog(bundle)["inclusionProof"]["checkpoint"]["envelope"] = text;
    expect_refused(bundle, public_good(), golden_policy(), reason);
  }
}

TEST_F(SigstoreTamper, BodyWithoutResigning) {
  auto body = b64(tlog(bundle)["canonicalizedBody"]);
  std::string text(body.begin(), body.end());
  const auto at = text.find("\"value\":\"") + 9;
  text[at] = text[at] == '0' ? '1' : '0';
  tlog(bundle)["canonicalizedBody"] = base64_encode(as_bytes(text));
  expect_refused(bundle, public_good(), golden_policy(), "signed entry timestamp");
}

TEST_F(SigstoreTamper, PayloadNotRecordedInTheLog) {
  auto payload = b64(bundle["dsseEnvelope"]["payload"]);
  payload.back() ^= 0x01;
  bundle["dsseEnvelope"]["payload"] = base64_encode(payload);
  expect_refused(bundle, public_good(), golden_policy(), "payloadHash differs");
}

TEST_F(SigstoreTamper, SignatureNotRecordedInTheLog) {
  auto sig = b64(bundle["dsseEnvelope"]["signatures"][0]["sig"]);
  sig[10] ^= 0x01;
  bundle["dsseEnvelope"]["signatures"][0]["sig"] = base64_encode(sig);
  expect_refused(bundle, public_good(), golden_policy(), "signature is not the bundle's");
}

TEST_F(SigstoreTamper, CertificateFromAnotherCa) {
  // The reference's certificate-mode leaf: a code-signing certificate from a private CA.
  const std::string pem = read_text(shared_dir() / "vectors" / "model-signing" / "golden-bundles" /
                                    "keys" / "certificate" / "signing-key-cert.pem");
  auto der = sigstore_crypto::certificate_der_from_pem(as_bytes(pem), "test");
  ASSERT_TRUE(der) << der.error().message;
  bundle["verificationMaterial"]["certificate"]["rawBytes"] = base64_encode(*der);
  expect_refused(bundle, public_good(), golden_policy(), "not verified by any Fulcio CA");
}

TEST_F(SigstoreTamper, CertificateOfAnotherGoldenBundle) {
  // A genuine Fulcio certificate, but not the one the log entry records, nor valid at its time.
  const Json other = read_json(golden("v1.0.0-sigstore"));
  bundle["verificationMaterial"]["certificate"] = other["verificationMaterial"]["certificate"];
  expect_refused(bundle, public_good(), golden_policy(), "certificate has expired");
}

TEST_F(SigstoreTamper, TrustedRootWithoutTheFulcioCas) {
  TrustedRoot root = public_good();
  root.certificate_authorities.erase(root.certificate_authorities.begin() + 1);
  expect_refused(bundle, root, golden_policy(), "no Fulcio CA of the trusted root is valid");
}

TEST_F(SigstoreTamper, TrustedRootWithoutTheCtLogs) {
  TrustedRoot root = public_good();
  root.ctlogs.pop_back();  // the 2022 log that issued the SCT
  expect_refused(bundle, root, golden_policy(), "no valid SCT");
}

TEST_F(SigstoreTamper, SctSignedByAnotherKey) {
  // The 2022 CT log's id, but the 2021 log's key: the SCT signature cannot verify.
  TrustedRoot root = public_good();
  root.ctlogs[1].public_key_der = root.ctlogs[0].public_key_der;
  expect_refused(bundle, root, golden_policy(), "SCT signature does not verify");
}

TEST_F(SigstoreTamper, SctLogNotValidAtItsTime) {
  TrustedRoot root = public_good();
  root.ctlogs[1].valid_for.start = 1800000000;
  expect_refused(bundle, root, golden_policy(), "log key was not valid at the SCT's time");
}

TEST_F(SigstoreTamper, UnknownLog) {
  TrustedRoot root = public_good();
  root.tlogs[0].log_id[0] ^= 1;
  expect_refused(bundle, root, golden_policy(), "is not in the trusted root");
}

TEST_F(SigstoreTamper, LogKeyNotValidAtIntegratedTime) {
  TrustedRoot root = public_good();
  root.tlogs[0].valid_for.end = 1700000000;
  expect_refused(bundle, root, golden_policy(), "outside the validity period of the log key");
}

TEST_F(SigstoreTamper, StructuralProblems) {
  Json j = bundle;
  j["verificationMaterial"]["tlogEntries"].push_back(tlog(bundle));
  expect_refused(j, public_good(), golden_policy(), "expected exactly one entry");
  j = bundle;
  j["verificationMaterial"]["tlogEntries"] = Json::array();
  expect_refused(j, public_good(), golden_policy(), "expected exactly one entry");
  j = bundle;
  j["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.4+json";
  expect_refused(j, public_good(), golden_policy(), "unsupported");
  j = bundle;
  j["dsseEnvelope"]["signatures"].push_back(j["dsseEnvelope"]["signatures"][0]);
  expect_refused(j, public_good(), golden_policy(), "exactly one signature");
  j = bundle;
  j["messageSignature"] = Json::object();
  expect_refused(j, public_good(), golden_policy(),
                 "exactly one of dsseEnvelope and messageSignature");
  j = bundle;
  tlog(j)["kindVersion"]["kind"] = "intoto";
  expect_refused(j, public_good(), golden_policy(), "but kindVersion says intoto");
  j = bundle;
  tlog(j)["logIndex"] = "-5";
  expect_refused(j, public_good(), golden_policy(), "logIndex");
  j = bundle;
  tlog(j)["logIndex"] = "99999999999999999999";
  expect_refused(j, public_good(), golden_policy(), "logIndex");
  j = bundle;
  tlog(j)["inclusionProof"]["hashes"] = Json::array();
  for (int i = 0; i < 65; ++i) tlog(j)["inclusionProof"]["hashes"].push_back("AAAA");
  expect_refused(j, public_good(), golden_policy(), "exceeds the limit");
  j = bundle;
  j["verificationMaterial"]["certificate"]["rawBytes"] = "MIIB";
  expect_refused(j, public_good(), golden_policy(), "certificate");
  expect_refused(Json::array(), public_good(), golden_policy(), "expected a JSON object");
}

// ---- A test log that signs whatever entry a test needs ----

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

class TestLog {
 public:
  TestLog() : key_(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")) {
    unsigned char* der = nullptr;
    const int len = i2d_PUBKEY(key_.get(), &der);
    spki_.assign(der, der + len);
    OPENSSL_free(der);
    const auto id = sigstore_crypto::sha256(spki_);
    log_id_.assign(id.begin(), id.end());
  }

  // The public-good root with this log in place of Rekor.
  TrustedRoot root() const {
    TrustedRoot r = public_good();
    r.tlogs.clear();
    TransparencyLogKey k;
    k.base_url = "https://test.log";
    k.log_id = log_id_;
    k.public_key_der = spki_;
    k.key_details = "PKIX_ECDSA_P256_SHA_256";
    r.tlogs.push_back(k);
    return r;
  }

  std::vector<std::uint8_t> sign(std::string_view message) const {
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    std::size_t len = 0;
    EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()), 1);
    EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, as_bytes(message).data(), message.size()),
              1);
    std::vector<std::uint8_t> sig(len);
    EXPECT_EQ(EVP_DigestSign(ctx.get(), sig.data(), &len, as_bytes(message).data(), message.size()),
              1);
    sig.resize(len);
    return sig;
  }

  // Rewrites the bundle's entry as this log would have logged `body` at `integrated_time`: the
  // body is leaf 3 of a 6-leaf tree, with a SET and a signed checkpoint.
  void log_entry(Json& bundle, const std::vector<std::uint8_t>& body,
                 std::int64_t integrated_time) const {
    Json& e = tlog(bundle);
    const std::int64_t log_index = 4242;
    e["logId"]["keyId"] = base64_encode(log_id_);
    e["logIndex"] = std::to_string(log_index);
    e["integratedTime"] = std::to_string(integrated_time);
    e["canonicalizedBody"] = base64_encode(body);
    e["inclusionPromise"]["signedEntryTimestamp"] = base64_encode(
        sign(signed_entry_timestamp_payload(body, integrated_time, log_id_, log_index)));
    std::vector<merkle::Hash> leaves;
    for (int i = 0; i < 6; ++i)
      leaves.push_back(merkle::leaf_hash(as_bytes("other entry " + std::to_string(i))));
    leaves[3] = merkle::leaf_hash(body);
    const merkle::Hash root = merkle::root(leaves);
    Json hashes = Json::array();
    for (const auto& h : merkle::inclusion_proof(leaves, 3)) hashes.push_back(base64_encode(h));
    const std::string note = "test.log - 77\n6\n" + base64_encode(root) + "\n";
    std::vector<std::uint8_t> sig(log_id_.begin(), log_id_.begin() + 4);
    const auto s = sign(note);
    sig.insert(sig.end(), s.begin(), s.end());
    e["inclusionProof"] = {
        {"logIndex", "3"},
        {"treeSize", "6"},
        {"rootHash", base64_encode(root)},
        {"hashes", hashes},
        {"checkpoint",
         {{"envelope", note + "\n\xE2\x80\x94 test.log " + base64_encode(sig) + "\n"}}}};
  }

 private:
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key_;
  std::vector<std::uint8_t> spki_, log_id_;
};

class SigstoreResigned : public SigstoreTamper {
 protected:
  TestLog log;
  std::vector<std::uint8_t> body = b64(tlog(bundle)["canonicalizedBody"]);
  std::int64_t time = std::stoll(tlog(bundle)["integratedTime"].get<std::string>());
};

TEST_F(SigstoreResigned, UnchangedEntryVerifies) {
  // Guards the tests below: only what each one changes makes it fail.
  log.log_entry(bundle, body, time);
  auto r = verify_sigstore(bundle, log.root(), golden_policy());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->log_index, 4242);
  expect_refused(bundle, public_good(), golden_policy(), "is not in the trusted root");
}

TEST_F(SigstoreResigned, IntegratedTimeAfterTheCertificateExpired) {
  log.log_entry(bundle, body, time + 3600);  // Fulcio certificates live for ten minutes
  expect_refused(bundle, log.root(), golden_policy(), "certificate has expired");
}

TEST_F(SigstoreResigned, IntegratedTimeBeforeTheCertificateWasIssued) {
  log.log_entry(bundle, body, time - 3600);
  expect_refused(bundle, log.root(), golden_policy(), "certificate is not yet valid");
}

TEST_F(SigstoreResigned, BodyOfAnotherPayload) {
  Json parsed = Json::parse(body);
  parsed["spec"]["payloadHash"]["value"] = std::string(64, 'a');
  const std::string text = parsed.dump();
  log.log_entry(bundle, std::vector<std::uint8_t>(text.begin(), text.end()), time);
  expect_refused(bundle, log.root(), golden_policy(), "payloadHash differs");
}

TEST_F(SigstoreResigned, BodyWithAnotherVerifier) {
  Json parsed = Json::parse(body);
  const Json other = read_json(golden("v1.0.0-sigstore"));
  const Json other_body = Json::parse(b64(tlog(const_cast<Json&>(other))["canonicalizedBody"]));
  parsed["spec"]["signatures"][0]["verifier"] = other_body["spec"]["signatures"][0]["verifier"];
  const std::string text = parsed.dump();
  log.log_entry(bundle, std::vector<std::uint8_t>(text.begin(), text.end()), time);
  expect_refused(bundle, log.root(), golden_policy(), "verifier is not the bundle's certificate");
}

TEST_F(SigstoreResigned, BodyWithExtraSignature) {
  Json parsed = Json::parse(body);
  parsed["spec"]["signatures"].push_back(parsed["spec"]["signatures"][0]);
  const std::string text = parsed.dump();
  log.log_entry(bundle, std::vector<std::uint8_t>(text.begin(), text.end()), time);
  expect_refused(bundle, log.root(), golden_policy(), "records 2 signatures");
}

TEST_F(SigstoreResigned, UnsupportedKind) {
  Json parsed = Json::parse(body);
  parsed["kind"] = "rekord";
  tlog(bundle)["kindVersion"]["kind"] = "rekord";
  const std::string text = parsed.dump();
  log.log_entry(bundle, std::vector<std::uint8_t>(text.begin(), text.end()), time);
  expect_refused(bundle, log.root(), golden_policy(), "kind rekord 0.0.1 is not supported");
}

TEST_F(SigstoreResigned, CheckpointByAnotherKeyWithTheSameHint) {
  log.log_entry(bundle, body, time);
  // A second test log signs the checkpoint; the hint still names the trusted log.
  TestLog impostor;
  std::string cp = tlog(bundle)["inclusionProof"]["checkpoint"]["envelope"];
  const std::string note = cp.substr(0, cp.find("\n\n") + 1);
  auto trusted = log.root();
  std::vector<std::uint8_t> sig(trusted.tlogs[0].log_id.begin(),
                                trusted.tlogs[0].log_id.begin() + 4);
  const auto s = impostor.sign(note);
  sig.insert(sig.end(), s.begin(), s.end());
  tlog(bundle)["inclusionProof"]["checkpoint"]["envelope"] =
      note + "\n\xE2\x80\x94 test.log " + base64_encode(sig) + "\n";
  expect_refused(bundle, trusted, golden_policy(), "checkpoint: signature does not verify");
}

TEST_F(SigstoreResigned, WitnessCosignaturesAreIgnored) {
  log.log_entry(bundle, body, time);
  std::string cp = tlog(bundle)["inclusionProof"]["checkpoint"]["envelope"];
  cp += "\xE2\x80\x94 witness.example AAAAAAAAAAAAAAAA\n";
  tlog(bundle)["inclusionProof"]["checkpoint"]["envelope"] = cp;
  auto r = verify_sigstore(bundle, log.root(), golden_policy());
  EXPECT_TRUE(r) << r.error().message;
}

TEST_F(SigstoreResigned, MessageSignatureBundleWithHashedRekordEntry) {
  // A hashedrekord entry for a message-signature bundle made from the golden bundle's parts.
  const auto cert = b64(bundle["verificationMaterial"]["certificate"]["rawBytes"]);
  const std::string pem =
      "-----BEGIN CERTIFICATE-----\n" + base64_encode(cert) + "\n-----END CERTIFICATE-----\n";
  const std::vector<std::uint8_t> digest(32, 0xab);
  const std::string sig = bundle["dsseEnvelope"]["signatures"][0]["sig"];
  const Json rekord = {
      {"apiVersion", "0.0.1"},
      {"kind", "hashedrekord"},
      {"spec",
       {{"data", {{"hash", {{"algorithm", "sha256"}, {"value", std::string(64, 'a')}}}}},
        {"signature",
         {{"content", sig}, {"publicKey", {{"content", base64_encode(as_bytes(pem))}}}}}}}};
  Json ms = bundle;
  ms.erase("dsseEnvelope");
  ms["messageSignature"] = {
      {"messageDigest", {{"algorithm", "SHA2_256"}, {"digest", base64_encode(digest)}}},
      {"signature", sig}};
  tlog(ms)["kindVersion"] = {{"kind", "hashedrekord"}, {"version", "0.0.1"}};
  Json good_rekord = rekord;
  std::string digest_hex;
  for (int i = 0; i < 32; ++i) digest_hex += "ab";
  good_rekord["spec"]["data"]["hash"]["value"] = digest_hex;
  const std::string good_text = good_rekord.dump();
  log.log_entry(ms, std::vector<std::uint8_t>(good_text.begin(), good_text.end()), time);
  auto r = verify_sigstore(ms, log.root(), golden_policy());
  ASSERT_TRUE(r) << r.error().message;

  const std::string bad_text = rekord.dump();  // records another digest
  log.log_entry(ms, std::vector<std::uint8_t>(bad_text.begin(), bad_text.end()), time);
  expect_refused(ms, log.root(), golden_policy(), "body.spec.data.hash differs");
  // A DSSE entry cannot stand for a message signature.
  log.log_entry(ms, body, time);
  tlog(ms)["kindVersion"] = {{"kind", "dsse"}, {"version", "0.0.1"}};
  expect_refused(ms, log.root(), golden_policy(), "not supported for a message-signature bundle");
}

}  // namespace
}  // namespace mlsc::sign
