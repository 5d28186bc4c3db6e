#include "mlsc/report/attest_command.hpp"

#include <ostream>

#include "mlsc/provenance/git_state.hpp"
#include "mlsc/provenance/step_inputs.hpp"
#include "mlsc/report/verify_report.hpp"
#include "mlsc/sign/bundle.hpp"
#include "mlsc/sign/hashing.hpp"
#include "mlsc/sign/statement_bundle.hpp"

namespace mlsc::report {

namespace fs = std::filesystem;
using nlohmann::ordered_json;
namespace prov = mlsc::provenance;

namespace {

constexpr std::size_t kDirtyPathsShown = 50;

AttestRefusal usage(std::string message) {
  return {std::move(message), true};
}

// Mixture weights: all given, or none (then equal shares).
Expected<std::vector<prov::DatasetSpec>> dataset_specs(const AttestArgs& a) {
  std::vector<prov::DatasetSpec> specs;
  std::size_t weighted = 0;
  for (const auto& text : a.datasets) {
    auto spec = prov::parse_dataset_spec(text);
    if (!spec) return spec.error();
    weighted += spec->weight.has_value() ? 1 : 0;
    specs.push_back(std::move(*spec));
  }
  if (weighted != 0 && weighted != specs.size())
    return Error("--dataset: give a mixture weight to every dataset or to none");
  for (auto& s : specs) {
    if (!s.weight) s.weight = 1.0 / static_cast<double>(specs.size());
  }
  return specs;
}

Expected<ordered_json> hyperparameters(const AttestArgs& a) {
  ordered_json params = ordered_json::object();
  if (!a.params_file.empty()) {
    auto text = prov::read_small_file(a.params_file);
    if (!text) return text.error();
    auto parsed = prov::parse_params_text(*text);
    if (!parsed) return Error(a.params_file + ": " + parsed.error().describe());
    params = std::move(*parsed);
  }
  // Command-line values override the file's.
  for (const auto& kv : a.params) {
    auto p = prov::parse_param_assignment(kv);
    if (!p) return p.error();
    params[p->first] = std::move(p->second);
  }
  return params;
}

std::string dirty_list(const prov::GitState& g) {
  std::string s;
  for (std::size_t i = 0; i < g.dirty_paths.size() && i < kDirtyPathsShown; ++i)
    s += "\n  " + g.dirty_paths[i];
  if (g.dirty_paths.size() > kDirtyPathsShown)
    s += "\n  ... and " + std::to_string(g.dirty_paths.size() - kDirtyPathsShown) + " more";
  return s;
}

// The newest modification time among the outputs: when the step last wrote one.
std::string newest_output_time(const std::vector<std::string>& outputs) {
  std::optional<fs::file_time_type> newest;
  for (const auto& o : outputs) {
    std::error_code ec;
    const auto t = fs::last_write_time(o, ec);
    if (!ec && (!newest || t > *newest)) newest = t;
  }
  if (!newest) return {};
  return prov::rfc3339_utc(std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      std::chrono::file_clock::to_sys(*newest)));
}

Expected<void> add_inputs(const AttestArgs& a, prov::StepDescription& d) {
  auto datasets = dataset_specs(a);
  if (!datasets) return datasets.error();
  for (const auto& s : *datasets) {
    auto dep = prov::dataset_dependency(s.name, s.manifest_bundle, *s.weight);
    if (!dep) return dep.error();
    d.dependencies.push_back(std::move(*dep));
  }
  for (const auto& text : a.base_models) {
    auto spec = prov::parse_base_model_spec(text);
    if (!spec) return spec.error();
    auto dep = prov::base_model_dependency(*spec);
    if (!dep) return dep.error();
    d.dependencies.push_back(std::move(*dep));
  }
  if (!a.environment.empty()) {
    auto dep = prov::environment_dependency(a.environment);
    if (!dep) return dep.error();
    d.dependencies.push_back(std::move(*dep));
  }
  return {};
}

Expected<void> add_outputs_and_run(const AttestArgs& a, prov::StepDescription& d) {
  for (const auto& o : a.outputs) {
    auto subject = prov::output_subject(o);
    if (!subject) return subject.error();
    d.subjects.push_back(std::move(*subject));
  }
  auto params = hyperparameters(a);
  if (!params) return params.error();
  d.hyperparameters = std::move(*params);
  if (!a.metrics.empty()) {
    auto metrics = prov::metrics_byproduct(a.metrics);
    if (!metrics) return metrics.error();
    d.byproducts.push_back(std::move(*metrics));
  }
  for (const auto* t : {&a.started_on, &a.finished_on}) {
    if (!t->empty() && !prov::is_rfc3339(*t))
      return Error("\"" + *t + "\" is not an RFC 3339 time (2026-05-01T12:00:00Z)");
  }
  d.command = a.command;
  d.builder_id = a.builder_id;
  d.invocation_id = a.invocation_id;
  d.started_on = a.started_on;
  d.finished_on = a.finished_on.empty() ? newest_output_time(a.outputs) : a.finished_on;
  return {};
}

}  // namespace

