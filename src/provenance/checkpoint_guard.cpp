#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

#include "mlsc/core/bytes.hpp"
#include "mlsc/provenance/checkpoint.hpp"
#include "mlsc/provenance/step_inputs.hpp"
#include "mlsc/provenance/step_provenance.hpp"
#include "mlsc/sign/bundle.hpp"
#include "mlsc/sign/dsse.hpp"
#include "mlsc/sign/hashing.hpp"
#include "mlsc/sign/keys.hpp"
#include "mlsc/sign/statement_bundle.hpp"

namespace mlsc::provenance {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// One record of the chain file, after its signature and shape were checked.
struct ChainEntry {
  CheckpointRecord record;
  std::string statement_sha256;  // of the signed statement bytes: what previousRecord names
  std::size_t line = 0;
};

std::string payload_sha256(const sign::Bundle& b) {
  auto d = sign::hash_bytes(sign::HashType::sha256, b.envelope.payload);
  return d ? d->hex() : std::string();
}

Expected<json> payload_json(const sign::Bundle& b) {
  const std::string_view payload = as_chars(b.envelope.payload);
  if (sign::json_nesting_exceeds(payload, sign::kMaxBundleDepth))
    return Error("statement nested too deeply");
  auto doc = json::parse(payload, nullptr, false);
  if (doc.is_discarded()) return Error("the signed statement is not JSON");
  return doc;
}

// Checks one chain line: with `key` (recording: our own key) or with `trust` (resuming).
using LineCheck = std::function<Expected<json>(const sign::Bundle&)>;

// Reads the chain file (absent: an empty chain) and returns the records of `run_id`.
Expected<std::vector<ChainEntry>> read_chain(const fs::path& file, const std::string& run_id,
                                             const LineCheck& check) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::vector<ChainEntry>();
  auto text = read_small_file(file, kMaxChainBytes);
  if (!text) return text.error();
  std::vector<ChainEntry> entries;
  std::size_t start = 0;
  for (std::size_t line = 1; start < text->size(); ++line) {
    std::size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    const std::string_view row(text->data() + start, end - start);
    const std::size_t offset = start;
    start = end + 1;
    if (row.empty()) continue;
    const std::string where = file.string() + " line " + std::to_string(line);
    if (row.size() > kMaxChainLineBytes) return Error::at(offset, where + ": longer than 1 MiB");
    auto bundle = sign::parse_bundle(row);
    if (!bundle) return Error::at(offset, where + ": " + bundle.error().describe());
    // Other runs' records (possibly signed by other keys) are skipped unverified; a line whose
    // run cannot be read at all is refused, so nothing hides behind a malformed line.
    auto unverified = payload_json(*bundle);
    if (!unverified) return Error::at(offset, where + ": " + unverified.error().describe());
    auto claimed = parse_checkpoint_record(*unverified);
    if (!claimed) return Error::at(offset, where + ": " + claimed.error().describe());
    if (!run_id.empty() && claimed->run_id != run_id) continue;
    auto statement = check(*bundle);
    if (!statement) return Error::at(offset, where + ": " + statement.error().describe());
    auto record = parse_checkpoint_record(*statement);
    if (!record) return Error::at(offset, where + ": " + record.error().describe());
    entries.push_back({std::move(*record), payload_sha256(*bundle), line});
  }
  return entries;
}

// The links between consecutive records of one run; the first reason found, if any.
std::optional<std::string> broken_link(const std::vector<ChainEntry>& chain) {
  for (std::size_t i = 0; i < chain.size(); ++i) {
    const auto& r = chain[i].record;
    const std::string at =
        "chain line " + std::to_string(chain[i].line) + " (step " + std::to_string(r.step) + ")";
    if (i == 0) {
      if (r.previous)
        return at + ": the run's first record names a previous checkpoint that is not in the chain";
      continue;
    }
    const auto& before = chain[i - 1];
    if (!r.previous_record || *r.previous_record != before.statement_sha256)
      return at +
             ": does not follow the record before it (a record was removed, swapped or reordered)";
    if (!r.previous || *r.previous != before.record.sha256)
      return at + ": its previous checkpoint digest is not the digest recorded before it";
    if (r.step <= before.record.step)
      return at + ": step does not increase (previous step " + std::to_string(before.record.step) +
             ")";
  }
  return std::nullopt;
}

Expected<void> append_line(const fs::path& file, const std::string& line) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Error(file.string() + ": " + std::strerror(errno));
  const std::string row = line + "\n";
  std::size_t done = 0;
  while (done < row.size()) {
    const ssize_t n = ::write(fd, row.data() + done, row.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      return Error(file.string() + ": " + why);
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return Error(file.string() + ": fsync failed");
  return {};
}

void refuse(ResumeCheck& c, std::string reason) {
  c.reasons.push_back(std::move(reason));
}

// The run's chain must verify, be unbroken from its first record, hold this record, and (unless
// rolling back on purpose) end with it.
void check_lineage(const fs::path& chain_file, const GuardOptions& o, const CheckpointRecord& r,
                   const std::string& statement_sha256, ResumeCheck& c) {
  const LineCheck check = [&o](const sign::Bundle& b) -> Expected<json> {
    auto verified = sign::verify_statement_bundle(b, o.trust, kCheckpointPredicate);
    if (!verified.ok()) {
      const auto& f = verified.failures;
      return Error(f.empty() ? std::string("does not verify")
                             : f.front().code + ": " + f.front().message);
    }
    return std::move(verified.verified.statement);
  };
  auto chain = read_chain(chain_file, r.run_id, check);
  if (!chain) return refuse(c, "checkpoint chain: " + chain.error().message);
  c.chain_length = chain->size();
  if (chain->empty())
    return refuse(c, "checkpoint chain " + chain_file.string() + " has no record of run \"" +
                         r.run_id + "\" (the chain is missing or was truncated)");
  if (auto broken = broken_link(*chain)) return refuse(c, "checkpoint chain: " + *broken);
  const auto found = std::find_if(chain->begin(), chain->end(), [&](const ChainEntry& e) {
    return e.statement_sha256 == statement_sha256;
  });
  if (found == chain->end())
    return refuse(c, "the record is not in the run's checkpoint chain " + chain_file.string());
  const auto& latest = chain->back().record;
  if (&*found != &chain->back() && !o.allow_older)
    refuse(c, "the checkpoint is step " + std::to_string(r.step) +
                  " but the run's latest is step " + std::to_string(latest.step) + " (" +
                  latest.checkpoint + "): an older checkpoint replayed as the newest");
}

}  // namespace

