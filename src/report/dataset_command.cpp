// The `mlsc dataset` verbs: building, signing, verifying and comparing dataset manifests.
#include "mlsc/report/dataset_command.hpp"

#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/mapped_file.hpp"
#include "mlsc/dataset/croissant.hpp"
#include "mlsc/dataset/fetch_verify.hpp"
#include "mlsc/dataset/manifest.hpp"
#include "mlsc/dataset/url_list.hpp"
#include "mlsc/report/verify_report.hpp"
#include "mlsc/sign/bundle.hpp"
#include "mlsc/sign/statement_bundle.hpp"

namespace mlsc::report {

namespace {

namespace fs = std::filesystem;
using dataset::DatasetManifest;
using ojson = nlohmann::ordered_json;

std::string dump(const ojson& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string short_hash(const std::string& h) {
  return h.size() > 16 ? h.substr(0, 16) + "…" : h;
}

// `dir` without a trailing slash, so "data/" names its manifest "data.manifest.sig".
fs::path without_trailing_slash(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p;
}

fs::path default_output(const DatasetArgs& a) {
  const std::string ext = a.write_unsigned ? ".manifest.json" : ".manifest.sig";
  if (!a.urls.empty()) {
    fs::path list(a.urls);
    return list.parent_path() / (list.stem().string() + ext);
  }
  const fs::path dir = without_trailing_slash(a.dir);
  return fs::path(dir.string() + ext);
}

Expected<sign::TrustMaterial> trust_of(const DatasetTrustArgs& t) {
  const int given = !t.public_key.empty() + !t.trust_anchor.empty() + !t.trusted_root.empty();
  if (given != 1) {
    return Error{
        "give exactly one of --public-key, --trust-anchor, or --trusted-root with --identity and "
        "--issuer"};
  }
  if (!t.trusted_root.empty()) {
    if (t.identity.empty() || t.issuer.empty())
      return Error{"--trusted-root needs --identity and --issuer"};
    return sign::TrustMaterial{sign::TrustMode::sigstore, t.trusted_root, t.identity, t.issuer};
  }
  if (!t.identity.empty() || !t.issuer.empty())
    return Error{"--identity and --issuer go with --trusted-root"};
  if (!t.public_key.empty())
    return sign::TrustMaterial{sign::TrustMode::public_key, t.public_key, "", ""};
  return sign::TrustMaterial{sign::TrustMode::certificate, t.trust_anchor, "", ""};
}

Expected<nlohmann::json> parse_bounded(std::string_view text) {
  if (sign::json_nesting_exceeds(text, sign::kMaxBundleDepth))
    return Error{"JSON nested too deeply"};
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Error{"not valid JSON"};
  return j;
}

// The statement in a bundle or a bare statement file, with no signature check.
Expected<nlohmann::json> read_statement_unchecked(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return Error{file.string() + ": not a regular file"};
  if (fs::file_size(file, ec) > sign::kMaxBundleBytes)
    return Error{file.string() + ": larger than 128 MiB"};
  auto mapped = MappedFile::open(file.string());
  if (!mapped) return mapped.error();
  const std::string_view text = as_chars(mapped->bytes());
  auto j = parse_bounded(text);
  if (!j) return Error{file.string() + ": " + j.error().message};
  if (!j->is_object() || !j->contains("dsseEnvelope")) return j;
  auto bundle = sign::parse_bundle(text);
  if (!bundle) return Error{file.string() + ": " + bundle.error().describe()};
  auto payload = parse_bounded(as_chars(ByteView(bundle->envelope.payload)));
  if (!payload) return Error{file.string() + ": payload: " + payload.error().message};
  return payload;
}

struct Loaded {
  DatasetManifest manifest;
  std::string signer;  // empty when the signature was not checked
};

// Reads a manifest, verifying its signature when trust material is given. On failure prints
// why and sets `rc` (1: the signature or statement is bad, 2: it could not be read).
std::optional<Loaded> load_manifest(const std::string& file, const DatasetTrustArgs& trust,
                                    bool allow_unchecked, const char* verb, std::ostream& err,
                                    int& rc) {
  Loaded l;
  nlohmann::json statement;
  if (trust.any() || !allow_unchecked) {
    auto material = trust_of(trust);
    if (!material) {
      err << "mlsc dataset " << verb << ": " << material.error().message << " (or --unsigned)\n";
      rc = kExitUsage;
      return std::nullopt;
    }
    const auto check = sign::verify_statement_file(file, *material, dataset::kPredicateType);
    for (const auto& f : check.failures)
      err << "mlsc dataset " << verb << ": " << file << ": " << f.code << ": " << f.message << "\n";
    if (!check.ok()) {
      rc = check.input_error ? kExitUsage : kExitFailed;
      return std::nullopt;
    }
    l.signer = check.verified.signer;
    statement = check.verified.statement;
  } else {
    auto s = read_statement_unchecked(file);
    if (!s) {
      err << "mlsc dataset " << verb << ": " << s.error().describe() << "\n";
      rc = kExitUsage;
      return std::nullopt;
    }
    statement = std::move(*s);
  }
  auto m = dataset::manifest_from_statement(statement);
  if (!m) {
    err << "mlsc dataset " << verb << ": " << file << ": " << m.error().describe() << "\n";
    rc = kExitFailed;
    return std::nullopt;
  }
  l.manifest = std::move(*m);
  return l;
}

Expected<DatasetManifest> build_from_args(const DatasetArgs& a, const fs::path& output) {
  if (!a.urls.empty()) {
    dataset::UrlListOptions lo{a.url_column, a.hash_column, a.path_column};
    auto list = dataset::read_url_list(a.urls, lo);
    if (!list) return list.error();
    dataset::UrlManifestOptions mo;
    mo.name = a.name.empty() ? fs::path(a.urls).stem().string() : a.name;
    mo.source = a.source.empty() ? a.urls : a.source;
    if (!a.fetch_dir.empty()) mo.fetch_dir = a.fetch_dir;
    mo.threads = a.jobs;
    return dataset::build_url_manifest(*list, mo);
  }
  dataset::ManifestOptions o;
  o.name = a.name;
  o.source = a.source;
  o.ignore_paths = a.ignore_paths;
  o.exclude = output;
  o.allow_symlinks = a.allow_symlinks;
  o.threads = a.jobs;
  return dataset::build_manifest(a.dir, o);
}

Expected<std::string> write_manifest(const DatasetArgs& a, const DatasetManifest& m,
                                     const fs::path& output) {
  const ojson statement = dataset::to_statement(m);
  if (a.write_unsigned) {
    auto ok = sign::write_file_atomically(output, dump(statement));
    if (!ok) return ok.error();
    return std::string("unsigned statement");
  }
  std::vector<fs::path> chain(a.cert_chain.begin(), a.cert_chain.end());
  auto bundle = sign::sign_statement(statement, a.key, chain);
  if (!bundle) return bundle.error();
  auto ok = sign::write_bundle(*bundle, output);
  if (!ok) return ok.error();
  return std::string(chain.empty() ? "signed, key mode" : "signed, certificate mode");
}

ojson manifest_json(const DatasetManifest& m, const std::string& output, const std::string& how) {
  return {{"name", m.name},
          {"merkleRoot", m.merkle_root},
          {"files", m.files.size()},
          {"records", m.records.size()},
          {"bytesHashed", m.bytes_hashed},
          {"croissant", m.croissant},
          {"output", output},
          {"written", how},
          {"errors", m.errors},
          {"warnings", m.warnings}};
}

void print_manifest_text(const DatasetManifest& m, const std::string& output,
                         const std::string& how, std::ostream& out) {
  out << "mlsc dataset manifest: " << m.name << "\n";
  if (!m.files.empty())
    out << "  files:       " << m.files.size() << " (" << human_bytes(m.bytes_hashed)
        << " hashed)\n";
  if (!m.records.empty()) out << "  records:     " << m.records.size() << " URLs\n";
  out << "  merkle root: " << m.merkle_root << "\n";
  if (!m.croissant.empty())
    out << "  croissant:   " << m.croissant << (m.errors.empty() ? " (hashes agree)" : "") << "\n";
  for (const auto& w : m.warnings) out << "  warning:     " << w << "\n";
  for (const auto& e : m.errors) out << "  error:       " << e << "\n";
  if (!how.empty()) out << "  wrote:       " << output << " (" << how << ")\n";
}

ojson diff_json(const dataset::DatasetDiff& d, const char* added, const char* removed) {
  ojson changed = ojson::array();
  for (const auto& c : d.changed) {
    ojson e = {{"key", c.key}, {"old", c.old_sha256}, {"new", c.new_sha256}};
    if (c.old_size) e["oldSize"] = *c.old_size;
    if (c.new_size) e["newSize"] = *c.new_size;
    changed.push_back(std::move(e));
  }
  return {{added, d.added}, {removed, d.removed}, {"changed", std::move(changed)}};
}

void print_diff_lines(const dataset::DatasetDiff& d, const char* added, const char* removed,
                      std::ostream& out) {
  for (const auto& c : d.changed) {
    out << "    changed  " << c.key << "  (" << short_hash(c.old_sha256) << " -> "
        << short_hash(c.new_sha256) << ")\n";
  }
  for (const auto& r : d.removed) out << "    " << removed << "  " << r << "\n";
  for (const auto& x : d.added) out << "    " << added << "  " << x << "\n";
}

Expected<DatasetManifest> manifest_or_directory(const std::string& path, const DatasetArgs& a,
                                                std::string& signer, int& rc, std::ostream& err) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    dataset::ManifestOptions o;
    o.read_croissant = false;
    o.threads = a.jobs;
    o.ignore_paths = a.ignore_paths;
    return dataset::build_manifest(path, o);
  }
  auto l = load_manifest(path, a.trust, true, "diff", err, rc);
  if (!l) return Error{""};
  signer = l->signer;
  return std::move(l->manifest);
}

}  // namespace

