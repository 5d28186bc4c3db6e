// The checkpoint guard: signed, chained records, and every way a resume is refused.
#include "mlsc/provenance/checkpoint.hpp"

#include <gtest/gtest.h>

#include "mlsc/sign/bundle.hpp"
#include "sign/pki_fixture.hpp"

namespace mlsc::provenance {
namespace {

using sign::testing::make_key;
using sign::testing::public_key_of;
using sign::testing::read_file;
using sign::testing::ScratchDir;
using sign::testing::write_file;
namespace fs = std::filesystem;

struct TrainingRun {
  ScratchDir dir;
  fs::path key = make_key(dir.path(), "P-256", "signer");
  fs::path pub = public_key_of(key);

  CheckpointGuard writer(const std::string& run = "run-1") const {
    GuardOptions o;
    o.run_id = run;
    o.private_key = key;
    return CheckpointGuard(o);
  }
  CheckpointGuard reader(const std::string& run = "", bool allow_older = false) const {
    GuardOptions o;
    o.run_id = run;
    o.trust = {sign::TrustMode::public_key, pub, "", ""};
    o.allow_older = allow_older;
    return CheckpointGuard(o);
  }
  fs::path ckpt(int i) const { return dir.path() / ("ckpt_" + std::to_string(i) + ".pt"); }
  // Three checkpoints at steps 100, 200, 300.
  void train_three() const {
    for (int i = 1; i <= 3; ++i) {
      write_file(ckpt(i), "weights after epoch " + std::to_string(i));
      auto r = writer().record(ckpt(i), static_cast<std::uint64_t>(i * 100));
      ASSERT_TRUE(r) << r.error().describe();
    }
  }
};

std::string reasons(const ResumeCheck& c) {
  std::string s;
  for (const auto& r : c.reasons) s += r + "\n";
  return s;
}

bool mentions(const ResumeCheck& c, const std::string& text) {
  return reasons(c).find(text) != std::string::npos;
}

TEST(CheckpointGuard, RecordsChainToThePreviousCheckpoint) {
  TrainingRun run;
  write_file(run.ckpt(1), "one");
  write_file(run.ckpt(2), "two");
  auto first = run.writer().record(run.ckpt(1));
  ASSERT_TRUE(first) << first.error().describe();
  EXPECT_EQ(first->step, 0u);
  EXPECT_FALSE(first->previous);
  auto second = run.writer().record(run.ckpt(2));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->step, 1u);
  EXPECT_EQ(second->previous, first->sha256);
  EXPECT_TRUE(second->previous_record);
  EXPECT_TRUE(fs::exists(checkpoint_record_path(run.ckpt(2))));
  EXPECT_TRUE(fs::exists(run.dir.path() / ".mlsc-ckpt-chain.jsonl"));
  auto check = run.reader("run-1").verify_resume(run.ckpt(2));
  EXPECT_TRUE(check.ok()) << reasons(check);
  EXPECT_EQ(check.chain_length, 2u);
}

TEST(CheckpointGuard, RefusesAModifiedCheckpoint) {
  TrainingRun run;
  run.train_three();
  write_file(run.ckpt(3), "weights after epoch 3, one weight changed");
  auto check = run.reader().verify_resume(run.ckpt(3));
  EXPECT_FALSE(check.ok());
  EXPECT_TRUE(mentions(check, "modified after it was recorded")) << reasons(check);
}

TEST(CheckpointGuard, RefusesAnOlderCheckpointReplayedAsTheNewest) {
  TrainingRun run;
  run.train_three();
  // Content only: the newest record no longer matches.
  fs::copy_file(run.ckpt(1), run.ckpt(3), fs::copy_options::overwrite_existing);
  EXPECT_TRUE(mentions(run.reader().verify_resume(run.ckpt(3)), "modified after it was recorded"));
  // Content and its genuine record: the name and the chain's head give it away.
  fs::copy_file(checkpoint_record_path(run.ckpt(1)), checkpoint_record_path(run.ckpt(3)),
                fs::copy_options::overwrite_existing);
  const auto check = run.reader().verify_resume(run.ckpt(3));
  EXPECT_FALSE(check.ok());
  EXPECT_TRUE(mentions(check, "renamed or replayed")) << reasons(check);
  EXPECT_TRUE(mentions(check, "run's latest is step 300")) << reasons(check);
}

TEST(CheckpointGuard, OlderCheckpointsNeedAnExplicitRollback) {
  TrainingRun run;
  run.train_three();
  EXPECT_TRUE(mentions(run.reader().verify_resume(run.ckpt(2)), "older checkpoint"));
  auto rollback = run.reader("", true).verify_resume(run.ckpt(2));
  EXPECT_TRUE(rollback.ok()) << reasons(rollback);
}

TEST(CheckpointGuard, RefusesABrokenChain) {
  TrainingRun run;
  run.train_three();
  const fs::path chain = run.dir.path() / ".mlsc-ckpt-chain.jsonl";
  const std::string text = read_file(chain);
  const auto first_end = text.find('\n');
  const auto second_end = text.find('\n', first_end + 1);
  // The middle record removed.
  write_file(chain, text.substr(0, first_end + 1) + text.substr(second_end + 1));
  auto removed = run.reader().verify_resume(run.ckpt(3));
  EXPECT_FALSE(removed.ok());
  EXPECT_TRUE(mentions(removed, "removed, swapped or reordered")) << reasons(removed);
  // Records swapped.
  write_file(chain, text.substr(first_end + 1, second_end - first_end) +
                        text.substr(0, first_end + 1) + text.substr(second_end + 1));
  EXPECT_FALSE(run.reader().verify_resume(run.ckpt(3)).ok());
  // A line that is not a signed record at all.
  write_file(chain, text + "{\"not\": \"a bundle\"}\n");
  EXPECT_TRUE(mentions(run.reader().verify_resume(run.ckpt(3)), "checkpoint chain"));
  // No chain.
  fs::remove(chain);
  EXPECT_TRUE(mentions(run.reader().verify_resume(run.ckpt(3)), "no record of run"));
}

TEST(CheckpointGuard, RefusesAnotherSignerOrRun) {
  TrainingRun run;
  run.train_three();
  const auto other = public_key_of(make_key(run.dir.path(), "P-256", "other"));
  GuardOptions o;
  o.trust = {sign::TrustMode::public_key, other, "", ""};
  auto wrong_key = CheckpointGuard(o).verify_resume(run.ckpt(3));
  EXPECT_FALSE(wrong_key.ok());
  EXPECT_TRUE(mentions(wrong_key, "record ")) << reasons(wrong_key);
  EXPECT_TRUE(mentions(run.reader("run-2").verify_resume(run.ckpt(3)), "is for run \"run-1\""));
  fs::remove(checkpoint_record_path(run.ckpt(3)));
  auto missing = run.reader().verify_resume(run.ckpt(3));
  EXPECT_TRUE(missing.input_error);
  EXPECT_FALSE(missing.ok());
}

TEST(CheckpointGuard, RecordingRefusesStepsThatDoNotIncreaseAndForeignRecords) {
  TrainingRun run;
  run.train_three();
  write_file(run.ckpt(4), "four");
  auto same = run.writer().record(run.ckpt(4), 300);
  ASSERT_FALSE(same);
  EXPECT_NE(same.error().message.find("not after"), std::string::npos);
  // Another key cannot extend this run's chain.
  GuardOptions o;
  o.run_id = "run-1";
  o.private_key = make_key(run.dir.path(), "P-256", "intruder");
  auto foreign = CheckpointGuard(o).record(run.ckpt(4));
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.error().message.find("not signed by this key"), std::string::npos);
  // A second run, signed with another key, shares the chain file: each run's lineage stands on
  // its own and each is checked with its own key.
  o.run_id = "run-2";
  auto other_run = CheckpointGuard(o).record(run.ckpt(4));
  ASSERT_TRUE(other_run) << other_run.error().describe();
  EXPECT_EQ(other_run->step, 0u);
  GuardOptions other_reader;
  other_reader.trust = {sign::TrustMode::public_key, public_key_of(o.private_key), "", ""};
  auto check = CheckpointGuard(other_reader).verify_resume(run.ckpt(4));
  EXPECT_TRUE(check.ok()) << reasons(check);
  EXPECT_EQ(check.chain_length, 1u);
  auto first_run = run.reader("run-1").verify_resume(run.ckpt(3));
  EXPECT_TRUE(first_run.ok()) << reasons(first_run);
}