fs::path CheckpointGuard::chain_for(const fs::path& checkpoint) const {
  return options_.chain_file.empty() ? default_chain_path(checkpoint) : options_.chain_file;
}

Expected<CheckpointRecord> CheckpointGuard::record(const fs::path& checkpoint,
                                                   std::optional<std::uint64_t> step,
                                                   const fs::path& provenance) const {
  CheckpointRecord r;
  r.run_id = options_.run_id;
  if (r.run_id.empty() || r.run_id.size() > kMaxRunIdBytes)
    return Error("checkpoint: the run id must be 1 to 256 bytes");
  auto key = sign::PrivateKey::load(options_.private_key);
  if (!key) return key.error();
  const sign::PublicKey own = key->public_key();
  // Our own earlier records: a line we did not sign must not become the new record's parent.
  const LineCheck check = [&own](const sign::Bundle& b) -> Expected<json> {
    if (b.envelope.signatures.empty()) return Error("unsigned record");
    const std::string pae = sign::dsse_pae(b.envelope.payload_type, b.envelope.payload);
    if (auto ok = own.verify(as_bytes(pae), b.envelope.signatures[0].sig); !ok)
      return Error("a record not signed by this key: " + ok.error().describe());
    return payload_json(b);
  };
  auto chain = read_chain(chain_for(checkpoint), r.run_id, check);
  if (!chain) return chain.error();
  if (auto broken = broken_link(*chain)) return Error("checkpoint chain: " + *broken);
  auto digest = sign::hash_file(checkpoint, sign::HashType::sha256);
  if (!digest) return Error(checkpoint.string() + ": " + digest.error().describe());
  r.checkpoint = checkpoint.filename().string();
  r.sha256 = digest->hex();
  if (!chain->empty()) {
    const auto& last = chain->back();
    if (step && *step <= last.record.step)
      return Error("checkpoint: step " + std::to_string(*step) +
                   " is not after the run's last recorded step " +
                   std::to_string(last.record.step));
    r.step = step ? *step : last.record.step + 1;
    r.previous = last.record.sha256;
    r.previous_record = last.statement_sha256;
  } else {
    r.step = step.value_or(0);
  }
  if (!provenance.empty()) {
    auto p = sign::hash_file(provenance, sign::HashType::sha256);
    if (!p) return Error(provenance.string() + ": " + p.error().describe());
    r.provenance = p->hex();
  }
  r.recorded_on = rfc3339_utc(std::chrono::system_clock::now());
  auto bundle = sign::sign_statement(to_statement(r), options_.private_key, options_.cert_chain);
  if (!bundle) return bundle.error();
  if (auto ok = sign::write_bundle(*bundle, checkpoint_record_path(checkpoint)); !ok)
    return ok.error();
  if (auto ok = append_line(chain_for(checkpoint), sign::to_json(*bundle).dump()); !ok)
    return ok.error();
  return r;
}

ResumeCheck CheckpointGuard::verify_resume(const fs::path& checkpoint) const {
  ResumeCheck c;
  const fs::path record_file = checkpoint_record_path(checkpoint);
  auto bundle = sign::read_bundle(record_file);
  if (!bundle) {
    c.input_error = true;
    refuse(c, record_file.string() + ": " + bundle.error().describe());
    return c;
  }
  const auto signed_record =
      sign::verify_statement_bundle(*bundle, options_.trust, kCheckpointPredicate);
  c.input_error = signed_record.input_error;
  for (const auto& f : signed_record.failures) refuse(c, "record " + f.code + ": " + f.message);
  if (!signed_record.ok()) return c;
  c.signer = signed_record.verified.signer;
  auto record = parse_checkpoint_record(signed_record.verified.statement);
  if (!record) {
    refuse(c, record.error().describe());
    return c;
  }
  c.record = *record;
  if (record->checkpoint != checkpoint.filename().string())
    refuse(c, "the record is for \"" + record->checkpoint + "\", not \"" +
                  checkpoint.filename().string() + "\" (a checkpoint renamed or replayed)");
  auto digest = sign::hash_file(checkpoint, sign::HashType::sha256);
  if (!digest) {
    c.input_error = true;
    refuse(c, checkpoint.string() + ": " + digest.error().describe());
    return c;
  }
  if (digest->hex() != record->sha256)
    refuse(c, "the checkpoint's sha256 " + digest->hex() + " is not the recorded " +
                  record->sha256 + " (the file was modified after it was recorded)");
  if (!options_.run_id.empty() && record->run_id != options_.run_id)
    refuse(c, "the record is for run \"" + record->run_id + "\", not \"" + options_.run_id + "\"");
  check_lineage(chain_for(checkpoint), options_, *record, payload_sha256(*bundle), c);
  return c;
}

}  // namespace mlsc::provenance