int run_dataset_manifest(const DatasetArgs& a, std::ostream& out, std::ostream& err) {
  if (a.dir.empty() == a.urls.empty()) {
    err << "mlsc dataset manifest: give a dataset directory or --urls LIST (one of them)\n";
    return kExitUsage;
  }
  if (!a.key.empty() == a.write_unsigned) {
    err << "mlsc dataset manifest: give --key K.pem to sign the manifest, or --unsigned\n";
    return kExitUsage;
  }
  const fs::path output = a.output.empty() ? default_output(a) : fs::path(a.output);
  auto m = build_from_args(a, output);
  if (!m) {
    err << "mlsc dataset manifest: " << m.error().describe() << "\n";
    return kExitUsage;
  }
  std::string how;
  if (m->errors.empty()) {
    auto written = write_manifest(a, *m, output);
    if (!written) {
      err << "mlsc dataset manifest: " << written.error().describe() << "\n";
      return kExitUsage;
    }
    how = *written;
  }
  if (a.format == "json") {
    out << dump(manifest_json(*m, output.string(), how));
  } else {
    print_manifest_text(*m, output.string(), how, out);
    if (!m->errors.empty())
      out << "  not written: the dataset's own metadata disagrees with its files\n";
  }
  return m->errors.empty() ? kExitOk : kExitFailed;
}

