// End to end: the reference's golden bundles and the spec's vectors through our verifier, our
// own signatures through it (every curve, hash and method), the tampering cases the issue
// lists, statements identical to the reference's, and incremental re-signing.
#include <gtest/gtest.h>

#include "mlsc/core/base64.hpp"
#include "mlsc/sign/sign.hpp"
#include "mlsc/sign/sign_cache.hpp"
#include "mlsc/sign/statement.hpp"
#include "mlsc/sign/verifier.hpp"
#include "pki_fixture.hpp"

namespace mlsc::sign {
namespace {

using namespace testing;
using nlohmann::json;

fs::path goldens() {
  return vectors_dir() / "golden-bundles";
}
fs::path golden_keys() {
  return goldens() / "keys" / "certificate";
}
fs::path spec_vector(const std::string& name) {
  return vectors_dir() / "spec-test-vectors" / name;
}

TrustMaterial key_trust(const fs::path& pub) {
  return {TrustMode::public_key, pub, "", ""};
}
TrustMaterial anchor_trust(const fs::path& ca) {
  return {TrustMode::certificate, ca, "", ""};
}

std::string describe(const VerifyResult& r) {
  std::string s = r.ok() ? "ok" : "FAILED";
  for (const auto& f : r.failures) s += "\n  " + f.code + ": " + f.message;
  for (const auto& w : r.warnings) s += "\n  warning: " + w;
  return s;
}

std::vector<std::string> codes(const VerifyResult& r) {
  std::vector<std::string> out;
  for (const auto& f : r.failures) out.push_back(f.code);
  return out;
}

// A writable copy of a golden model folder, without its model.sig, named like the original.
fs::path copy_model(const std::string& folder, const fs::path& base) {
  const fs::path to = base / folder;
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(goldens() / folder)) {
    if (e.path().filename() == "model.sig") continue;
    fs::copy_file(e.path(), to / e.path().filename());
    fs::permissions(to / e.path().filename(), fs::perms::owner_read | fs::perms::owner_write);
  }
  return to;
}

std::string payload_text(const Bundle& b) {
  return {b.envelope.payload.begin(), b.envelope.payload.end()};
}

// --- The reference's golden bundles ------------------------------------------------------

struct GoldenCase {
  std::string folder;
  bool single_file;  // verified against signme-1 alone
  bool ignore_me;    // the reference's tests pass --ignore-paths ignore-me
};

// vectors/model-signing/README.md: how the reference verifies each key and certificate bundle.
const std::vector<GoldenCase> kKeyAndCertificateGoldens = {
    {"v0.2.0-certificate", false, false}, {"v0.3.1-certificate", false, false},
    {"v1.0.0-certificate", false, false}, {"v1.0.1-certificate", false, true},
    {"v1.1.0-certificate", false, true},  {"v0.3.1-elliptic-key", true, false},
    {"v1.0.0-elliptic-key", true, false}, {"v1.0.1-elliptic-key", false, true},
    {"v1.1.0-elliptic-key", false, true},
};

TEST(SignVerify, EveryGoldenKeyAndCertificateBundleVerifies) {
  for (const auto& c : kKeyAndCertificateGoldens) {
    const fs::path dir = goldens() / c.folder;
    const bool cert = c.folder.ends_with("certificate");
    const TrustMaterial trust = cert ? anchor_trust(golden_keys() / "ca-cert.pem")
                                     : key_trust(golden_keys() / "signing-key-pub.pem");
    SignedModelOptions o;
    if (c.ignore_me) o.ignore_paths = {"ignore-me"};
    const VerifyResult r =
        verify_signed_model(c.single_file ? dir / "signme-1" : dir, dir / "model.sig", trust, o);
    EXPECT_TRUE(r.ok()) << c.folder << ": " << describe(r);
    EXPECT_EQ(r.statement->resources.size(), c.single_file ? 1U : 2U) << c.folder;
    // Only the 0.2.0 bundle needs the legacy PAE encoding.
    EXPECT_EQ(r.warnings.size(), c.folder == "v0.2.0-certificate" ? 1U : 0U)
        << c.folder << describe(r);
  }
}

TEST(SignVerify, GoldenBundlesFailWithTheOtherModesMaterial) {
  const fs::path dir = goldens() / "v1.1.0-certificate";
  const VerifyResult r =
      verify_signed_model(dir, dir / "model.sig", key_trust(golden_keys() / "signing-key-pub.pem"));
  EXPECT_EQ(codes(r), std::vector<std::string>{"bundle.material_mismatch"}) << describe(r);
  EXPECT_NE(r.failures[0].message.find("--trust-anchor"), std::string::npos);
  const fs::path sig = goldens() / "v1.1.0-sigstore";
  const VerifyResult s =
      verify_signed_model(sig, sig / "model.sig", anchor_trust(golden_keys() / "ca-cert.pem"));
  EXPECT_EQ(codes(s), std::vector<std::string>{"bundle.material_mismatch"}) << describe(s);
}

// --- The spec's vectors -------------------------------------------------------------------

TEST(SignVerify, SpecValidKeyAndCertificateVectorsVerify) {
  // They sign the files of the 1.1.0 elliptic-key golden model (signme-1, signme-2; ignore-me
  // ignored).
  ScratchDir dir;
  const fs::path model = copy_model("v1.1.0-elliptic-key", dir.path());
  const VerifyResult k = verify_signed_model(model, spec_vector("valid/key.bundle.json"),
                                             key_trust(golden_keys() / "signing-key-pub.pem"));
  EXPECT_TRUE(k.ok()) << describe(k);
  const VerifyResult c = verify_signed_model(model, spec_vector("valid/certificate.bundle.json"),
                                             anchor_trust(golden_keys() / "ca-cert.pem"));
  EXPECT_TRUE(c.ok()) << describe(c);
}

TEST(SignVerify, EverySpecInvalidVectorIsRejectedWithASpecificReason) {
  ScratchDir dir;
  const fs::path model = copy_model("v1.1.0-elliptic-key", dir.path());
  const TrustMaterial key = key_trust(golden_keys() / "signing-key-pub.pem");
  struct Case {
    std::string vector;
    std::string code;
    std::string says;
  };
  const Case cases[] = {
      {"invalid/empty.bundle.json", "bundle.malformed", "the file is empty"},
      {"invalid/missing-envelope.bundle.json", "bundle.malformed", "no dsseEnvelope"},
      {"invalid/missing-verification-material.bundle.json", "bundle.malformed",
       "no verificationMaterial"},
      {"invalid/missing-tlog-entries.bundle.json", "bundle.material_mismatch",
       "verificationMaterial.certificate"},
      // Its signature is the valid key vector's, over a different payload: it fails there first.
      {"invalid-payload/wrong-predicate.bundle.json", "signature.invalid", "does not verify"},
  };
  for (const auto& c : cases) {
    const VerifyResult r = verify_signed_model(model, spec_vector(c.vector), key);
    EXPECT_FALSE(r.ok()) << c.vector;
    EXPECT_FALSE(r.input_error) << c.vector;
    ASSERT_EQ(codes(r), std::vector<std::string>{c.code}) << c.vector << describe(r);
    EXPECT_NE(r.failures[0].message.find(c.says), std::string::npos) << c.vector << describe(r);
  }
  // Signed properly (with the same key), its payload is rejected for the predicate type itself.
  auto wrong = read_bundle(spec_vector("invalid-payload/wrong-predicate.bundle.json"));
  ASSERT_TRUE(wrong);
  const auto signer = PrivateKey::load(golden_keys() / "signing-key.pem");
  wrong->envelope.signatures[0].sig =
      *signer->sign(as_bytes(dsse_pae(wrong->envelope.payload_type, wrong->envelope.payload)));
  ASSERT_TRUE(write_bundle(*wrong, dir.path() / "wrong-predicate.sig"));
  const VerifyResult w = verify_signed_model(model, dir.path() / "wrong-predicate.sig", key);
  EXPECT_TRUE(w.signature_ok);
  ASSERT_EQ(codes(w), std::vector<std::string>{"statement.predicate_type"}) << describe(w);
  EXPECT_NE(w.failures[0].message.find("https://example.com/wrong-predicate/v1.0"),
            std::string::npos);
  // In Sigstore mode, the bundle without a log entry fails on that, before any trusted root is
  // read.
  const VerifyResult s =
      verify_signed_model(model, spec_vector("invalid/missing-tlog-entries.bundle.json"),
                          {TrustMode::sigstore, dir.path() / "no-root.json", "a@b", "https://i"});
  EXPECT_EQ(codes(s), std::vector<std::string>{"sigstore.no_tlog_entry"}) << describe(s);
}

// --- Our signatures -----------------------------------------------------------------------

SignResult sign_ok(const fs::path& model, const fs::path& key, const SignOptions& o) {
  auto r = sign_model(model, key, o);
  EXPECT_TRUE(r) << (r ? "" : r.error().describe());
  return r ? std::move(*r) : SignResult{};
}

TEST(SignVerify, RoundTripEveryKeyTypeHashTypeAndMethod) {
  if (!have_tool("openssl")) GTEST_SKIP() << "openssl command line tool not installed";
  ScratchDir dir;
  const fs::path model = make_reference_model("sample_model_folder", dir.path());
  write_file(model / "big.bin", pattern_bytes(3000));
  for (const char* curve : {"P-256", "P-384", "P-521", "ED25519"}) {
    const fs::path key = make_key(dir.path(), curve, curve);
    const fs::path pub = public_key_of(key);
    for (auto hash : {HashType::sha256, HashType::blake2b, HashType::blake3}) {
      for (auto method : {Method::files, Method::shards}) {
        SignOptions o;
        o.hashing.hash = hash;
        o.hashing.method = method;
        o.hashing.shard_size = 1024;
        o.signature = dir.path() / "model.sig";
        const SignResult s = sign_ok(model, key, o);
        const std::string what = std::string(curve) + "/" + std::string(to_string(hash)) + "/" +
                                 std::string(to_string(method));
        EXPECT_EQ(s.manifest.hash, hash) << what;
        const VerifyResult v = verify_signed_model(model, o.signature, key_trust(pub));
        EXPECT_TRUE(v.ok()) << what << describe(v);
        EXPECT_EQ(v.statement->method, s.manifest.method) << what;
      }
    }
  }
}

TEST(SignVerify, ShardModeWritesShardResources) {
  ScratchDir dir;
  const fs::path model = dir.path() / "m";
  write_file(model / "w.bin", pattern_bytes(2500));
  write_file(model / "empty", "");
  SignOptions o;
  o.hashing.method = Method::shards;
  o.hashing.shard_size = 1000;
  o.signature = dir.path() / "model.sig";
  const SignResult s = sign_ok(model, golden_keys() / "signing-key.pem", o);
  const json statement = json::parse(payload_text(s.bundle));
  EXPECT_EQ(statement["predicate"]["serialization"]["shard_size"], 1000);
  ASSERT_EQ(statement["predicate"]["resources"].size(), 3U);  // the empty file has no shard
  EXPECT_EQ(statement["predicate"]["resources"][2]["name"], "w.bin:2000:2500");
  EXPECT_EQ(statement["predicate"]["resources"][2]["algorithm"], "sha256-sharded-1000");
  EXPECT_TRUE(
      verify_signed_model(model, o.signature, key_trust(golden_keys() / "signing-key-pub.pem"))
          .ok());
}

// Our key- and certificate-mode statements for the golden models, signed with the golden keys,
// equal the reference 1.1.0's as parsed JSON (ignore_paths compared as sets: the reference
// writes them in Python set order).
json normalised_statement(std::string_view payload) {
  json s = json::parse(payload);
  auto& ignores = s["predicate"]["serialization"]["ignore_paths"];
  std::sort(ignores.begin(), ignores.end());
  return s;
}

TEST(SignVerify, OurStatementsEqualTheReferences) {
  for (const std::string folder : {"v1.1.0-elliptic-key", "v1.1.0-certificate"}) {
    ScratchDir dir;
    const fs::path model = copy_model(folder, dir.path());
    SignOptions o;
    o.hashing.ignore_paths = {"ignore-me"};
    o.signature = model / "model.sig";  // signed in place, as the reference's goldens were
    const bool cert = folder.ends_with("certificate");
    if (cert)
      o.cert_chain = {golden_keys() / "signing-key-cert.pem", golden_keys() / "int-ca-cert.pem"};
    const SignResult s = sign_ok(model, golden_keys() / "signing-key.pem", o);
    const auto reference = read_bundle(goldens() / folder / "model.sig");
    ASSERT_TRUE(reference);
    EXPECT_EQ(normalised_statement(payload_text(s.bundle)),
              normalised_statement(payload_text(*reference)))
        << folder;
    EXPECT_EQ(s.bundle.kind, reference->kind);
    EXPECT_EQ(s.bundle.public_key.hint, reference->public_key.hint);
    EXPECT_EQ(s.bundle.certificates, reference->certificates);
    EXPECT_FALSE(s.cache) << "no cache is written inside the model unless --reuse asks for it";
    // And the reference's verification inputs accept ours.
    SignedModelOptions v;
    const TrustMaterial trust = cert ? anchor_trust(golden_keys() / "ca-cert.pem")
                                     : key_trust(golden_keys() / "signing-key-pub.pem");
    EXPECT_TRUE(verify_signed_model(model, o.signature, trust, v).ok()) << folder;
  }
}

// --- Tampering ----------------------------------------------------------------------------

class Tampering : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = dir_.path() / "model";
    write_file(model_ / "weights.bin", pattern_bytes(5000));
    write_file(model_ / "config.json", "{\"layers\": 3}");
    write_file(model_ / "sub" / "tokenizer.json", "{}");
    o_.signature = dir_.path() / "model.sig";
    sign_ok(model_, golden_keys() / "signing-key.pem", o_);
    ASSERT_TRUE(verify().ok());
  }
  VerifyResult verify(const fs::path& pub = golden_keys() / "signing-key-pub.pem") const {
    return verify_signed_model(model_, o_.signature, key_trust(pub));
  }
  // Rewrites the signature's statement (payload) and, when `resign`, signs it again.
  void rewrite_payload(const std::function<void(json&)>& change, bool resign) {
    auto b = read_bundle(o_.signature);
    ASSERT_TRUE(b);
    json statement = json::parse(payload_text(*b));
    change(statement);
    const std::string text = statement.dump(2);
    b->envelope.payload.assign(text.begin(), text.end());
    if (resign) {
      const auto key = PrivateKey::load(golden_keys() / "signing-key.pem");
      b->envelope.signatures[0].sig =
          *key->sign(as_bytes(dsse_pae(b->envelope.payload_type, b->envelope.payload)));
    }
    ASSERT_TRUE(write_bundle(*b, o_.signature));
  }
  ScratchDir dir_;
  fs::path model_;
  SignOptions o_;
};

