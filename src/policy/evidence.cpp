#include "mlsc/policy/evidence.hpp"

#include <algorithm>

#include "mlsc/sign/bundle.hpp"
#include "mlsc/sign/statement_bundle.hpp"

namespace mlsc::policy {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxStatementDepth = 64;
constexpr std::size_t kMaxSubjects = 100000;

bool lower_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// The statement inside a bundle, read without trusting it: a rule still wants to know that
// provenance exists when no trusted key signed it, to say so.
Expected<nlohmann::json> unverified_statement(const sign::Bundle& b) {
  const std::string_view payload(reinterpret_cast<const char*>(b.envelope.payload.data()),
                                 b.envelope.payload.size());
  if (sign::json_nesting_exceeds(payload, kMaxStatementDepth)) {
    return Error("statement nested too deeply");
  }
  auto doc = nlohmann::json::parse(payload, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Error("payload is not a JSON statement");
  const auto type = doc.find("predicateType");
  if (type == doc.end() || !type->is_string() || !doc.contains("subject")) {
    return Error("payload is not an in-toto statement (no predicateType or subject)");
  }
  return doc;
}

}  // namespace

std::vector<EvidenceSubject> statement_subjects(const nlohmann::json& statement) {
  std::vector<EvidenceSubject> out;
  const auto subjects = statement.find("subject");
  if (subjects == statement.end() || !subjects->is_array()) return out;
  for (const auto& s : *subjects) {
    if (out.size() >= kMaxSubjects || !s.is_object()) break;
    const auto digest = s.find("digest");
    if (digest == s.end() || !digest->is_object()) continue;
    std::string name;
    if (const auto n = s.find("name"); n != s.end() && n->is_string()) name = n->get<std::string>();
    for (const auto& [alg, value] : digest->items()) {
      if (!value.is_string() || !lower_hex(value.get<std::string>())) continue;
      out.push_back({name, alg + ":" + value.get<std::string>()});
    }
  }
  return out;
}

bool Evidence::names_digest(std::string_view digest) const {
  return std::any_of(subjects.begin(), subjects.end(),
                     [&](const EvidenceSubject& s) { return s.digest == digest; });
}

Expected<EvidencePool> EvidencePool::load(const Policy& policy,
                                          const std::vector<fs::path>& bundles) {
  if (bundles.size() > kMaxEvidenceBundles) return Error("too many evidence bundles");
  EvidencePool pool;
  for (const auto& file : bundles) {
    if (pool.by_file(file) != nullptr) continue;
    auto bundle = sign::read_bundle(file);
    if (!bundle) return Error(file.string() + ": " + bundle.error().describe());
    auto statement = unverified_statement(*bundle);
    if (!statement) return Error(file.string() + ": " + statement.error().describe());
    Evidence e;
    e.file = file;
    e.predicate_type = (*statement)["predicateType"].get<std::string>();
    e.subjects = statement_subjects(*statement);
    e.statement = std::move(*statement);
    for (const auto& key : policy.keys) {
      const auto check = sign::verify_statement_bundle(*bundle, key.material);
      if (check.ok()) {
        if (e.verified_by.empty()) e.signer = check.verified.signer;
        e.verified_by.insert(key.name);
      }
    }
    pool.items_.push_back(std::move(e));
  }
  return pool;
}

std::vector<const Evidence*> EvidencePool::about(std::string_view predicate_type,
                                                 const std::set<std::string>& digests) const {
  std::vector<const Evidence*> out;
  for (const auto& e : items_) {
    if (e.predicate_type != predicate_type) continue;
    if (std::any_of(digests.begin(), digests.end(),
                    [&](const std::string& d) { return e.names_digest(d); })) {
      out.push_back(&e);
    }
  }
  return out;
}

const Evidence* EvidencePool::by_file(const fs::path& file) const {
  for (const auto& e : items_) {
    if (e.file == file) return &e;
  }
  return nullptr;
}

}  // namespace mlsc::policy