int run_dataset_verify(const DatasetArgs& a, std::ostream& out, std::ostream& err) {
  int rc = kExitOk;
  auto l = load_manifest(a.manifest, a.trust, a.write_unsigned, "verify", err, rc);
  if (!l) return rc;
  dataset::ManifestOptions o;
  o.ignore_paths = a.ignore_paths;
  o.exclude = fs::path(a.manifest);
  o.allow_symlinks = a.allow_symlinks;
  o.threads = a.jobs;
  auto d = dataset::verify_directory(a.dir, l->manifest, o);
  if (!d) {
    err << "mlsc dataset verify: " << d.error().describe() << "\n";
    return kExitUsage;
  }
  const bool ok = d->empty();
  if (a.format == "json") {
    ojson j = {{"dataset", a.dir},
               {"manifest", a.manifest},
               {"name", l->manifest.name},
               {"merkleRoot", l->manifest.merkle_root},
               {"signer", l->signer},
               {"signatureChecked", !l->signer.empty()},
               {"ok", ok}};
    j.update(diff_json(*d, "extra", "missing"));
    out << dump(j);
  } else {
    out << "mlsc dataset verify: " << a.dir << " against " << a.manifest << "\n";
    out << "  signer:   "
        << (l->signer.empty() ? "(unsigned statement: signature not checked)" : l->signer) << "\n";
    out << "  manifest: " << l->manifest.name << ", " << l->manifest.files.size() << " files, root "
        << short_hash(l->manifest.merkle_root) << "\n";
    out << "  result:   " << (ok ? "OK" : "FAILED") << " (" << d->changed.size() << " changed, "
        << d->removed.size() << " missing, " << d->added.size() << " extra)\n";
    print_diff_lines(*d, "extra  ", "missing", out);
  }
  return ok ? kExitOk : kExitFailed;
}

