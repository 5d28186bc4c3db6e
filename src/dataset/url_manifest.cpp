// A manifest of a URL list: one record per URL with the hash its content must have.
#include <ctime>
#include <unordered_map>

#include "mlsc/dataset/fetch_verify.hpp"
#include "mlsc/dataset/url_list.hpp"
#include "mlsc/sign/manifest.hpp"

namespace mlsc::dataset {

namespace {

struct Fetched {
  std::string sha256;
  std::uint64_t size = 0;
};

using FetchedFiles = std::unordered_map<std::string, Fetched>;

Expected<void> hash_fetch_dir(const fs::path& dir, unsigned threads, FetchedFiles& out) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error{dir.string() + ": not a directory"};
  sign::HashOptions h;
  h.allow_empty = true;
  h.ignore_git_paths = false;
  h.threads = threads;
  auto hashed = sign::hash_model(dir, h);
  if (!hashed) return hashed.error();
  std::unordered_map<std::string, std::uint64_t> sizes;
  for (const auto& f : hashed->files) sizes[f.name] = f.stamp.size;
  for (const auto& r : hashed->resources) out[r.name] = {r.digest.hex(), sizes[r.name]};
  return {};
}

std::string now_rfc3339() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  return std::string(buf, std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm));
}

// The record of one row: from the fetched content when there is some, else from the list.
std::optional<DatasetRecord> record_of(const UrlEntry& e, const FetchedFiles* fetched,
                                       DatasetManifest& m) {
  DatasetRecord r{e.url, e.sha256, std::nullopt, e.path};
  if (fetched) {
    auto it = fetched->find(e.path.empty() ? fetched_name(e.url) : e.path);
    if (it != fetched->end()) {
      if (!e.sha256.empty() && e.sha256 != it->second.sha256) {
        m.errors.push_back(e.url + ": the list says sha256 " + e.sha256 + ", the fetched content has " +
                           it->second.sha256);
      }
      r.sha256 = it->second.sha256;
      r.size = it->second.size;
    }
  }
  if (r.sha256.empty()) return std::nullopt;
  return r;
}

}  // namespace

Expected<DatasetManifest> build_url_manifest(const UrlList& list, const UrlManifestOptions& options) {
  DatasetManifest m;
  m.name = options.name;
  m.source = options.source;
  m.created_on = options.created_on.empty() ? now_rfc3339() : options.created_on;
  FetchedFiles fetched_files;
  const FetchedFiles* fetched = nullptr;
  if (options.fetch_dir) {
    auto h = hash_fetch_dir(*options.fetch_dir, options.threads, fetched_files);
    if (!h) return h.error();
    fetched = &fetched_files;
  } else if (!list.has_hash_column) {
    return Error{"the list has no hash column; name it (--hash-column) or give --fetch-dir to hash downloaded content"};
  }
  std::unordered_map<std::string, std::size_t> seen;  // url -> index in m.records
  std::size_t without_hash = 0;
  std::optional<std::uint64_t> first_without;
  for (const auto& e : list.entries) {
    auto r = record_of(e, fetched, m);
    if (!r) {
      if (!first_without) first_without = e.offset;
      ++without_hash;
      continue;
    }
    auto [it, inserted] = seen.emplace(r->url, m.records.size());
    if (inserted) {
      m.records.push_back(std::move(*r));
    } else if (m.records[it->second].sha256 != r->sha256) {
      return Error::at(e.offset, e.url + ": listed twice with different hashes");
    }
  }
  if (without_hash > 0 && !fetched) {
    return Error::at(*first_without, std::to_string(without_hash) + " rows have no sha256 value");
  }
  if (without_hash > 0) {
    m.warnings.push_back(std::to_string(without_hash) +
                         " URLs have neither a list hash nor downloaded content and were left out");
  }
  if (m.records.empty()) return Error{"the list yields no record"};
  auto ok = finalize(m);
  if (!ok) return ok.error();
  return m;
}

}  // namespace mlsc::dataset