Expected<sign::TrustMaterial> trust_material(const TrustArgs& a) {
  const int given = !a.public_key.empty() + !a.trust_anchor.empty() + !a.trusted_root.empty();
  if (given != 1)
    return Error("give exactly one of --public-key, --trust-anchor, or --trusted-root");
  if (!a.trusted_root.empty()) {
    if (a.identity.empty() || a.issuer.empty())
      return Error("--trusted-root needs --identity and --issuer");
    return sign::TrustMaterial{sign::TrustMode::sigstore, a.trusted_root, a.identity, a.issuer};
  }
  if (!a.identity.empty() || !a.issuer.empty())
    return Error("--identity and --issuer go with --trusted-root");
  if (!a.public_key.empty())
    return sign::TrustMaterial{sign::TrustMode::public_key, a.public_key, "", ""};
  return sign::TrustMaterial{sign::TrustMode::certificate, a.trust_anchor, "", ""};
}

std::variant<AttestStatement, AttestRefusal> build_attestation(const AttestArgs& a) {
  prov::StepDescription d;
  const auto step = prov::parse_step_kind(a.step);
  if (!step) return usage("--step must be train, fine-tune, evaluate or data-processing");
  d.step = *step;
  if (a.code.empty()) return usage("--code REPO_DIR is required: provenance names the code it ran");
  auto git = prov::read_git_state(a.code);
  if (!git) return usage(git.error().describe());
  AttestStatement result;
  if (git->dirty()) {
    if (!a.allow_dirty)
      return AttestRefusal{"the working tree of " + git->workdir.string() +
                           " has uncommitted changes "
                           "(commit them, or record them with --allow-dirty):" +
                           dirty_list(*git)};
    result.warnings.push_back("recording a dirty working tree (" +
                              std::to_string(git->dirty_paths.size()) + " paths)");
  }
  if (auto ok = add_inputs(a, d); !ok) return usage(ok.error().describe());
  d.dependencies.push_back(prov::code_dependency(*git));
  if (auto ok = add_outputs_and_run(a, d); !ok) return usage(ok.error().describe());
  auto statement = prov::build_step_statement(d);
  if (!statement) return usage(statement.error().describe());
  result.statement = std::move(*statement);
  return result;
}

int run_attest(const AttestArgs& a, std::ostream& out, std::ostream& err) {
  if (!a.unsigned_statement && a.key.empty()) {
    err << "mlsc attest: give --key (or --unsigned for a bare statement)\n";
    return kExitUsage;
  }
  auto built = build_attestation(a);
  if (const auto* refusal = std::get_if<AttestRefusal>(&built)) {
    err << "mlsc attest: " << refusal->message << "\n";
    return refusal->usage ? kExitUsage : kExitFailed;
  }
  const auto& result = std::get<AttestStatement>(built);
  for (const auto& w : result.warnings) err << "mlsc attest: warning: " << w << "\n";
  const std::string output =
      !a.output.empty() ? a.output : (a.unsigned_statement ? "provenance.json" : "provenance.sig");
  if (a.unsigned_statement) {
    if (auto ok = sign::write_file_atomically(output, result.statement.dump(2) + "\n"); !ok) {
      err << "mlsc attest: " << ok.error().describe() << "\n";
      return kExitUsage;
    }
  } else {
    std::vector<fs::path> chain(a.cert_chain.begin(), a.cert_chain.end());
    auto bundle = sign::sign_statement(result.statement, a.key, chain);
    if (!bundle) {
      err << "mlsc attest: " << bundle.error().describe() << "\n";
      return kExitUsage;
    }
    if (auto ok = sign::write_bundle(*bundle, output); !ok) {
      err << "mlsc attest: " << ok.error().describe() << "\n";
      return kExitUsage;
    }
  }
  const auto& build = result.statement["predicate"]["buildDefinition"];
  out << "mlsc attest: wrote " << output << " (" << a.step << " step, "
      << result.statement["subject"].size() << " outputs, " << build["resolvedDependencies"].size()
      << " dependencies" << (a.unsigned_statement ? ", unsigned" : ", signed") << ")\n";
  return kExitOk;
}

}  // namespace mlsc::report