TEST_F(Tampering, OneFlippedByteNamesTheFile) {
  std::string bytes = read_file(model_ / "weights.bin");
  bytes[4321] = static_cast<char>(bytes[4321] ^ 0x01);
  write_file(model_ / "weights.bin", bytes);
  const VerifyResult r = verify();
  EXPECT_TRUE(r.signature_ok);
  EXPECT_EQ(codes(r), std::vector<std::string>{"model.mismatch"});
  ASSERT_EQ(r.diff->changed.size(), 1U);
  EXPECT_EQ(r.diff->changed[0].name, "weights.bin");
  EXPECT_TRUE(r.diff->missing.empty());
  EXPECT_TRUE(r.diff->extra.empty());
}

TEST_F(Tampering, RenamedFileIsMissingAndExtra) {
  fs::rename(model_ / "config.json", model_ / "config2.json");
  const VerifyResult r = verify();
  EXPECT_EQ(r.diff->missing, std::vector<std::string>{"config.json"});
  EXPECT_EQ(r.diff->extra, std::vector<std::string>{"config2.json"});
  EXPECT_NE(r.failures.at(0).message.find("1 missing, 1 extra"), std::string::npos) << describe(r);
}

TEST_F(Tampering, AddedFileIsExtraUnlessIgnored) {
  write_file(model_ / "sub" / "payload.pkl", "cos\nsystem\n");
  const VerifyResult r = verify();
  EXPECT_EQ(r.diff->extra, std::vector<std::string>{"sub/payload.pkl"});
  SignedModelOptions o;
  o.ignore_paths = {"sub/payload.pkl"};
  EXPECT_TRUE(
      verify_signed_model(model_, o_.signature, key_trust(golden_keys() / "signing-key-pub.pem"), o)
          .ok());
}

