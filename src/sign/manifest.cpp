#include "mlsc/sign/manifest.hpp"

#include <algorithm>
#include <charconv>
#include <tuple>

#include "sign/hash_parallel.hpp"
#include "sign/model_walk.hpp"

namespace mlsc::sign {

namespace fs = std::filesystem;

namespace {

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string model_name_of(const fs::path& model) {
  fs::path p = model;
  if (p.filename().empty()) p = p.parent_path();  // "dir/"
  std::string name = p.filename().string();
  if (name.empty() || name == "." || name == "..") {
    std::error_code ec;
    name = fs::weakly_canonical(fs::absolute(model, ec), ec).filename().string();
  }
  return name.empty() ? "model" : name;
}

// The byte ranges of one file's resources: the whole file, or each shard of a non-empty file.
std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges_of(std::uint64_t size, Method method,
                                                                std::uint64_t shard_size) {
  if (method == Method::files) return {{0, size}};
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (std::uint64_t start = 0; start < size; start += std::min(shard_size, size - start)) {
    out.emplace_back(start, start + std::min(shard_size, size - start));
  }
  return out;
}

std::string resource_name(const detail::ModelFile& f, Method method, std::uint64_t start, std::uint64_t end) {
  if (method == Method::files) return f.name;
  return f.name + ":" + std::to_string(start) + ":" + std::to_string(end);
}

// The digests a previous signature holds for `f`, when it was hashed the same way and the file
// has not changed since (incremental re-signing).
const std::vector<Digest>* reusable(const detail::ModelFile& f, const Manifest& m, const HashOptions& o,
                                    std::size_t resources) {
  const PriorDigests* prior = o.prior;
  if (prior == nullptr || prior->hash != m.hash || prior->method != m.method ||
      (m.method == Method::shards && prior->shard_size != m.shard_size)) {
    return nullptr;
  }
  const auto it = prior->files.find(f.name);
  if (it == prior->files.end() || it->second.stamp != f.stamp || it->second.digests.size() != resources) {
    return nullptr;
  }
  return &it->second.digests;
}

// Resources whose digest must still be computed, with the jobs that compute them.
struct Pending {
  std::vector<detail::HashJob> jobs;
  std::vector<std::size_t> resource;  // per job: its index in Manifest::resources
};

Pending plan_resources(const std::vector<detail::ModelFile>& files, const HashOptions& o, Manifest& m) {
  Pending p;
  const std::string algorithm =
      m.method == Method::shards ? shard_algorithm(m.hash, m.shard_size) : std::string(to_string(m.hash));
  for (const auto& f : files) {
    const auto ranges = ranges_of(f.size, m.method, m.shard_size);
    const auto* known = reusable(f, m, o, ranges.size());
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      const auto [start, end] = ranges[i];
      m.resources.push_back({resource_name(f, m.method, start, end), algorithm, known ? (*known)[i] : Digest{}});
      if (known == nullptr) {
        p.jobs.push_back({&f.path, f.size, start, end});
        p.resource.push_back(m.resources.size() - 1);
        m.bytes_hashed += end - start;
      } else {
        m.bytes_reused += end - start;
      }
    }
    m.files_reused += known != nullptr ? 1 : 0;
    m.files.push_back({f.name, f.stamp});
  }
  return p;
}

// Sort key: the path split into components, then the shard range.
struct SortKey {
  std::vector<std::string_view> parts;
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::size_t index = 0;
};

SortKey sort_key(std::string_view name, Method method, std::size_t index) {
  SortKey k;
  k.index = index;
  std::string_view path = name;
  if (method == Method::shards) {
    if (auto s = parse_shard_name(name)) {
      path = s->path;
      k.start = s->start;
      k.end = s->end;
    }
  }
  for (std::size_t pos = 0;;) {
    const std::size_t slash = path.find('/', pos);
    k.parts.push_back(path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return k;
}

}  // namespace

std::string_view to_string(Method m) { return m == Method::files ? "files" : "shards"; }

std::string shard_algorithm(HashType hash, std::uint64_t shard_size) {
  return std::string(to_string(hash)) + "-sharded-" + std::to_string(shard_size);
}

std::optional<ShardName> parse_shard_name(std::string_view name) {
  const std::size_t c2 = name.rfind(':');
  if (c2 == std::string_view::npos || c2 == 0) return std::nullopt;
  const std::size_t c1 = name.rfind(':', c2 - 1);
  if (c1 == std::string_view::npos || c1 == 0) return std::nullopt;
  const auto start = parse_u64(name.substr(c1 + 1, c2 - c1 - 1));
  const auto end = parse_u64(name.substr(c2 + 1));
  if (!start || !end || *start >= *end) return std::nullopt;
  return ShardName{name.substr(0, c1), *start, *end};
}

std::optional<std::string> canonical_relative_path(std::string_view path) {
  if (path.empty() || path.front() == '/') return std::nullopt;
  std::string out;
  for (std::size_t pos = 0; pos <= path.size();) {
    std::size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view part = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == ".." || part.find('\0') != std::string_view::npos) return std::nullopt;
    if (!out.empty()) out += '/';
    out += part;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

void sort_resources(std::vector<Resource>& resources, Method method) {
  std::vector<SortKey> keys;
  keys.reserve(resources.size());
  for (std::size_t i = 0; i < resources.size(); ++i) keys.push_back(sort_key(resources[i].name, method, i));
  std::sort(keys.begin(), keys.end(), [](const SortKey& a, const SortKey& b) {
    return std::tie(a.parts, a.start, a.end) < std::tie(b.parts, b.start, b.end);
  });
  std::vector<Resource> sorted;
  sorted.reserve(resources.size());
  for (const auto& k : keys) sorted.push_back(std::move(resources[k.index]));
  resources = std::move(sorted);
}

std::string manifest_lines(const Manifest& m) {
  std::string out;
  for (const auto& r : m.resources) out += r.name + ":" + r.digest.hex() + "\n";
  return out;
}

Expected<Digest> Manifest::root_digest() const {
  auto h = Hasher::create(HashType::sha256);
  if (!h) return h.error();
  for (const auto& r : resources) h->update(r.digest.view());
  return h->finish();
}

Expected<Manifest> hash_model(const fs::path& model, const HashOptions& options) {
  Manifest m;
  m.hash = options.hash;
  m.method = options.method;
  if (m.method == Method::shards && m.hash == HashType::blake3 && options.blake3_shards_as_files) {
    m.method = Method::files;
  }
  if (m.method == Method::shards && options.shard_size == 0) return Error{"shard size must be positive"};
  m.shard_size = m.method == Method::shards ? options.shard_size : 0;
  m.allow_symlinks = options.allow_symlinks;
  m.model_name = options.model_name.empty() ? model_name_of(model) : options.model_name;

  auto tree = detail::walk_model(model, options);
  if (!tree) return tree.error();
  if (tree->files.empty() && !options.allow_empty) {
    return Error{model.string() + ": the model has no regular file to sign (after exclusions)"};
  }
  const Pending pending = plan_resources(tree->files, options, m);
  auto digests = detail::hash_jobs(pending.jobs, m.hash, options.threads, options.progress);
  if (!digests) return digests.error();
  for (std::size_t j = 0; j < pending.jobs.size(); ++j) m.resources[pending.resource[j]].digest = (*digests)[j];
  sort_resources(m.resources, m.method);
  m.ignore_paths = std::move(tree->recorded_ignores);
  m.warnings = std::move(tree->warnings);
  return m;
}

}  // namespace mlsc::sign
