// Benchmark for `mlsc deps` (bench/deps_bench.sh drives it; see bench/README.md):
//   1. load the OSV database, against two floors: reading its bytes, and yaml-cpp parsing them
//      (what the loader cannot go below with this parser);
//   2. audit a 1,000-package inventory (the 1,000 most downloaded names, a known-vulnerable
//      version for every other package the database knows, else a version past every fix);
//   3. typosquat-check 10,000 names (half real popular names, half perturbations of them) with
//      the index, and a sample with the linear scan (same classifier) for the ratio.
// Writes the generated inventory to OUT_DIR/requirements.txt so the script can time the CLI on
// the same input. Wall and CPU time are both printed: shared machines make wall time noisy.
#include <sys/resource.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "mlsc/vuln/audit.hpp"
#include "mlsc/vuln/osv_db.hpp"
#include "mlsc/vuln/package_name.hpp"
#include "mlsc/vuln/typosquat.hpp"

namespace {

namespace fs = std::filesystem;
using namespace mlsc::vuln;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Timing {
  double wall = 0;
  double cpu = 0;
};

template <class F>
Timing timed(F&& f) {
  const auto w0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  f();
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count(),
          cpu_seconds() - c0};
}

// The fastest of `runs` (wall), with its CPU time.
template <class F>
Timing best_of(int runs, F&& f) {
  Timing best{1e300, 0};
  for (int i = 0; i < runs; ++i) {
    const Timing t = timed(f);
    if (t.wall < best.wall) best = t;
  }
  return best;
}

std::vector<std::string> record_files(const std::string& root) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const auto ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".yaml" || ext == ".json" || ext == ".yml")) {
      files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> read_all(const std::vector<std::string>& files) {
  std::vector<std::string> out;
  out.reserve(files.size());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    out.push_back(s.str());
  }
  return out;
}

// A known-affected version (a release candidate of the package's lowest fixed version, which
// lies inside the range that fix closes), or a version past every fixed event.
std::string pick_version(const OsvDatabase& db, const std::string& name, bool vulnerable) {
  const OsvEvent* lowest = nullptr;
  const OsvEvent* newest = nullptr;
  for (const auto& r : db.records()) {
    for (const auto& a : r.affected) {
      if (a.normalized_name != name) continue;
      for (const auto& range : a.ranges) {
        for (const auto& e : range.events) {
          if (e.kind != OsvEvent::Kind::fixed || e.version.is_legacy()) continue;
          if (lowest == nullptr || e.version < lowest->version) lowest = &e;
          if (newest == nullptr || newest->version < e.version) newest = &e;
        }
      }
    }
  }
  if (lowest == nullptr) return "1.0.0";
  if (vulnerable) return lowest->version.base_version().str() + "rc0";
  return newest->version.base_version().str() + ".post99";
}