TEST_F(Tampering, WrongKeyIsRejected) {
  if (!have_tool("openssl")) GTEST_SKIP() << "openssl command line tool not installed";
  const fs::path other = public_key_of(make_key(dir_.path(), "P-384", "other"));
  const VerifyResult r = verify(other);
  EXPECT_EQ(codes(r), std::vector<std::string>{"signature.key_mismatch"}) << describe(r);
  EXPECT_FALSE(r.signature_ok);
  EXPECT_FALSE(r.statement) << "an unverified payload is never parsed";
  // Without the hint to give it away, the signature itself fails.
  auto b = read_bundle(o_.signature);
  b->public_key.hint = "00";
  ASSERT_TRUE(write_bundle(*b, o_.signature));
  auto text = read_file(o_.signature);
  const json j = json::parse(text);
  EXPECT_EQ(j["verificationMaterial"]["publicKey"]["hint"], "00");
  const VerifyResult no_hint = verify(other);
  EXPECT_EQ(codes(no_hint), std::vector<std::string>{"signature.key_mismatch"});
}

TEST_F(Tampering, AlteredPayloadBreaksTheSignature) {
  rewrite_payload([](json& s) { s["predicate"]["resources"][0]["digest"] = std::string(64, '0'); },
                  false);
  const VerifyResult r = verify();
  EXPECT_EQ(codes(r), std::vector<std::string>{"signature.invalid"}) << describe(r);
}

