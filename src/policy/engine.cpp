// The admission engine: identifies the artifact (its digests), runs every rule that applies to
// its kind and labels, and recurses into provenance inputs.
#include "engine.hpp"

#include <fnmatch.h>

#include <algorithm>

#include "mlsc/sign/hashing.hpp"
#include "mlsc/sign/statement.hpp"
#include "mlsc/sign/verify.hpp"

namespace mlsc::policy {
namespace fs = std::filesystem;

namespace detail {

std::vector<std::string> trusted_names(const std::vector<std::string>& listed, const Policy& p) {
  if (!listed.empty()) return listed;
  std::vector<std::string> all;
  for (const auto& k : p.keys) all.push_back(k.name);
  return all;
}

bool verified_by_any(const Evidence& e, const std::vector<std::string>& names) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return e.verified_by.count(n) != 0; });
}

std::string join(const std::vector<std::string>& items, std::string_view sep,
                 std::size_t max_items) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max_items; ++i) {
    if (i != 0) out += sep;
    out += items[i];
  }
  if (items.size() > max_items) {
    out += std::string(sep) + "and " + std::to_string(items.size() - max_items) + " more";
  }
  return out;
}

bool matches_pattern(const std::string& pattern, const std::string& value) {
  if (pattern == value) return true;
  if (!pattern.empty() && pattern.back() == '/' && value.rfind(pattern, 0) == 0) return true;
  if (pattern.find_first_of("*?[") == std::string::npos) return false;
  return ::fnmatch(pattern.c_str(), value.c_str(), 0) == 0;
}

std::string file_sha256(const fs::path& file) {
  auto d = sign::hash_file(file, sign::HashType::sha256);
  return d ? "sha256:" + d->hex() : std::string();
}

