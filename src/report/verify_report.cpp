#include "mlsc/report/verify_report.hpp"

#include <cstdio>
#include <ostream>

#include "mlsc/sign/statement.hpp"

namespace mlsc::report {

namespace {

using nlohmann::ordered_json;

// Progress on the error stream, overwriting one line; the hashing threads call it one at a time.
sign::HashProgress progress_printer(std::ostream& err, bool enabled) {
  if (!enabled) return {};
  return [&err](std::uint64_t done, std::uint64_t total) {
    const double pct =
        total == 0 ? 100.0 : 100.0 * static_cast<double>(done) / static_cast<double>(total);
    char line[96];
    std::snprintf(line, sizeof line, "\rmlsc: hashed %s of %s (%.0f%%)", human_bytes(done).c_str(),
                  human_bytes(total).c_str(), pct);
    err << line << std::flush;
  };
}

void end_progress(std::ostream& err, bool enabled) {
  if (enabled) err << "\r\033[K" << std::flush;
}

Expected<sign::SignOptions> sign_options(const SignArgs& a) {
  sign::SignOptions o;
  const auto hash = sign::parse_hash_type(a.hash);
  if (!hash) return Error{"--hash must be sha256, blake2b or blake3, not \"" + a.hash + "\""};
  o.hashing.hash = *hash;
  if (a.shard_size > 0) {
    o.hashing.method = sign::Method::shards;
    o.hashing.shard_size = a.shard_size;
  }
  o.hashing.allow_symlinks = a.allow_symlinks;
  o.hashing.ignore_paths = a.ignore_paths;
  for (const auto& c : a.cert_chain) o.cert_chain.emplace_back(c);
  o.signature = a.signature;
  if (!a.reuse.empty()) o.reuse = a.reuse;
  return o;
}

Expected<sign::TrustMaterial> trust_of(const VerifyArgs& a) {
  const int given = !a.public_key.empty() + !a.trust_anchor.empty() + !a.trusted_root.empty();
  if (given != 1) {
    return Error{
        "give exactly one of --public-key, --trust-anchor, or --trusted-root with --identity and "
        "--issuer"};
  }
  if (!a.trusted_root.empty()) {
    if (a.identity.empty() || a.issuer.empty())
      return Error{"--trusted-root needs --identity and --issuer"};
    return sign::TrustMaterial{sign::TrustMode::sigstore, a.trusted_root, a.identity, a.issuer};
  }
  if (!a.identity.empty() || !a.issuer.empty())
    return Error{"--identity and --issuer go with --trusted-root"};
  if (!a.public_key.empty())
    return sign::TrustMaterial{sign::TrustMode::public_key, a.public_key, "", ""};
  return sign::TrustMaterial{sign::TrustMode::certificate, a.trust_anchor, "", ""};
}

std::string plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string manifest_summary(const sign::Manifest& m) {
  std::string s = plural(m.files.empty() ? m.resources.size() : m.files.size(), "file");
  s += ", " + std::string(sign::to_string(m.hash));
  if (m.method == sign::Method::shards) s += ", shards of " + human_bytes(m.shard_size);
  return s;
}

void append_diff_lines(const sign::ManifestDiff& d, std::string& out) {
  for (const auto& c : d.changed) {
    out += "    changed  " + c.name + "  (signed " + c.expected.substr(0, 16) + "…, now " +
           c.actual.substr(0, 16) + "…)\n";
  }
  for (const auto& m : d.missing) out += "    missing  " + m + "\n";
  for (const auto& e : d.extra) out += "    extra    " + e + "  (not signed)\n";
}

}  // namespace

std::string human_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  std::size_t u = 0;
  while (v >= 1000.0 && u + 1 < std::size(units)) {
    v /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string format_sign_text(const sign::SignResult& r, const std::string& model) {
  const sign::Manifest& m = r.manifest;
  std::string out = "mlsc sign: signed " + model + " -> " + r.signature.string() + "\n";
  out += "  signer:   " + r.signer +
         (r.bundle.kind == sign::MaterialKind::public_key ? " (key mode)" : " (certificate mode)") +
         "\n";
  out += "  manifest: " + manifest_summary(m) + "\n";
  out += "  hashed:   " + human_bytes(m.bytes_hashed) + " (" + std::to_string(m.bytes_hashed) +
         " bytes)";
  if (m.files_reused > 0 || m.bytes_reused > 0) {
    out += "; reused " + human_bytes(m.bytes_reused) + " from " +
           plural(m.files_reused, "unchanged file");
  }
  out += "\n";
  if (!r.reuse_note.empty()) out += "  reuse:    nothing reused: " + r.reuse_note + "\n";
  if (r.cache) out += "  cache:    " + r.cache->string() + "\n";
  for (const auto& w : r.warnings) out += "  warning:  " + w + "\n";
  return out;
}

int exit_code(const sign::VerifyResult& r) {
  if (r.ok()) return kExitOk;
  return r.input_error ? kExitUsage : kExitFailed;
}

std::string format_verify_text(const sign::VerifyResult& r, const std::string& model,
                               const std::string& signature) {
  const std::string mode(sign::to_string(r.mode));
  std::string out;
  if (r.ok()) {
    out = "mlsc verify: OK: " + model + " matches " + signature + " (" + mode + " mode)\n";
  } else {
    out = "mlsc verify: FAILED: " + model + " against " + signature + " (" + mode + " mode)\n";
  }
  if (!r.signer.empty()) out += "  signer:    " + r.signer + "\n";
  out += std::string("  signature: ") + (r.signature_ok ? "valid" : "not verified") + "\n";
  if (r.statement) out += "  manifest:  " + manifest_summary(*r.statement) + "\n";
  if (r.diff) {
    out += "  model:     " +
           (r.diff->ok() ? std::string("all files match") : "differs from the signature") + " (" +
           human_bytes(r.bytes_hashed) + " hashed)\n";
    append_diff_lines(*r.diff, out);
  }
  for (const auto& f : r.failures) out += "  error [" + f.code + "]: " + f.message + "\n";
  for (const auto& w : r.warnings) out += "  warning: " + w + "\n";
  return out;
}

ordered_json verify_to_json(const sign::VerifyResult& r, const std::string& model,
                            const std::string& signature) {
  ordered_json j = ordered_json::object();
  j["ok"] = r.ok();
  j["mode"] = sign::to_string(r.mode);
  j["model"] = model;
  j["signature"] = signature;
  j["signer"] = r.signer;
  j["signature_valid"] = r.signature_ok;
  if (r.statement) {
    j["statement"] = {{"subject", r.statement->model_name},
                      {"hash_type", sign::to_string(r.statement->hash)},
                      {"method", sign::to_string(r.statement->method)},
                      {"resources", r.statement->resources.size()}};
  } else {
    j["statement"] = nullptr;
  }
  j["files"] = r.diff ? ordered_json(sign::to_json(*r.diff)) : ordered_json(nullptr);
  j["bytes_hashed"] = r.bytes_hashed;
  ordered_json failures = ordered_json::array();
  for (const auto& f : r.failures) failures.push_back({{"code", f.code}, {"message", f.message}});
  j["failures"] = std::move(failures);
  j["warnings"] = r.warnings;
  return j;
}

int run_sign(const SignArgs& a, std::ostream& out, std::ostream& err) {
  auto options = sign_options(a);
  if (!options) {
    err << "mlsc sign: " << options.error().describe() << "\n";
    return kExitUsage;
  }
  options->hashing.progress = progress_printer(err, a.progress);
  auto result = sign::sign_model(a.model, a.key, *options);
  end_progress(err, a.progress);
  if (!result) {
    err << "mlsc sign: " << result.error().describe() << "\n";
    return kExitUsage;
  }
  out << format_sign_text(*result, a.model);
  return kExitOk;
}

int run_verify(const VerifyArgs& a, std::ostream& out, std::ostream& err) {
  auto trust = trust_of(a);
  if (!trust) {
    err << "mlsc verify: " << trust.error().describe() << "\n";
    return kExitUsage;
  }
  sign::SignedModelOptions o;
  o.ignore_paths = a.ignore_paths;
  o.progress = progress_printer(err, a.progress);
  const sign::VerifyResult r = sign::verify_signed_model(a.model, a.signature, *trust, o);
  end_progress(err, a.progress);
  if (a.format == "json") {
    out << verify_to_json(r, a.model, a.signature).dump(2) << "\n";
  } else {
    out << format_verify_text(r, a.model, a.signature);
  }
  return exit_code(r);
}

}  // namespace mlsc::report