TEST_F(Tampering, PayloadDigestMismatchIsRejectedEvenWhenSigned) {
  // A signer (or a broken tool) wrote a statement whose subject digest does not cover its
  // resources.
  rewrite_payload([](json& s) { s["subject"][0]["digest"]["sha256"] = std::string(64, 'a'); },
                  true);
  const VerifyResult r = verify();
  EXPECT_TRUE(r.signature_ok);
  EXPECT_EQ(codes(r), std::vector<std::string>{"statement.subject_digest"}) << describe(r);
  // Or resources whose digests are not the model's.
  rewrite_payload(
      [](json& s) {
        s["predicate"]["resources"][0]["digest"] = std::string(64, '0');
        s["subject"][0]["digest"]["sha256"] = std::string(64, 'a');
      },
      true);
  EXPECT_EQ(codes(verify()), std::vector<std::string>{"statement.subject_digest"});
}

TEST_F(Tampering, WrongPayloadTypeIsRejected) {
  auto b = read_bundle(o_.signature);
  b->envelope.payload_type = "application/json";
  const auto key = PrivateKey::load(golden_keys() / "signing-key.pem");
  b->envelope.signatures[0].sig =
      *key->sign(as_bytes(dsse_pae(b->envelope.payload_type, b->envelope.payload)));
  ASSERT_TRUE(write_bundle(*b, o_.signature));
  EXPECT_EQ(codes(verify()), std::vector<std::string>{"envelope.payload_type"});
}