const nlohmann::json* json_path(const nlohmann::json& j, std::initializer_list<const char*> keys) {
  const nlohmann::json* at = &j;
  for (const char* k : keys) {
    if (!at->is_object()) return nullptr;
    const auto it = at->find(k);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

std::string json_text(const nlohmann::json* j) {
  return j != nullptr && j->is_string() ? j->get<std::string>() : std::string();
}

RuleResult pass(std::string reason) {
  return {{}, {}, true, std::move(reason)};
}
RuleResult fail(std::string reason) {
  return {{}, {}, false, std::move(reason)};
}

const sign::VerifyResult& Engine::verify_model_with(const TrustKey& key, const Subject& s) {
  auto it = model_checks_.find(key.name);
  if (it == model_checks_.end()) {
    it = model_checks_
             .emplace(key.name, sign::verify_signed_model(*s.content, *s.signature, key.material))
             .first;
  }
  return it->second;
}

namespace {

// Whether a supplied folder is named like the dataset input: its dependency name or the name
// its manifest gives.
bool is_named_copy(const fs::path& folder, const Subject& s) {
  std::string base = folder.filename().string();
  if (base.empty()) base = folder.parent_path().filename().string();  // "data/regression/"
  if (base.empty()) return false;
  if (base == s.name) return true;
  if (s.manifest == nullptr) return false;
  const nlohmann::json* name = json_path(s.manifest->statement, {"predicate", "name"});
  return name != nullptr && name->is_string() && name->get<std::string>() == base;
}

Subject with_content(Subject s, const fs::path& content) {
  s.content = content;
  return s;
}

bool rule_applies(const Rule& rule, const Subject& s) {
  return std::all_of(rule.when.begin(), rule.when.end(), [&](const auto& cond) {
    return (s.labels.count(cond.first) != 0) == cond.second;
  });
}

// The reasons a signature did not verify under one key, in one line.
std::string verify_failure(const std::string& key, const sign::VerifyResult& r) {
  std::vector<std::string> parts;
  for (const auto& f : r.failures) parts.push_back(f.code + ": " + f.message);
  if (r.diff && !r.diff->ok()) {
    std::vector<std::string> files = r.diff->missing;
    files.insert(files.end(), r.diff->extra.begin(), r.diff->extra.end());
    for (const auto& c : r.diff->changed) files.push_back(c.name);
    parts.push_back("files that differ: " + join(files, ", ", 5));
  }
  return key + ": " + (parts.empty() ? "did not verify" : join(parts, "; ", 3));
}

}  // namespace

RuleResult Engine::run(const Rule& rule, const Subject& s, int depth, std::set<std::string>& path,
                       Decision& d) {
  RuleResult r = std::visit(
      [&](const auto& settings) -> RuleResult {
        using T = std::decay_t<decltype(settings)>;
        if constexpr (std::is_same_v<T, SignatureRule>) return signature(settings, s);
        if constexpr (std::is_same_v<T, ScanRule>) return scan(settings, s);
        if constexpr (std::is_same_v<T, ProvenanceRule>) {
          return provenance(settings, s, depth, path, d);
        }
        if constexpr (std::is_same_v<T, DatasetRule>) return datasets(settings, s);
        if constexpr (std::is_same_v<T, BaseModelRule>) return base_models(settings, s);
        if constexpr (std::is_same_v<T, DependencyRule>) return dependencies(settings, s);
      },
      rule.settings);
  r.id = rule.id;
  r.check = std::string(check_id(rule.settings));
  return r;
}

Decision Engine::evaluate(const Subject& s, int depth, std::set<std::string>& path) {
  Decision d;
  d.subject = s.display;
  d.kind = s.kind;
  d.digests = s.digests;
  for (const auto& digest : s.digests) path.insert(digest);
  const auto rules = policy_.rules.find(s.kind);
  if (rules != policy_.rules.end()) {
    for (const auto& rule : rules->second) {
      if (rule_applies(rule, s)) d.results.push_back(run(rule, s, depth, path, d));
    }
  }
  for (const auto& digest : s.digests) path.erase(digest);
  return d;
}

RuleResult Engine::signature(const SignatureRule& r, const Subject& s) {
  const auto names = trusted_names(r.trusted, policy_);
  const std::string trusted = join(names, ", ", 8);
  if (s.kind == ArtifactKind::dataset) {
    if (s.manifest == nullptr) {
      return r.required ? fail("no signed dataset manifest (--manifest) for " + s.display)
                        : pass("no dataset manifest; a signature is not required");
    }
    if (verified_by_any(*s.manifest, names)) {
      return pass("manifest " + s.manifest->file.string() + " signed by " + s.manifest->signer);
    }
    return fail("manifest " + s.manifest->file.string() + " is not signed by a trusted key (" +
                trusted + ")");
  }
  if (s.signature && s.content) {
    std::vector<std::string> failures;
    for (const auto& name : names) {
      const TrustKey* key = policy_.key(name);
      const auto& result = verify_model_with(*key, s);
      if (result.ok()) return pass("verified by " + name + " (" + result.signer + ")");
      failures.push_back(verify_failure(name, result));
    }
    return fail(s.signature->string() +
                " does not verify with a trusted key: " + join(failures, " | ", 3));
  }
  for (const auto& digest : s.digests) {
    for (const auto* e : pool_.about(kModelSignatureV1, {digest})) {
      if (verified_by_any(*e, names)) {
        return pass("signature " + e->file.string() + " signed by " + e->signer);
      }
    }
  }
  if (!r.required) return pass("no signature; not required");
  return fail("no signature by a trusted key (" + trusted + ") for " + s.display);
}

Subject Engine::input_subject(const nlohmann::json& dep, ArtifactKind kind,
                              const std::string& digest) {
  Subject s;
  s.kind = kind;
  s.is_input = true;
  s.name = json_text(json_path(dep, {"name"}));
  if (s.name.empty()) s.name = json_text(json_path(dep, {"uri"}));
  s.display = (s.name.empty() ? std::string("input") : s.name) + " (" + digest + ")";
  s.digests.insert(digest);
  if (kind == ArtifactKind::dataset) {
    const auto manifests = pool_.about(kDatasetManifestV1, s.digests);
    const auto verified = std::find_if(manifests.begin(), manifests.end(),
                                       [](const Evidence* e) { return !e->verified_by.empty(); });
    if (verified != manifests.end())
      s.manifest = *verified;
    else if (!manifests.empty())
      s.manifest = manifests.front();
  }
  std::optional<fs::path> named_copy;
  for (const auto& candidate : options_.input_paths) {
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && file_sha256(candidate) == digest) {
      s.content = candidate;
      break;
    }
    if (!fs::is_directory(candidate, ec)) continue;
    if (kind == ArtifactKind::dataset) {
      // A dataset folder is identified by its manifest: the folder must hash to it. A folder
      // named like the dataset that does not is still its copy, and a changed one: it is kept
      // so the dataset rule reports the difference instead of falling back to the digest.
      if (s.manifest != nullptr &&
          manifest_matches(*s.manifest, with_content(s, candidate)).empty()) {
        s.content = candidate;
        break;
      }
      if (!named_copy && is_named_copy(candidate, s)) named_copy = candidate;
      continue;
    }
    if (kind != ArtifactKind::model) continue;
    // A model folder is identified by its signed manifest: the folder must hash to it.
    for (const auto* sig : pool_.about(kModelSignatureV1, s.digests)) {
      auto manifest = sign::parse_statement_document(sig->statement);
      if (!manifest) continue;
      auto diff = sign::verify_model(candidate, *manifest, {});
      if (diff && diff->ok()) {
        s.content = candidate;
        break;
      }
    }
    if (s.content) break;
  }
  if (!s.content && named_copy) s.content = named_copy;
  return s;
}

}  // namespace detail

