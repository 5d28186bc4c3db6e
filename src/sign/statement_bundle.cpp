#include "mlsc/sign/statement_bundle.hpp"

#include "mlsc/sign/dsse.hpp"
#include "mlsc/sign/sign.hpp"

namespace mlsc::sign {

namespace fs = std::filesystem;

namespace {

constexpr int kPayloadIndent = 2;

Expected<void> check_statement_shape(const nlohmann::json& s) {
  if (!s.is_object()) return Error("statement: not a JSON object");
  const auto type = s.find("_type");
  if (type == s.end() || !type->is_string() || *type != kInTotoStatementV1)
    return Error("statement: _type is not \"" + std::string(kInTotoStatementV1) + "\"");
  const auto subject = s.find("subject");
  if (subject == s.end() || !subject->is_array() || subject->empty())
    return Error("statement: no subject");
  for (const auto& sub : *subject) {
    if (!sub.is_object() || !sub.contains("digest") || !sub["digest"].is_object() ||
        sub["digest"].empty())
      return Error("statement: a subject has no digest");
  }
  const auto pt = s.find("predicateType");
  if (pt == s.end() || !pt->is_string() || pt->get_ref<const std::string&>().empty())
    return Error("statement: no predicateType");
  return {};
}

void fail(StatementCheck& c, std::string code, std::string message) {
  c.failures.push_back({std::move(code), std::move(message)});
}

}  // namespace

Expected<Bundle> sign_statement(const nlohmann::ordered_json& statement,
                                const fs::path& private_key,
                                const std::vector<fs::path>& cert_chain) {
  if (auto ok = check_statement_shape(nlohmann::json(statement)); !ok) return ok.error();
  auto key = PrivateKey::load(private_key);
  if (!key) return key.error();
  std::vector<Certificate> chain;
  if (!cert_chain.empty()) {
    auto loaded = load_signing_chain(cert_chain, *key);
    if (!loaded) return loaded.error();
    chain = std::move(*loaded);
  }
  const std::string payload = statement.dump(kPayloadIndent);
  Bundle b;
  b.envelope.payload_type = std::string(kInTotoJsonPayloadType);
  b.envelope.payload.assign(payload.begin(), payload.end());
  auto sig = key->sign(as_bytes(dsse_pae(b.envelope.payload_type, b.envelope.payload)));
  if (!sig) return sig.error();
  b.envelope.signatures.push_back({std::move(*sig), ""});
  if (chain.empty()) {
    b.kind = MaterialKind::public_key;
    b.public_key.hint = key->public_key().hint();
  } else {
    b.kind = MaterialKind::certificate_chain;
    for (const auto& c : chain) b.certificates.push_back(c.der());
  }
  b.has_tlog_entries_field = true;
  return b;
}

StatementCheck verify_statement_bundle(const Bundle& bundle, const TrustMaterial& trust,
                                       std::string_view expected_predicate_type, std::time_t now) {
  StatementCheck check;
  VerifyResult r;
  SignedModelOptions options;
  options.now = now;
  verify_bundle_signature(bundle, trust, options, r);
  check.failures = std::move(r.failures);
  check.input_error = r.input_error;
  if (!r.signature_ok) {
    if (check.failures.empty()) fail(check, "signature.invalid", "the signature did not verify");
    return check;
  }
  check.verified.signer = r.signer;
  check.verified.warnings = std::move(r.warnings);
  if (bundle.envelope.payload_type != kInTotoJsonPayloadType) {
    fail(check, "statement.invalid",
         "DSSE payloadType is \"" + bundle.envelope.payload_type + "\", not in-toto JSON");
    return check;
  }
  const std::string_view payload = as_chars(bundle.envelope.payload);
  if (json_nesting_exceeds(payload, kMaxBundleDepth)) {
    fail(check, "statement.invalid", "statement: JSON nested more than 64 levels deep");
    return check;
  }
  auto parsed = nlohmann::json::parse(payload, nullptr, false);
  if (parsed.is_discarded()) {
    fail(check, "statement.invalid", "statement: the signed payload is not JSON");
    return check;
  }
  if (auto ok = check_statement_shape(parsed); !ok) {
    fail(check, "statement.invalid", ok.error().message);
    return check;
  }
  check.verified.predicate_type = parsed["predicateType"].get<std::string>();
  if (!expected_predicate_type.empty() &&
      check.verified.predicate_type != expected_predicate_type) {
    fail(check, "statement.predicate_type",
         "predicateType is \"" + check.verified.predicate_type + "\", expected \"" +
             std::string(expected_predicate_type) + "\"");
    return check;
  }
  check.verified.statement = std::move(parsed);
  return check;
}

StatementCheck verify_statement_file(const fs::path& bundle_file, const TrustMaterial& trust,
                                     std::string_view expected_predicate_type, std::time_t now) {
  auto bundle = read_bundle(bundle_file);
  if (!bundle) {
    StatementCheck check;
    check.input_error = true;
    fail(check, "bundle.unreadable", bundle_file.string() + ": " + bundle.error().describe());
    return check;
  }
  return verify_statement_bundle(*bundle, trust, expected_predicate_type, now);
}

}  // namespace mlsc::sign