TEST_F(Tampering, TruncatedBundle) {
  const std::string text = read_file(o_.signature);
  write_file(o_.signature, text.substr(0, text.size() - 40));
  const VerifyResult r = verify();
  EXPECT_EQ(codes(r), std::vector<std::string>{"bundle.malformed"}) << describe(r);
  EXPECT_NE(r.failures[0].message.find("truncated"), std::string::npos) << describe(r);
  EXPECT_FALSE(r.input_error);
}

TEST_F(Tampering, MissingInputsAreInputErrors) {
  const VerifyResult no_sig = verify_signed_model(model_, dir_.path() / "absent.sig",
                                                  key_trust(golden_keys() / "signing-key-pub.pem"));
  EXPECT_TRUE(no_sig.input_error);
  EXPECT_EQ(codes(no_sig), std::vector<std::string>{"input.signature"});
  const VerifyResult no_key = verify(dir_.path() / "absent.pem");
  EXPECT_TRUE(no_key.input_error);
  EXPECT_EQ(codes(no_key), std::vector<std::string>{"input.public_key"});
  const VerifyResult no_model = verify_signed_model(
      dir_.path() / "gone", o_.signature, key_trust(golden_keys() / "signing-key-pub.pem"));
  EXPECT_TRUE(no_model.input_error);
  EXPECT_EQ(codes(no_model), std::vector<std::string>{"input.model"});
}