bool Decision::admitted() const {
  return std::all_of(results.begin(), results.end(), [](const RuleResult& r) { return r.passed; });
}

Expected<Decision> admit(const Policy& policy, const Artifact& artifact,
                         const AdmitOptions& options) {
  std::error_code ec;
  if (!fs::exists(artifact.path, ec)) return Error(artifact.path.string() + ": no such artifact");
  std::vector<fs::path> bundles;
  if (artifact.signature) bundles.push_back(*artifact.signature);
  if (artifact.manifest) bundles.push_back(*artifact.manifest);
  bundles.insert(bundles.end(), options.evidence.begin(), options.evidence.end());
  auto pool = EvidencePool::load(policy, bundles);
  if (!pool) return pool.error();

  detail::Engine engine(policy, *pool, options);
  detail::Subject s;
  s.kind = artifact.kind;
  s.display = artifact.path.string();
  s.name = artifact.path.filename().string();
  s.content = artifact.path;
  s.signature = artifact.signature;
  s.labels = artifact.labels;
  if (fs::is_regular_file(artifact.path, ec)) {
    const std::string digest = detail::file_sha256(artifact.path);
    if (digest.empty()) return Error(artifact.path.string() + ": unreadable");
    s.digests.insert(digest);
  }
  // A signed model folder is known by its signed manifest's digest, once the folder matches it.
  if (artifact.signature) {
    for (const auto& key : policy.keys) {
      const auto& r = engine.verify_model_with(key, s);
      if (r.input_error && !fs::exists(*artifact.signature, ec)) {
        return Error(artifact.signature->string() + ": no such signature bundle");
      }
      if (!r.ok() || !r.statement) continue;
      if (auto root = r.statement->root_digest()) s.digests.insert("sha256:" + root->hex());
    }
  }
  if (artifact.manifest) {
    s.manifest = pool->by_file(*artifact.manifest);
    for (const auto& subject : s.manifest->subjects) s.digests.insert(subject.digest);
  }
  std::set<std::string> path;
  Decision d = engine.evaluate(s, 0, path);
  if (engine.fatal()) return *engine.fatal();
  return d;
}

}  // namespace mlsc::policy
