// mlsc_hash_bench: times the model-signing hash engine (the manifest of a directory, exactly
// what `mlsc sign` will compute) and, with --micro, single-core in-memory digest speed.
//
//   mlsc_hash_bench [--hash sha256|blake2b|blake3|all] [--shards BYTES] [--threads N]
//                   [--repeat N] DIR
//   mlsc_hash_bench --micro
//
// Prints one line per measurement:
//   "<hash> <method> <bytes> bytes <wall> s <GB/s> GB/s cpu <cpu> s <GB/cpu-s> GB/cpu-s"
// GB is 10^9 bytes, as openssl speed and the issue count them. CPU time (user + system, all
// threads) is printed too: on a shared machine wall time measures the neighbours as much as
// us, while bytes per CPU-second is what one core of ours achieves.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <sys/resource.h>

#include "mlsc/sign/blake3.hpp"
#include "mlsc/sign/hashing.hpp"
#include "mlsc/sign/manifest.hpp"

namespace {

using mlsc::sign::HashType;
using Clock = std::chrono::steady_clock;

struct Args {
  std::vector<HashType> hashes;
  mlsc::sign::HashOptions options;
  int repeat = 3;
  bool micro = false;
  std::string dir;
};

int usage() {
  std::fprintf(stderr,
               "usage: mlsc_hash_bench [--hash sha256|blake2b|blake3|all] [--shards BYTES] [--threads N] "
               "[--repeat N] DIR\n       mlsc_hash_bench --micro\n");
  return 2;
}

bool parse_hashes(std::string_view v, std::vector<HashType>& out) {
  if (v == "all") {
    out = {HashType::sha256, HashType::blake2b, HashType::blake3};
    return true;
  }
  const auto t = mlsc::sign::parse_hash_type(v);
  if (t) out.push_back(*t);
  return t.has_value();
}

bool parse_args(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--micro") {
      a.micro = true;
    } else if (arg == "--hash" && has_value) {
      if (!parse_hashes(argv[++i], a.hashes)) return false;
    } else if (arg == "--shards" && has_value) {
      a.options.method = mlsc::sign::Method::shards;
      a.options.shard_size = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--threads" && has_value) {
      a.options.threads = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    } else if (arg == "--repeat" && has_value) {
      a.repeat = std::max(1, std::atoi(argv[++i]));
    } else if (!arg.starts_with("--") && a.dir.empty()) {
      a.dir = arg;
    } else {
      return false;
    }
  }
  if (a.hashes.empty()) parse_hashes("all", a.hashes);
  return a.micro || !a.dir.empty();
}

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  const auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

struct Timing {
  double wall = 1e300;
  double cpu = 0;
};

void report(std::string_view what, std::string_view method, std::uint64_t bytes, Timing t) {
  const auto b = static_cast<double>(bytes);
  std::printf("%-16s %-6s %14llu bytes %8.3f s %7.2f GB/s  cpu %8.3f s %7.2f GB/cpu-s\n", std::string(what).c_str(),
              std::string(method).c_str(), static_cast<unsigned long long>(bytes), t.wall, b / t.wall / 1e9, t.cpu,
              b / t.cpu / 1e9);
  std::fflush(stdout);
}

// Best of `repeat` runs over the whole directory: walk, hash on all cores, sort.
int bench_dir(const Args& a) {
  for (const HashType t : a.hashes) {
    mlsc::sign::HashOptions o = a.options;
    o.hash = t;
    o.blake3_shards_as_files = false;  // measure what was asked for
    Timing best;
    std::uint64_t bytes = 0;
    for (int r = 0; r < a.repeat; ++r) {
      const auto t0 = Clock::now();
      const double c0 = cpu_seconds();
      const auto m = mlsc::sign::hash_model(a.dir, o);
      const Timing run{std::chrono::duration<double>(Clock::now() - t0).count(), cpu_seconds() - c0};
      if (!m) {
        std::fprintf(stderr, "mlsc_hash_bench: %s\n", m.error().describe().c_str());
        return 1;
      }
      bytes = m->bytes_hashed;
      if (run.wall < best.wall) best = run;
    }
    report(to_string(t), to_string(o.method), bytes, best);
  }
  return 0;
}

// Single-core digest speed over 256 MiB in memory, fed in 1 MiB pieces (the engine's window).
template <class Update>
Timing time_in_memory(const std::vector<std::uint8_t>& data, Update&& update) {
  Timing best;
  for (int r = 0; r < 3; ++r) {
    const auto t0 = Clock::now();
    const double c0 = cpu_seconds();
    for (std::size_t off = 0; off < data.size(); off += 1U << 20U) {
      update(mlsc::ByteView(data).subspan(off, std::min<std::size_t>(1U << 20U, data.size() - off)));
    }
    const Timing run{std::chrono::duration<double>(Clock::now() - t0).count(), cpu_seconds() - c0};
    if (run.wall < best.wall) best = run;
  }
  return best;
}

int bench_micro() {
  const std::vector<std::uint8_t> data(256U << 20U, 0x5a);
  for (const HashType t : {HashType::sha256, HashType::blake2b}) {
    auto h = mlsc::sign::Hasher::create(t);
    if (!h) return 1;
    report(std::string(to_string(t)) + "/1core", "memory", data.size(), time_in_memory(data, [&](auto w) { h->update(w); }));
  }
  using mlsc::sign::Blake3Backend;
  for (const auto b : {Blake3Backend::portable, Blake3Backend::sse41, Blake3Backend::avx2, Blake3Backend::avx512}) {
    if (!mlsc::sign::blake3_backend_supported(b)) continue;
    mlsc::sign::Blake3 h(b);
    report("blake3-" + std::string(to_string(b)), "memory", data.size(), time_in_memory(data, [&](auto w) { h.update(w); }));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse_args(argc, argv, a)) return usage();
  return a.micro ? bench_micro() : bench_dir(a);
}