TEST(SignVerify, CertificateModeRoundTripAndFailures) {
  if (!have_tool("openssl")) GTEST_SKIP() << "openssl command line tool not installed";
  ScratchDir dir;
  TestPki pki(dir.path() / "pki");
  const fs::path model = make_reference_model("sample_model_folder", dir.path());
  auto sign_with = [&](const TestPki::Leaf& leaf, const fs::path& intermediate) {
    // make_bundle, not sign_model: sign_model refuses a certificate that may not sign.
    HashOptions h;
    const auto m = hash_model(model, h);
    const auto key = PrivateKey::load(leaf.key);
    std::vector<Certificate> chain = *Certificate::load_pem_file(leaf.cert);
    chain.push_back(Certificate::load_pem_file(intermediate)->front());
    const auto b = make_bundle(*m, *key, chain);
    EXPECT_TRUE(write_bundle(*b, dir.path() / "model.sig"));
    return verify_signed_model(model, dir.path() / "model.sig", anchor_trust(pki.root));
  };
  const auto good =
      pki.leaf("good", "intermediate", "code_signing", "20210101000000Z", "20390101000000Z");
  const VerifyResult ok = sign_with(good, pki.intermediate);
  EXPECT_TRUE(ok.ok()) << describe(ok);
  EXPECT_EQ(ok.signer, "CN=good");

  const auto expired =
      pki.leaf("expired", "intermediate", "code_signing", "20200101000000Z", "20210101000000Z");
  EXPECT_EQ(codes(sign_with(expired, pki.intermediate)),
            std::vector<std::string>{"certificate.expired"});
  const auto tls =
      pki.leaf("tls", "intermediate", "tls_server", "20210101000000Z", "20390101000000Z");
  EXPECT_EQ(codes(sign_with(tls, pki.intermediate)), std::vector<std::string>{"certificate.usage"});
  const auto late =
      pki.leaf("late", "old-intermediate", "code_signing", "20210101000000Z", "20390101000000Z");
  EXPECT_EQ(codes(sign_with(late, pki.old_intermediate)),
            std::vector<std::string>{"certificate.expired"});

  // sign_model itself checks the certificate belongs to the key and may sign.
  SignOptions o;
  o.signature = dir.path() / "model.sig";
  o.cert_chain = {tls.cert, pki.intermediate};
  const auto refused = sign_model(model, tls.key, o);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("may not sign"), std::string::npos);
  o.cert_chain = {good.cert, pki.intermediate};
  const auto mismatch = sign_model(model, tls.key, o);
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().message.find("does not hold the signing key"), std::string::npos);
}

// --- Incremental re-signing -----------------------------------------------------------------