TEST(CheckpointRecord, RoundTripsAndRefusesMalformedRecords) {
  CheckpointRecord r;
  r.checkpoint = "ckpt.pt";
  r.sha256 = std::string(64, 'a');
  r.run_id = "run";
  r.step = 5;
  r.previous = std::string(64, 'b');
  r.previous_record = std::string(64, 'c');
  r.recorded_on = "2026-05-01T12:00:00Z";
  r.provenance = std::string(64, 'd');
  const nlohmann::json s = to_statement(r);
  auto back = parse_checkpoint_record(s);
  ASSERT_TRUE(back) << back.error().describe();
  EXPECT_EQ(back->previous, r.previous);
  EXPECT_EQ(back->provenance, r.provenance);
  auto with = [&](const std::string& pointer, const nlohmann::json& value) {
    nlohmann::json copy = s;
    copy[nlohmann::json::json_pointer(pointer)] = value;
    return parse_checkpoint_record(copy).has_value();
  };
  EXPECT_FALSE(with("/predicate/step", -1));
  EXPECT_FALSE(with("/predicate/step", 1.5));
  EXPECT_FALSE(with("/predicate/previous", nullptr));  // previousRecord still set
  EXPECT_FALSE(with("/predicate/runId", ""));
  EXPECT_FALSE(with("/predicate/recordedOn", "yesterday"));
  EXPECT_FALSE(with("/subject/0/name", "../ckpt.pt"));
  EXPECT_FALSE(with("/subject/0/digest/sha256", std::string(64, 'A')));
  EXPECT_FALSE(with("/predicateType", "https://slsa.dev/provenance/v1"));
  EXPECT_FALSE(with("/predicate/provenance", "abc"));
}

}  // namespace
}  // namespace mlsc::provenance
