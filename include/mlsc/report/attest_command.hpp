// `mlsc attest` (write a signed step provenance), `mlsc attest verify`, and
// `mlsc checkpoint sign|verify`: their options (filled in by the CLI front end), running them,
// and their output. Exit codes: 0 success, 1 refused or failed verification, 2 usage or I/O error.
#pragma once

#include <iosfwd>
#include <string>
#include <variant>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "mlsc/provenance/step_provenance.hpp"
#include "mlsc/sign/verifier.hpp"

namespace mlsc::report {

// The trust options every verifying command takes.
struct TrustArgs {
  std::string public_key;
  std::string trust_anchor;
  std::string trusted_root;
  std::string identity;
  std::string issuer;
};
Expected<sign::TrustMaterial> trust_material(const TrustArgs& a);

struct AttestArgs {
  std::string step;
  std::vector<std::string> outputs;
  std::vector<std::string> datasets;     // NAME=MANIFEST_BUNDLE[:WEIGHT]
  std::vector<std::string> base_models;  // DIR_OR_FILE=SIGNATURE
  std::string code;
  bool allow_dirty = false;
  std::string environment;
  std::vector<std::string> params;  // k=v
  std::string params_file;
  std::string metrics;
  std::string builder_id = std::string(provenance::kDefaultBuilderId);
  std::string invocation_id;
  std::string started_on;
  std::string finished_on;
  std::vector<std::string> command;
  std::string key;
  std::vector<std::string> cert_chain;
  std::string output;  // empty: provenance.sig, or provenance.json with --unsigned
  bool unsigned_statement = false;
};

// Everything but writing: the statement the arguments describe. A dirty tree without
// --allow-dirty is an Error whose message lists the dirty paths.
struct AttestRefusal {
  std::string message;
  bool usage = false;  // bad arguments or unreadable inputs (exit 2) rather than a refusal (1)
};
struct AttestStatement {
  nlohmann::ordered_json statement;
  std::vector<std::string> warnings;
};
std::variant<AttestStatement, AttestRefusal> build_attestation(const AttestArgs& a);

int run_attest(const AttestArgs& a, std::ostream& out, std::ostream& err);

struct AttestVerifyArgs {
  std::string bundle;
  TrustArgs trust;
  std::vector<std::string> artifacts;
  std::string format = "text";
};
int run_attest_verify(const AttestVerifyArgs& a, std::ostream& out, std::ostream& err);

struct CheckpointArgs {
  std::string checkpoint;
  std::string key;
  std::vector<std::string> cert_chain;
  std::string run_id;
  long long step = -1;  // < 0: the next step
  std::string chain;
  std::string provenance;
  TrustArgs trust;
  bool allow_older = false;
  std::string format = "text";
};
int run_checkpoint_sign(const CheckpointArgs& a, std::ostream& out, std::ostream& err);
int run_checkpoint_verify(const CheckpointArgs& a, std::ostream& out, std::ostream& err);

}  // namespace mlsc::report