TEST(SignVerify, ReuseRehashesOnlyChangedFiles) {
  ScratchDir dir;
  const fs::path model = dir.path() / "model";
  write_file(model / "a.bin", pattern_bytes(100000, 1));
  write_file(model / "b.bin", pattern_bytes(200000, 2));
  write_file(model / "c.txt", "small");
  // Make the files look older than the racy window, as files that were not just written.
  for (const char* f : {"a.bin", "b.bin", "c.txt"}) {
    fs::last_write_time(model / f, fs::last_write_time(model / f) - std::chrono::seconds(60));
  }
  const fs::path key = golden_keys() / "signing-key.pem";
  SignOptions o;
  o.signature = dir.path() / "model.sig";
  o.reuse = o.signature;

  const SignResult first = sign_ok(model, key, o);  // no previous signature yet
  EXPECT_EQ(first.manifest.bytes_hashed, 300005U);
  EXPECT_FALSE(first.reuse_note.empty());
  ASSERT_TRUE(first.cache);
  EXPECT_EQ(*first.cache, sign_cache_path(o.signature));

  const SignResult second = sign_ok(model, key, o);
  EXPECT_EQ(second.manifest.bytes_hashed, 0U) << second.reuse_note;
  EXPECT_EQ(second.manifest.bytes_reused, 300005U);
  EXPECT_EQ(second.manifest.files_reused, 3U);
  EXPECT_EQ(payload_text(second.bundle), payload_text(first.bundle));

  std::string b = read_file(model / "b.bin");
  b[7] = static_cast<char>(b[7] ^ 0x40);
  write_file(model / "b.bin", b);  // same size, new mtime
  // An mtime after the start of hashing (as for a file written while or just before signing):
  // racy, so it stays out of the cache whatever the machine's speed.
  fs::last_write_time(model / "b.bin", fs::file_time_type::clock::now() + std::chrono::hours(1));
  const SignResult third = sign_ok(model, key, o);
  EXPECT_EQ(third.manifest.bytes_hashed, 200000U);
  EXPECT_EQ(third.manifest.files_reused, 2U);
  const VerifyResult v =
      verify_signed_model(model, o.signature, key_trust(golden_keys() / "signing-key-pub.pem"));
  EXPECT_TRUE(v.ok()) << describe(v);

  // b.bin's stamp is racy: it was left out of the cache and is hashed again.
  const SignResult fourth = sign_ok(model, key, o);
  EXPECT_EQ(fourth.manifest.bytes_hashed, 200000U);

  // A cache that belongs to another signature is not used.
  write_file(o.signature, read_file(o.signature) + " ");
  const SignResult fifth = sign_ok(model, key, o);
  EXPECT_EQ(fifth.manifest.bytes_hashed, 300005U);
  EXPECT_NE(fifth.reuse_note.find("another signature"), std::string::npos) << fifth.reuse_note;
}

TEST(SignVerify, ReuseNeverTrustsATamperedPreviousSignature) {
  ScratchDir dir;
  const fs::path model = dir.path() / "model";
  write_file(model / "a.bin", pattern_bytes(1000));
  fs::last_write_time(model / "a.bin",
                      fs::last_write_time(model / "a.bin") - std::chrono::seconds(60));
  SignOptions o;
  o.signature = dir.path() / "model.sig";
  o.reuse = o.signature;
  sign_ok(model, golden_keys() / "signing-key.pem", o);
  sign_ok(model, golden_keys() / "signing-key.pem", o);  // the cache now covers a.bin
  // Someone swaps the digest in the previous signature and fixes up the cache's checksum.
  auto b = read_bundle(o.signature);
  json statement = json::parse(payload_text(*b));
  statement["predicate"]["resources"][0]["digest"] = std::string(64, '1');
  const std::string text = statement.dump(2);
  b->envelope.payload.assign(text.begin(), text.end());
  const std::string forged = serialize_bundle(*b);
  write_file(o.signature, forged);
  json cache = json::parse(read_file(sign_cache_path(o.signature)));
  cache["signature_sha256"] = hash_bytes(HashType::sha256, as_bytes(forged))->hex();
  write_file(sign_cache_path(o.signature), cache.dump());
  const SignResult r = sign_ok(model, golden_keys() / "signing-key.pem", o);
  EXPECT_EQ(r.manifest.bytes_hashed, 1000U);
  EXPECT_NE(r.reuse_note.find("does not verify"), std::string::npos) << r.reuse_note;
}

TEST(SignVerify, CacheInsideTheModelIsIgnoredAndRecorded) {
  ScratchDir dir;
  const fs::path model = dir.path() / "model";
  write_file(model / "a.bin", pattern_bytes(1000));
  SignOptions o;
  o.signature = model / "model.sig";
  o.reuse = o.signature;
  sign_ok(model, golden_keys() / "signing-key.pem", o);
  const SignResult again = sign_ok(model, golden_keys() / "signing-key.pem", o);
  ASSERT_TRUE(fs::exists(sign_cache_path(o.signature)));
  EXPECT_EQ(again.manifest.resources.size(), 1U);
  EXPECT_NE(std::find(again.manifest.ignore_paths.begin(), again.manifest.ignore_paths.end(),
                      "model.sig.mlsc-cache"),
            again.manifest.ignore_paths.end());
  EXPECT_TRUE(
      verify_signed_model(model, o.signature, key_trust(golden_keys() / "signing-key-pub.pem"))
          .ok());
}

}  // namespace
}  // namespace mlsc::sign