std::string perturb(const std::string& name, std::mt19937& rng) {
  static const std::string kLetters = "abcdefghijklmnopqrstuvwxyz";
  std::string m = name;
  const std::size_t i = rng() % m.size();
  switch (rng() % 7) {
    case 0:  // transposition
      if (i + 1 < m.size()) std::swap(m[i], m[i + 1]);
      break;
    case 1:  // dropped
      if (m.size() > 1) m.erase(i, 1);
      break;
    case 2:  // doubled
      m.insert(i, 1, m[i]);
      break;
    case 3:  // substitution
      m[i] = kLetters[rng() % kLetters.size()];
      break;
    case 4:  // separator
      m.erase(std::remove(m.begin(), m.end(), '-'), m.end());
      if (m == name) m.insert(m.size() / 2, "-");
      break;
    case 5:  // affix
      m = (rng() % 2 ? "python-" : "py") + m;
      break;
    default:  // confusable
      for (auto& c : m) {
        if (c == 'l') {
          c = '1';
          break;
        }
        if (c == 'o') {
          c = '0';
          break;
        }
      }
      if (m == name) m += "s";
      break;
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: mlsc_deps_bench OSV_DB TOP_TSV OUT_DIR\n");
    return 2;
  }
  const std::string db_path = argv[1];
  const std::string top_path = argv[2];
  const std::string out_dir = argv[3];
  fs::create_directories(out_dir);
  constexpr int kRuns = 3;

  // 1. Database load and its floors.
  const auto files = record_files(db_path);
  std::vector<std::string> texts;
  const Timing read = best_of(kRuns, [&] { texts = read_all(files); });
  std::uint64_t bytes = 0;
  for (const auto& t : texts) bytes += t.size();
  const Timing yaml_only = best_of(kRuns, [&] {
    for (const auto& t : texts) {
      const YAML::Node n = YAML::Load(t);
      if (!n.IsMap()) std::abort();
    }
  });
  std::optional<OsvDatabase> db;
  const Timing load = best_of(kRuns, [&] {
    auto loaded = OsvDatabase::load(db_path);
    if (!loaded) std::abort();
    db = std::move(*loaded);
  });
  OsvLoadOptions one_core;
  one_core.jobs = 1;
  const Timing load1 = best_of(kRuns, [&] {
    auto loaded = OsvDatabase::load(db_path, one_core);
    if (!loaded) std::abort();
  });
  std::printf("database: %zu files, %.1f MB, %zu records kept\n", files.size(),
              static_cast<double>(bytes) / 1e6, db->size());
  std::printf("  read bytes only            wall %7.3f s  cpu %7.3f s\n", read.wall, read.cpu);
  std::printf("  yaml-cpp parse only (1 core) wall %5.3f s  cpu %7.3f s\n", yaml_only.wall,
              yaml_only.cpu);
  std::printf("  mlsc load, all cores       wall %7.3f s  cpu %7.3f s\n", load.wall, load.cpu);
  std::printf("  mlsc load, 1 core          wall %7.3f s  cpu %7.3f s\n", load1.wall, load1.cpu);
  std::printf("  ratio mlsc load (1 core) / yaml-cpp parse: %.2f\n", load1.wall / yaml_only.wall);

  // 2. A 1,000-package inventory.
  auto top = TyposquatIndex::load_tsv(top_path);
  if (!top) {
    std::fprintf(stderr, "%s\n", top.error().describe().c_str());
    return 2;
  }
  std::vector<std::pair<std::uint32_t, std::string>> ranked;
  {
    std::ifstream in(top_path);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      const auto tab = line.find('\t');
      ranked.emplace_back(static_cast<std::uint32_t>(std::stoul(line.substr(0, tab))),
                          line.substr(tab + 1));
    }
  }
  std::sort(ranked.begin(), ranked.end());
  Inventory inv;
  inv.path = out_dir + "/requirements.txt";
  inv.kind = "requirements";
  std::string requirements;
  std::size_t known = 0;
  for (std::size_t i = 0; i < 1000 && i < ranked.size(); ++i) {
    const std::string name = normalize_name(ranked[i].second);
    const bool in_db = db->knows(name);
    const std::string version = pick_version(*db, name, in_db && (known++ % 2 == 0));
    inv.packages.push_back({name,
                            version,
                            "pkg:pypi/" + name + "@" + version,
                            inv.path + ":" + std::to_string(i + 1),
                            "",
                            {}});
    requirements += name + "==" + version + "\n";
  }
  std::ofstream(inv.path) << requirements;
  AuditResult result;
  const Timing match = best_of(10, [&] { result = audit(inv, *db, nullptr); });
  const Timing with_typos = best_of(10, [&] { result = audit(inv, *db, &*top); });
  std::printf("audit: %zu packages (%zu known to the database), %zu advisories in %zu packages\n",
              inv.packages.size(), known, result.vulnerability_count(),
              result.vulnerable_packages());
  std::printf("  match only                 wall %7.3f ms  = %6.2f us/package (cpu %.3f ms)\n",
              match.wall * 1e3, match.wall * 1e6 / 1000, match.cpu * 1e3);
  std::printf("  match + typosquat          wall %7.3f ms  = %6.2f us/package\n",
              with_typos.wall * 1e3, with_typos.wall * 1e6 / 1000);

  // 3. 10,000 names: 5,000 real (spread over the ranks), 5,000 perturbed.
  std::mt19937 rng(2024);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < 5000; ++i) names.push_back(ranked[(i * 3) % ranked.size()].second);
  for (std::size_t i = 0; i < 5000; ++i) {
    names.push_back(perturb(normalize_name(ranked[rng() % 5000].second), rng));
  }
  std::size_t flagged = 0;
  const Timing build = best_of(kRuns, [&] {
    auto again = TyposquatIndex::load_tsv(top_path);
    if (!again) std::abort();
  });
  const Timing indexed = best_of(kRuns, [&] {
    flagged = 0;
    for (const auto& n : names) flagged += top->check(n).empty() ? 0 : 1;
  });
  const std::size_t sample = 200;
  std::size_t disagreements = 0;
  const Timing linear = best_of(1, [&] {
    for (std::size_t i = 0; i < sample; ++i) {
      const auto& n = names[i * (names.size() / sample)];
      disagreements += top->check_linear(n).size() != top->check(n).size() ? 1 : 0;
    }
  });
  const double per_indexed = indexed.wall / static_cast<double>(names.size());
  const double per_linear = linear.wall / static_cast<double>(sample);
  std::printf("typosquat: %zu popular names, %zu index keys; %zu names checked, %zu flagged\n",
              top->size(), top->key_count(), names.size(), flagged);
  std::printf("  load list + build index    wall %7.3f ms  (cpu %.3f ms)\n", build.wall * 1e3,
              build.cpu * 1e3);
  std::printf("  indexed check              wall %7.3f ms  = %6.2f us/name (cpu %.3f ms)\n",
              indexed.wall * 1e3, per_indexed * 1e6, indexed.cpu * 1e3);
  std::printf("  linear scan (%zu names)    wall %7.3f ms  = %6.2f us/name\n", sample,
              linear.wall * 1e3, per_linear * 1e6);
  std::printf("  ratio linear / indexed: %.0fx (disagreements: %zu)\n", per_linear / per_indexed,
              disagreements);
  std::ofstream(out_dir + "/names.txt") << [&] {
    std::string s;
    for (const auto& n : names) s += n + "\n";
    return s;
  }();
  return disagreements == 0 ? 0 : 1;
}
