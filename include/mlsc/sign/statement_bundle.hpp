// Signing and verifying any in-toto statement (not only a model manifest) with the bundle
// format `mlsc sign` writes: dataset manifests, step provenance and checkpoint records travel in
// the same Sigstore bundle, DSSE envelope and trust modes as model signatures, so one verifier
// and one set of keys cover all of them.
#pragma once

#include <ctime>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlsc/core/expected.hpp"
#include "mlsc/sign/bundle.hpp"
#include "mlsc/sign/verifier.hpp"

namespace mlsc::sign {

inline constexpr std::string_view kInTotoStatementV1 = "https://in-toto.io/Statement/v1";

// Signs `statement` (serialised once, two-space indented; these exact bytes are the DSSE
// payload) with the private key in `private_key`; certificate mode when `cert_chain` names PEM
// files (signing certificate first), else key mode. Refuses a statement without `_type`,
// `subject` and `predicateType`.
Expected<Bundle> sign_statement(const nlohmann::ordered_json& statement,
                                const std::filesystem::path& private_key,
                                const std::vector<std::filesystem::path>& cert_chain = {});

// A verified statement: who signed it and the statement parsed from the exact signed bytes.
struct VerifiedStatement {
  std::string signer;
  std::string predicate_type;
  nlohmann::json statement;
  std::vector<std::string> warnings;
};

// Checks the bundle's signature with `trust` (every mode `mlsc verify` has) and parses the
// signed payload as an in-toto v1 statement. When `expected_predicate_type` is not empty the
// statement must carry exactly that predicate type. Failures carry the same stable codes as
// model verification (signature.invalid, bundle.material_mismatch, statement.invalid, ...).
struct StatementCheck {
  std::vector<Failure> failures;
  bool input_error = false;  // the bundle could not be read at all
  VerifiedStatement verified;
  bool ok() const { return failures.empty() && !input_error; }
};
StatementCheck verify_statement_bundle(const Bundle& bundle, const TrustMaterial& trust,
                                       std::string_view expected_predicate_type = {},
                                       std::time_t now = 0);
StatementCheck verify_statement_file(const std::filesystem::path& bundle_file,
                                     const TrustMaterial& trust,
                                     std::string_view expected_predicate_type = {},
                                     std::time_t now = 0);

}  // namespace mlsc::sign
