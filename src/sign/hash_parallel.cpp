// The parallel hash engine. Work is cut into units (a whole file, a shard, or for BLAKE3 a
// power-of-two subtree of a large input), sorted longest first, and pulled by one worker per
// core from a shared counter: the longest units start first and the many small files fill
// the gaps at the end (greedy longest-processing-time scheduling).
#include "sign/hash_parallel.hpp"

#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <optional>
#include <span>

#include "mlsc/sign/blake3.hpp"
#include "sign/file_reader.hpp"

namespace mlsc::sign::detail {

namespace {

// BLAKE3 inputs longer than this are hashed as subtrees of this size on several cores and
// joined afterwards. 8 MiB is 2^13 chunks: a subtree must be a power of two chunks long.
constexpr std::uint64_t kSegment = 8ULL << 20U;
constexpr std::size_t kWhole = std::numeric_limits<std::size_t>::max();

struct Unit {
  std::size_t job;
  std::uint64_t start;
  std::uint64_t end;
  std::size_t segment = kWhole;  // slot of this subtree's chaining value, or kWhole
};

struct Plan {
  std::vector<Unit> units;
  std::vector<std::size_t> first_segment;  // per job: first slot, or kWhole
  std::vector<std::size_t> segments;       // per job: number of slots
  std::size_t total_segments = 0;
};

Plan make_plan(const std::vector<HashJob>& jobs, HashType type) {
  Plan p;
  p.first_segment.assign(jobs.size(), kWhole);
  p.segments.assign(jobs.size(), 0);
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    const HashJob& job = jobs[j];
    if (type != HashType::blake3 || job.end - job.start <= kSegment) {
      p.units.push_back({j, job.start, job.end});
      continue;
    }
    p.first_segment[j] = p.total_segments;
    for (std::uint64_t off = job.start; off < job.end; off += kSegment) {
      p.units.push_back({j, off, std::min(off + kSegment, job.end), p.total_segments++});
      ++p.segments[j];
    }
  }
  std::stable_sort(p.units.begin(), p.units.end(),
                   [](const Unit& a, const Unit& b) { return a.end - a.start > b.end - b.start; });
  return p;
}

class Runner {
 public:
  Runner(const std::vector<HashJob>& jobs, HashType type, Plan plan, const HashProgress& progress)
      : jobs_(jobs), type_(type), plan_(std::move(plan)), progress_(progress), digests_(jobs.size()),
        cvs_(plan_.total_segments), errors_(plan_.units.size()) {
    for (const auto& j : jobs) total_ += j.end - j.start;
  }

  void run(unsigned threads);
  Expected<std::vector<Digest>> collect();

 private:
  void work();
  Expected<void> run_unit(const Unit& u, std::vector<std::uint8_t>& buffer);
  Expected<void> hash_subtree(const InputFile& f, const Unit& u, std::vector<std::uint8_t>& buffer);
  Expected<void> hash_whole(const InputFile& f, const Unit& u, std::vector<std::uint8_t>& buffer);
  void advance(std::uint64_t bytes);

  const std::vector<HashJob>& jobs_;
  HashType type_;
  Plan plan_;
  const HashProgress& progress_;
  std::uint64_t total_ = 0;
  std::atomic<std::uint64_t> done_{0};
  std::atomic<std::uint64_t> next_report_{kProgressStep};
  std::mutex report_;
  // Each slot is written by exactly one unit, so the workers share nothing but the counter.
  std::vector<Digest> digests_;
  std::vector<Blake3::Hash> cvs_;
  std::vector<std::optional<Error>> errors_;
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> failed_{false};
};

void Runner::run(unsigned threads) {
  const unsigned n = threads != 0 ? threads : static_cast<unsigned>(tbb::info::default_concurrency());
  tbb::task_arena arena(static_cast<int>(n));
  arena.execute([&] {
    tbb::task_group group;
    for (unsigned i = 0; i < n; ++i) group.run([this] { work(); });
    group.wait();
  });
}

void Runner::work() {
  std::vector<std::uint8_t> buffer;  // this worker's read window
  for (std::size_t i = next_++; i < plan_.units.size() && !failed_; i = next_++) {
    auto ok = run_unit(plan_.units[i], buffer);
    if (!ok) {
      errors_[i] = ok.error();
      failed_ = true;
    }
  }
}

Expected<void> Runner::run_unit(const Unit& u, std::vector<std::uint8_t>& buffer) {
  const HashJob& job = jobs_[u.job];
  auto f = InputFile::open(*job.file);
  if (!f) return f.error();
  if (f->size() != job.file_size) return Error{job.file->string() + ": file changed size while being hashed"};
  return u.segment == kWhole ? hash_whole(*f, u, buffer) : hash_subtree(*f, u, buffer);
}

Expected<void> Runner::hash_whole(const InputFile& f, const Unit& u, std::vector<std::uint8_t>& buffer) {
  auto h = Hasher::create(type_);
  if (!h) return h.error();
  auto ok = f.read_range(u.start, u.end, buffer, [&](ByteView w) {
    h->update(w);
    advance(w.size());
  });
  if (!ok) return ok;
  digests_[u.job] = h->finish();
  return {};
}

Expected<void> Runner::hash_subtree(const InputFile& f, const Unit& u, std::vector<std::uint8_t>& buffer) {
  // Chunk indices count from the start of this input (the file, or the shard).
  Blake3 h = Blake3::subtree((u.start - jobs_[u.job].start) / Blake3::kChunkLen);
  auto ok = f.read_range(u.start, u.end, buffer, [&](ByteView w) {
    h.update(w);
    advance(w.size());
  });
  if (!ok) return ok;
  cvs_[u.segment] = h.subtree_cv();
  return {};
}

// Reports progress when a step boundary is crossed; a thread that finds another one reporting
// skips its turn rather than wait.
void Runner::advance(std::uint64_t bytes) {
  if (!progress_) return;
  const std::uint64_t done = done_ += bytes;
  if (done < next_report_.load(std::memory_order_relaxed)) return;
  std::unique_lock lock(report_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  next_report_ = done + kProgressStep;
  progress_(done, total_);
}

Expected<std::vector<Digest>> Runner::collect() {
  for (auto& e : errors_) {
    if (e) return *e;
  }
  for (std::size_t j = 0; j < jobs_.size(); ++j) {
    if (plan_.first_segment[j] == kWhole) continue;
    const std::span<const Blake3::Hash> parts(cvs_.data() + plan_.first_segment[j], plan_.segments[j]);
    digests_[j] = Digest::of(Blake3::root_from_subtrees(parts));
  }
  return std::move(digests_);
}

}  // namespace

Expected<std::vector<Digest>> hash_jobs(const std::vector<HashJob>& jobs, HashType type, unsigned threads,
                                        const HashProgress& progress) {
  Runner r(jobs, type, make_plan(jobs, type), progress);
  r.run(threads);
  return r.collect();
}

}  // namespace mlsc::sign::detail
