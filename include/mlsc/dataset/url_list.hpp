// URL lists of web-scale datasets (LAION / DataComp style): one row per item with its URL and,
// usually, the SHA-256 of the content the list's authors downloaded. CSV (RFC 4180 quoting) and
// JSON Lines are read; Parquet is not (docs/dataset.md says why).
//
// Lists are hostile input: sizes are bounded, every malformed row is an error naming its byte
// offset, and nothing is ever interpreted beyond the named columns.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "mlsc/dataset/manifest.hpp"

namespace mlsc::dataset {

inline constexpr std::size_t kMaxUrlBytes = 64 * 1024;
inline constexpr std::size_t kMaxFieldBytes = 1024 * 1024;
inline constexpr std::size_t kMaxColumns = 4096;
inline constexpr std::uint64_t kMaxListBytes = 16ULL << 30U;

struct UrlListOptions {
  std::string url_column = "url";
  std::string hash_column = "sha256";  // taken when present; empty: never read a hash
  std::string path_column;             // optional: where the content lies in a fetch directory
};

struct UrlEntry {
  std::string url;
  std::string sha256;  // lowercase hex, empty when the list has no hash for this row
  std::string path;    // from path_column, canonical relative path, or empty
  std::uint64_t offset = 0;  // byte offset of the row in the list
};

struct UrlList {
  std::vector<UrlEntry> entries;
  bool has_hash_column = false;
};

enum class UrlListFormat : std::uint8_t { csv, jsonl };
// By file extension: .csv, .jsonl / .ndjson; nullopt for anything else.
std::optional<UrlListFormat> url_list_format(const std::filesystem::path& file);

Expected<UrlList> parse_url_list_csv(std::string_view text, const UrlListOptions& options);
Expected<UrlList> parse_url_list_jsonl(std::string_view text, const UrlListOptions& options);
// Maps the file and parses it by extension; .parquet is refused with an explanation.
Expected<UrlList> read_url_list(const std::filesystem::path& file, const UrlListOptions& options);

// A SHA-256 written in a list: 64 hex digits, either case; returned lowercase.
std::optional<std::string> normalize_sha256_hex(std::string_view text);

struct UrlManifestOptions {
  std::string name;  // required: the subject name
  std::string source;
  std::string created_on;  // empty: now
  // Content already downloaded, named by fetched_name(url) or the row's path: its SHA-256 is
  // recorded instead of the list's (a list hash that disagrees is an error in `errors`).
  std::optional<std::filesystem::path> fetch_dir;
  unsigned threads = 0;
};

// One record per distinct URL. Without a fetch directory every row needs a hash from the list;
// with one, rows whose content was not downloaded keep the list's hash, or are left out (with a
// warning) when the list has none. A URL listed twice with different hashes is an error.
Expected<DatasetManifest> build_url_manifest(const UrlList& list, const UrlManifestOptions& options);

}  // namespace mlsc::dataset
