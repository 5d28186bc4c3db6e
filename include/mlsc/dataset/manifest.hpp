// Dataset manifests: every file of a dataset directory (or every record of a URL list) with its
// SHA-256, and one digest for the whole dataset, the RFC 6962 Merkle root over the sorted leaves
// `<path or url> NUL <sha256 hex>`. Serialised as an in-toto Statement v1 with predicate type
// https://mlsc.dev/dataset-manifest/v1 and signed in the same bundle format as models
// (docs/dataset.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlsc/core/expected.hpp"
#include "mlsc/sign/manifest.hpp"

namespace mlsc::dataset {

namespace fs = std::filesystem;

inline constexpr std::string_view kPredicateType = "https://mlsc.dev/dataset-manifest/v1";

// One file of a dataset directory.
struct DatasetFile {
  std::string path;  // POSIX path relative to the dataset root
  std::uint64_t size = 0;
  std::string sha256;  // lowercase hex
  friend bool operator==(const DatasetFile&, const DatasetFile&) = default;
};

// One URL-sourced item: the content a downloader must get from `url`.
struct DatasetRecord {
  std::string url;
  std::string sha256;                 // lowercase hex of the expected content
  std::optional<std::uint64_t> size;  // when the content was hashed here
  // Where a downloader stores the content, relative to the fetch directory; empty means the
  // default name, fetched_name(url) (lowercase hex SHA-256 of the URL bytes).
  std::string path;
  friend bool operator==(const DatasetRecord&, const DatasetRecord&) = default;
};

struct DatasetManifest {
  std::string name;
  std::string source;      // free text or URI: where the data came from
  std::string croissant;   // path (relative to the root) of the Croissant metadata read, if any
  std::string created_on;  // RFC 3339 UTC
  std::vector<std::string> ignore_paths;  // left out when the directory was hashed
  std::vector<DatasetFile> files;         // sorted by path bytewise
  std::vector<DatasetRecord> records;     // sorted by url bytewise
  std::string merkle_root;                // lowercase hex: the dataset's digest
  // Not serialised: what building the manifest noticed.
  std::vector<std::string> warnings;
  std::vector<std::string> errors;  // e.g. Croissant hashes that disagree with the files
  std::uint64_t bytes_hashed = 0;
};

struct ManifestOptions {
  std::string name;  // subject name; empty: the directory's base name
  std::string source;
  std::vector<std::string> ignore_paths;  // relative to the root; a directory drops its subtree
  // A file to leave out when it lies inside the directory (the manifest being written).
  std::optional<fs::path> exclude;
  bool allow_symlinks = false;
  bool read_croissant = true;  // cross-check croissant.json / metadata.json when present
  unsigned threads = 0;        // 0: all cores
  sign::HashProgress progress;
  std::string created_on;  // empty: now
};

// The Merkle root of a manifest's leaves (files and records together, sorted bytewise by their
// path or url): lowercase hex. An empty manifest has the root of the empty tree.
std::string merkle_root(const std::vector<DatasetFile>& files,
                        const std::vector<DatasetRecord>& records);
// The leaf bytes for one entry: key, a NUL byte, the hex digest.
std::string leaf_entry(std::string_view key, std::string_view sha256_hex);

// Hashes every regular file below `dir` on all cores (the signing module's engine) and reads
// Croissant metadata when present. Refuses an empty dataset, non-UTF-8 names, and symbolic
// links unless allowed.
Expected<DatasetManifest> build_manifest(const fs::path& dir, const ManifestOptions& options);

// Sorts files and records, checks for duplicate keys and that every text is UTF-8 (the
// statement is JSON), and sets merkle_root.
Expected<void> finalize(DatasetManifest& m);

nlohmann::ordered_json to_statement(const DatasetManifest& m);
// Parses and checks a statement: predicate type, well-formed entries, no duplicates, and the
// subject digest equal to the Merkle root recomputed from the entries.
Expected<DatasetManifest> manifest_from_statement(const nlohmann::json& statement);

struct Change {
  std::string key;  // path or url
  std::string old_sha256;
  std::string new_sha256;
  std::optional<std::uint64_t> old_size;
  std::optional<std::uint64_t> new_size;
};

// From a to b: `added` is in b only, `removed` in a only, `changed` in both with other content.
// Keys are file paths and record urls (URLs are never relative paths, so the two cannot clash).
struct DatasetDiff {
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<Change> changed;
  bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};

DatasetDiff diff_manifests(const DatasetManifest& a, const DatasetManifest& b);

// Re-hashes `dir` (leaving out the paths the manifest ignored) and compares it with `m`:
// added = files not in the manifest, removed = files missing, changed = different content.
Expected<DatasetDiff> verify_directory(const fs::path& dir, const DatasetManifest& m);
Expected<DatasetDiff> verify_directory(const fs::path& dir, const DatasetManifest& m,
                                       const ManifestOptions& options);

}  // namespace mlsc::dataset
