// Checkpoint guard: every checkpoint a training job writes gets a signed record, and a job
// refuses to resume from a checkpoint whose record does not verify. This closes the attack the
// background documents describe: alter a checkpoint on shared storage, crash the job, and let it
// resume from the altered file.
//
// A record is an in-toto Statement v1, predicateType https://mlsc.dev/checkpoint/v1, whose one
// subject is the checkpoint file (by file name, with its SHA-256) and whose predicate is
//   {runId, step, previous: <sha256 of the run's previous checkpoint> | null,
//    previousRecord: <sha256 of the previous record's statement> | null, recordedOn,
//    provenance?: {sha256}}.
// It is written next to the checkpoint as "<checkpoint>.mlsc-ckpt.sig" (a Sigstore bundle, as
// `mlsc sign` writes) and appended to the run's chain file (one bundle per line). Resuming checks
// the record's signature, the file's hash and name, the run id, that the chain is unbroken from
// the run's first checkpoint (no record removed, swapped or reordered; steps increasing), and
// that the checkpoint is the run's latest (an older checkpoint replayed as the newest is
// refused).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlsc/core/expected.hpp"
#include "mlsc/sign/verifier.hpp"

namespace mlsc::provenance {

inline constexpr std::string_view kCheckpointPredicate = "https://mlsc.dev/checkpoint/v1";
inline constexpr std::string_view kCheckpointRecordSuffix = ".mlsc-ckpt.sig";
inline constexpr std::string_view kCheckpointChainFile = ".mlsc-ckpt-chain.jsonl";
inline constexpr std::size_t kMaxRunIdBytes = 256;
inline constexpr std::size_t kMaxChainBytes = std::size_t{256} << 20;
inline constexpr std::size_t kMaxChainLineBytes = std::size_t{1} << 20;

struct CheckpointRecord {
  std::string checkpoint;  // the checkpoint's file name (no directory)
  std::string sha256;      // of the checkpoint file
  std::string run_id;
  std::uint64_t step = 0;
  std::optional<std::string> previous;         // sha256 of the previous checkpoint file
  std::optional<std::string> previous_record;  // sha256 of the previous record's statement bytes
  std::string recorded_on;                     // RFC 3339
  std::optional<std::string> provenance;       // sha256 of the step's provenance, if given
};

nlohmann::ordered_json to_statement(const CheckpointRecord& r);
// Strict: the predicate type, exactly one subject, hex digests, a run id of printable text,
// an unsigned step, previous and previousRecord both null (first) or both digests.
Expected<CheckpointRecord> parse_checkpoint_record(const nlohmann::json& statement);

// "<checkpoint>.mlsc-ckpt.sig", and the default chain file in the checkpoint's folder.
std::filesystem::path checkpoint_record_path(const std::filesystem::path& checkpoint);
std::filesystem::path default_chain_path(const std::filesystem::path& checkpoint);

struct GuardOptions {
  std::string run_id;  // recording: required; verifying: empty means "the record's run"
  std::filesystem::path private_key;  // for record()
  std::vector<std::filesystem::path> cert_chain;
  sign::TrustMaterial trust;         // for verify_resume()
  std::filesystem::path chain_file;  // empty: default_chain_path(checkpoint)
  // Accept a checkpoint that is in the run's chain but not its latest (a deliberate rollback).
  bool allow_older = false;
};

struct ResumeCheck {
  bool input_error = false;          // the record or checkpoint could not be read at all
  std::vector<std::string> reasons;  // why resuming is refused; empty when it is allowed
  std::optional<CheckpointRecord> record;
  std::size_t chain_length = 0;  // records of this run in the chain
  std::string signer;
  bool ok() const { return !input_error && reasons.empty() && record.has_value(); }
};

class CheckpointGuard {
 public:
  explicit CheckpointGuard(GuardOptions options) : options_(std::move(options)) {}

  // Hashes the checkpoint, signs a record chained to the run's previous one and writes it next
  // to the checkpoint and to the chain. `step` empty: one more than the run's last step (0 for
  // the first). `provenance`: a file (the step's provenance) whose digest the record carries.
  Expected<CheckpointRecord> record(const std::filesystem::path& checkpoint,
                                    std::optional<std::uint64_t> step = std::nullopt,
                                    const std::filesystem::path& provenance = {}) const;

  ResumeCheck verify_resume(const std::filesystem::path& checkpoint) const;

 private:
  std::filesystem::path chain_for(const std::filesystem::path& checkpoint) const;
  GuardOptions options_;
};

}  // namespace mlsc::provenance
