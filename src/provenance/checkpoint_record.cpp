#include "mlsc/provenance/checkpoint.hpp"
#include "mlsc/provenance/step_provenance.hpp"
#include "mlsc/sign/statement_bundle.hpp"

namespace mlsc::provenance {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

bool is_sha256_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool is_file_name(std::string_view s) {
  if (s.empty() || s.size() > 4096 || s == "." || s == "..") return false;
  for (const char c : s) {
    if (c == '/' || c == '\0' || static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}

bool is_run_id(std::string_view s) {
  if (s.empty() || s.size() > kMaxRunIdBytes) return false;
  for (const char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// null -> nullopt; a digest -> it; anything else -> an error.
Expected<std::optional<std::string>> optional_digest(const json& predicate, std::string_view key) {
  const auto it = predicate.find(key);
  if (it == predicate.end())
    return Error("checkpoint record: predicate." + std::string(key) + " is missing");
  if (it->is_null()) return std::optional<std::string>();
  if (!it->is_string() || !is_sha256_hex(it->get_ref<const std::string&>()))
    return Error("checkpoint record: predicate." + std::string(key) +
                 " is not null or a sha256 digest");
  return std::optional<std::string>(it->get<std::string>());
}

// The string member `key` of an object, or nullptr.
const std::string* string_member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

Expected<void> read_subject(const json& statement, CheckpointRecord& r) {
  const auto subject = statement.find("subject");
  if (subject == statement.end() || !subject->is_array() || subject->size() != 1)
    return Error("checkpoint record: needs exactly one subject");
  const json& s = (*subject)[0];
  const std::string* name = string_member(s, "name");
  if (name == nullptr || !is_file_name(*name))
    return Error("checkpoint record: subject name is not a file name");
  const auto digest = s.find("digest");
  const std::string* sha = digest != s.end() ? string_member(*digest, "sha256") : nullptr;
  if (sha == nullptr || !is_sha256_hex(*sha))
    return Error("checkpoint record: subject has no sha256 digest");
  r.checkpoint = *name;
  r.sha256 = *sha;
  return {};
}

Expected<void> read_predicate(const json& p, CheckpointRecord& r) {
  const auto run = p.find("runId");
  if (run == p.end() || !run->is_string() || !is_run_id(run->get_ref<const std::string&>()))
    return Error("checkpoint record: runId is not printable text of 1 to 256 bytes");
  r.run_id = run->get<std::string>();
  const auto step = p.find("step");
  if (step == p.end() || !step->is_number_unsigned())
    return Error("checkpoint record: step is not a non-negative integer");
  r.step = step->get<std::uint64_t>();
  auto previous = optional_digest(p, "previous");
  if (!previous) return previous.error();
  auto previous_record = optional_digest(p, "previousRecord");
  if (!previous_record) return previous_record.error();
  if (previous->has_value() != previous_record->has_value())
    return Error("checkpoint record: previous and previousRecord must both be null or both be set");
  r.previous = std::move(*previous);
  r.previous_record = std::move(*previous_record);
  const auto on = p.find("recordedOn");
  if (on == p.end() || !on->is_string() || !is_rfc3339(on->get_ref<const std::string&>()))
    return Error("checkpoint record: recordedOn is not an RFC 3339 time");
  r.recorded_on = on->get<std::string>();
  if (const auto prov = p.find("provenance"); prov != p.end()) {
    const std::string* sha = string_member(*prov, "sha256");
    if (sha == nullptr || !is_sha256_hex(*sha))
      return Error("checkpoint record: provenance is not a {sha256} digest");
    r.provenance = *sha;
  }
  return {};
}

}  // namespace

ordered_json to_statement(const CheckpointRecord& r) {
  ordered_json predicate = {
      {"runId", r.run_id},
      {"step", r.step},
      {"previous", r.previous ? ordered_json(*r.previous) : ordered_json(nullptr)},
      {"previousRecord",
       r.previous_record ? ordered_json(*r.previous_record) : ordered_json(nullptr)},
      {"recordedOn", r.recorded_on}};
  if (r.provenance) predicate["provenance"] = {{"sha256", *r.provenance}};
  return ordered_json{
      {"_type", sign::kInTotoStatementV1},
      {"subject",
       ordered_json::array({{{"name", r.checkpoint}, {"digest", {{"sha256", r.sha256}}}}})},
      {"predicateType", kCheckpointPredicate},
      {"predicate", std::move(predicate)}};
}

Expected<CheckpointRecord> parse_checkpoint_record(const json& statement) {
  if (!statement.is_object()) return Error("checkpoint record: not a JSON object");
  const auto type = statement.find("_type");
  if (type == statement.end() || !type->is_string() ||
      type->get_ref<const std::string&>() != sign::kInTotoStatementV1)
    return Error("checkpoint record: _type is not in-toto Statement v1");
  const auto pt = statement.find("predicateType");
  if (pt == statement.end() || !pt->is_string() ||
      pt->get_ref<const std::string&>() != kCheckpointPredicate)
    return Error("checkpoint record: predicateType is not " + std::string(kCheckpointPredicate));
  CheckpointRecord r;
  if (auto ok = read_subject(statement, r); !ok) return ok.error();
  const auto predicate = statement.find("predicate");
  if (predicate == statement.end() || !predicate->is_object())
    return Error("checkpoint record: no predicate object");
  if (auto ok = read_predicate(*predicate, r); !ok) return ok.error();
  return r;
}

fs::path checkpoint_record_path(const fs::path& checkpoint) {
  fs::path p = checkpoint;
  p += std::string(kCheckpointRecordSuffix);
  return p;
}

fs::path default_chain_path(const fs::path& checkpoint) {
  return checkpoint.parent_path() / std::string(kCheckpointChainFile);
}

}  // namespace mlsc::provenance