int run_dataset_fetch_verify(const DatasetArgs& a, std::ostream& out, std::ostream& err) {
  int rc = kExitOk;
  auto l = load_manifest(a.manifest, a.trust, a.write_unsigned, "fetch-verify", err, rc);
  if (!l) return rc;
  if (l->manifest.records.empty()) {
    err << "mlsc dataset fetch-verify: " << a.manifest << " records no URL\n";
    return kExitUsage;
  }
  auto report = dataset::verify_fetch_dir(l->manifest, a.fetch_dir, a.jobs, fs::path(a.manifest));
  if (!report) {
    err << "mlsc dataset fetch-verify: " << report.error().describe() << "\n";
    return kExitUsage;
  }
  if (a.format == "json") {
    ojson refused = ojson::array();
    for (const auto& v : report->verdicts) {
      if (v.ok()) continue;
      refused.push_back({{"status", dataset::to_string(v.status)},
                         {"url", v.url},
                         {"expected", v.expected},
                         {"actual", v.actual},
                         {"message", v.message}});
    }
    out << dump({{"manifest", a.manifest},
                 {"fetchDir", a.fetch_dir},
                 {"signer", l->signer},
                 {"accepted", report->accepted},
                 {"refused", report->refused},
                 {"refusals", refused}});
  } else {
    for (const auto& v : report->verdicts) {
      if (!v.ok())
        out << "refused " << dataset::to_string(v.status) << "  " << v.url << ": " << v.message
            << "\n";
    }
    out << "mlsc dataset fetch-verify: " << report->accepted << " accepted, " << report->refused
        << " refused\n";
  }
  return report->ok() ? kExitOk : kExitFailed;
}

int run_dataset_diff(const DatasetArgs& a, std::ostream& out, std::ostream& err) {
  int rc = kExitOk;
  std::string signer_a, signer_b;
  auto ma = manifest_or_directory(a.a, a, signer_a, rc, err);
  if (!ma) {
    if (!ma.error().message.empty())
      err << "mlsc dataset diff: " << a.a << ": " << ma.error().describe() << "\n";
    return rc == kExitOk ? kExitUsage : rc;
  }
  auto mb = manifest_or_directory(a.b, a, signer_b, rc, err);
  if (!mb) {
    if (!mb.error().message.empty())
      err << "mlsc dataset diff: " << a.b << ": " << mb.error().describe() << "\n";
    return rc == kExitOk ? kExitUsage : rc;
  }
  const auto d = dataset::diff_manifests(*ma, *mb);
  if (a.format == "json") {
    ojson j = {{"a", a.a},
               {"b", a.b},
               {"rootA", ma->merkle_root},
               {"rootB", mb->merkle_root},
               {"signaturesChecked", a.trust.any()},
               {"identical", d.empty()}};
    j.update(diff_json(d, "added", "removed"));
    out << dump(j);
  } else {
    out << "mlsc dataset diff: " << a.a << " (" << short_hash(ma->merkle_root) << ") -> " << a.b
        << " (" << short_hash(mb->merkle_root) << ")"
        << (a.trust.any() ? "" : ", signatures not checked") << "\n";
    out << "  " << d.added.size() << " added, " << d.removed.size() << " removed, "
        << d.changed.size() << " changed\n";
    print_diff_lines(d, "added  ", "removed", out);
  }
  return d.empty() ? kExitOk : kExitFailed;
}

int run_dataset_croissant(const DatasetArgs& a, std::ostream& out, std::ostream& err) {
  const auto file = dataset::find_croissant(a.dir);
  if (!file) {
    err << "mlsc dataset croissant: " << a.dir
        << " has no Croissant metadata (croissant.json or metadata.json)\n";
    return kExitUsage;
  }
  auto mapped = MappedFile::open(file->string());
  if (!mapped) {
    err << "mlsc dataset croissant: " << mapped.error().describe() << "\n";
    return kExitUsage;
  }
  auto doc = dataset::parse_croissant(as_chars(mapped->bytes()));
  dataset::ManifestOptions o;
  o.read_croissant = false;
  o.ignore_paths = a.ignore_paths;
  o.threads = a.jobs;
  auto m = dataset::build_manifest(a.dir, o);
  if (!doc || !m) {
    err << "mlsc dataset croissant: " << (!doc ? doc.error() : m.error()).describe() << "\n";
    return kExitUsage;
  }
  if (!a.write) {
    const auto errors = dataset::check_croissant(*doc, *m, a.dir);
    out << "mlsc dataset croissant: " << file->string() << ": " << doc->files.size()
        << " FileObjects, " << errors.size() << " mismatches\n";
    for (const auto& e : errors) out << "  error: " << e << "\n";
    return errors.empty() ? kExitOk : kExitFailed;
  }
  auto updated = dataset::update_croissant(*doc, *m, a.dir);
  if (!updated) {
    err << "mlsc dataset croissant: " << updated.error().describe() << "\n";
    return kExitUsage;
  }
  auto ok = sign::write_file_atomically(*file, dump(updated->document));
  if (!ok) {
    err << "mlsc dataset croissant: " << ok.error().describe() << "\n";
    return kExitUsage;
  }
  out << "mlsc dataset croissant: wrote " << file->string() << ": " << updated->filled
      << " sha256 filled, " << updated->updated << " updated\n";
  for (const auto& u : updated->unmatched) out << "  not in the dataset: " << u << "\n";
  return kExitOk;
}

}  // namespace mlsc::report
