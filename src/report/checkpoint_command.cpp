// `mlsc checkpoint sign|verify`: the CLI face of provenance::CheckpointGuard.
#include <ostream>

#include "mlsc/provenance/checkpoint.hpp"
#include "mlsc/report/attest_command.hpp"
#include "mlsc/report/verify_report.hpp"

namespace mlsc::report {

namespace fs = std::filesystem;
using nlohmann::ordered_json;
namespace prov = mlsc::provenance;

int run_checkpoint_sign(const CheckpointArgs& a, std::ostream& out, std::ostream& err) {
  prov::GuardOptions options;
  options.run_id = a.run_id;
  options.private_key = a.key;
  options.cert_chain.assign(a.cert_chain.begin(), a.cert_chain.end());
  options.chain_file = a.chain;
  const prov::CheckpointGuard guard(options);
  std::optional<std::uint64_t> step;
  if (a.step >= 0) step = static_cast<std::uint64_t>(a.step);
  auto record = guard.record(a.checkpoint, step, a.provenance);
  if (!record) {
    err << "mlsc checkpoint sign: " << record.error().describe() << "\n";
    return kExitUsage;
  }
  out << "mlsc checkpoint sign: " << a.checkpoint << " step " << record->step << " of run "
      << record->run_id << " sha256:" << record->sha256 << " -> "
      << prov::checkpoint_record_path(a.checkpoint).string() << "\n";
  return kExitOk;
}

int run_checkpoint_verify(const CheckpointArgs& a, std::ostream& out, std::ostream& err) {
  auto trust = trust_material(a.trust);
  if (!trust) {
    err << "mlsc checkpoint verify: " << trust.error().describe() << "\n";
    return kExitUsage;
  }
  prov::GuardOptions options;
  options.run_id = a.run_id;
  options.trust = *trust;
  options.chain_file = a.chain;
  options.allow_older = a.allow_older;
  const auto check = prov::CheckpointGuard(options).verify_resume(a.checkpoint);
  if (a.format == "json") {
    ordered_json r = {{"checkpoint", a.checkpoint},
                      {"ok", check.ok()},
                      {"signer", check.signer},
                      {"chainLength", check.chain_length},
                      {"reasons", check.reasons}};
    if (check.record) {
      r["runId"] = check.record->run_id;
      r["step"] = check.record->step;
      r["sha256"] = check.record->sha256;
    }
    out << r.dump(2) << "\n";
  } else if (check.ok()) {
    out << a.checkpoint << ": OK, step " << check.record->step << " of run " << check.record->run_id
        << " (" << check.chain_length << " records in the chain, signed by " << check.signer
        << ")\n";
  } else {
    out << a.checkpoint << ": REFUSED\n";
    for (const auto& r : check.reasons) out << "  " << r << "\n";
  }
  if (check.input_error) return kExitUsage;
  return check.ok() ? kExitOk : kExitFailed;
}

}  // namespace mlsc::report
