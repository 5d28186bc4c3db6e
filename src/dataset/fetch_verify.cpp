// Fetched content against a dataset manifest: the hash recorded for a URL is the only content
// accepted for it, whatever the server returns today.
#include "mlsc/dataset/fetch_verify.hpp"

#include <system_error>

#include "mlsc/sign/hashing.hpp"
#include "mlsc/sign/manifest.hpp"

namespace mlsc::dataset {

namespace {

std::string sha256_hex(ByteView bytes) {
  auto d = sign::hash_bytes(sign::HashType::sha256, bytes);
  return d ? d->hex() : std::string();
}

FetchVerdict refused(FetchStatus s, std::string url, std::string expected, std::string actual,
                     std::string message) {
  return {s, std::move(url), std::move(expected), std::move(actual), std::move(message)};
}

}  // namespace

std::string_view to_string(FetchStatus s) {
  switch (s) {
    case FetchStatus::ok:
      return "ok";
    case FetchStatus::changed:
      return "changed";
    case FetchStatus::missing:
      return "missing";
    case FetchStatus::not_listed:
      return "not-listed";
  }
  return "unknown";
}

std::string fetched_name(std::string_view url) { return sha256_hex(as_bytes(url)); }

FetchVerifier::FetchVerifier(const DatasetManifest& manifest) : records_(manifest.records) {
  by_url_.reserve(records_.size());
  for (std::size_t i = 0; i < records_.size(); ++i) by_url_.emplace(records_[i].url, i);
}

const DatasetRecord* FetchVerifier::find(std::string_view url) const {
  auto it = by_url_.find(std::string(url));
  return it == by_url_.end() ? nullptr : &records_[it->second];
}

FetchVerdict FetchVerifier::verify_digest(std::string_view url, std::string_view sha256_hex) const {
  const DatasetRecord* r = find(url);
  if (r == nullptr) {
    return refused(FetchStatus::not_listed, std::string(url), "", std::string(sha256_hex),
                   "the manifest has no record of this URL");
  }
  if (r->sha256 != sha256_hex) {
    return refused(FetchStatus::changed, r->url, r->sha256, std::string(sha256_hex),
                   "content differs from the recorded hash (changed since the manifest was made)");
  }
  return {FetchStatus::ok, r->url, r->sha256, std::string(sha256_hex), ""};
}

FetchVerdict FetchVerifier::verify_fetched(std::string_view url, ByteView bytes) const {
  return verify_digest(url, sha256_hex(bytes));
}

Expected<FetchReport> verify_fetch_dir(const DatasetManifest& manifest, const std::filesystem::path& fetch_dir,
                                       unsigned threads, const std::optional<std::filesystem::path>& exclude) {
  std::error_code ec;
  if (!std::filesystem::is_directory(fetch_dir, ec)) return Error{fetch_dir.string() + ": not a directory"};
  sign::HashOptions h;
  h.hash = sign::HashType::sha256;
  h.allow_empty = true;
  h.ignore_git_paths = false;
  h.signature = exclude;
  h.threads = threads;
  auto hashed = sign::hash_model(fetch_dir, h);
  if (!hashed) return hashed.error();
  std::unordered_map<std::string, std::string> present;  // file name -> sha256 hex
  for (const auto& r : hashed->resources) present.emplace(r.name, r.digest.hex());

  FetchReport report;
  std::unordered_map<std::string, bool> used;
  for (const auto& r : manifest.records) {
    const std::string name = r.path.empty() ? fetched_name(r.url) : r.path;
    auto it = present.find(name);
    if (it == present.end()) {
      report.verdicts.push_back(refused(FetchStatus::missing, r.url, r.sha256, "",
                                        "no content at " + name));
    } else {
      used[name] = true;
      FetchVerdict v{FetchStatus::ok, r.url, r.sha256, it->second, ""};
      if (it->second != r.sha256) {
        v.status = FetchStatus::changed;
        v.message = name + ": content differs from the recorded hash";
      }
      report.verdicts.push_back(std::move(v));
    }
  }
  for (const auto& r : hashed->resources) {
    if (used.contains(r.name)) continue;
    report.verdicts.push_back(refused(FetchStatus::not_listed, r.name, "", r.digest.hex(),
                                      "file is not named by any record of the manifest"));
  }
  for (const auto& v : report.verdicts) (v.ok() ? report.accepted : report.refused)++;
  return report;
}

}  // namespace mlsc::dataset
