// The split-view poisoning defence: content fetched for a URL-sourced dataset is accepted only
// when its SHA-256 equals the hash the manifest recorded for that URL. A downloader calls
// FetchVerifier::verify_fetched per item; `mlsc dataset fetch-verify` checks a directory an
// external downloader filled, naming files by fetched_name(url) or the record's path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"
#include "mlsc/dataset/manifest.hpp"

namespace mlsc::dataset {

// The default file name of a URL's content in a fetch directory: lowercase hex SHA-256 of the
// URL's bytes exactly as recorded (no normalisation, so two spellings are two items).
std::string fetched_name(std::string_view url);

enum class FetchStatus : std::uint8_t {
  ok,
  changed,     // content hash differs from the recorded one
  missing,     // nothing was fetched for a recorded URL
  not_listed,  // content for a URL (or a file) the manifest does not record
};
std::string_view to_string(FetchStatus s);  // "ok", "changed", "missing", "not-listed"

struct FetchVerdict {
  FetchStatus status = FetchStatus::ok;
  std::string url;       // or the unlisted file's name
  std::string expected;  // recorded sha256 hex (empty when not listed)
  std::string actual;    // sha256 hex of what was fetched (empty when missing)
  std::string message;
  bool ok() const { return status == FetchStatus::ok; }
};

class FetchVerifier {
 public:
  explicit FetchVerifier(const DatasetManifest& manifest);

  // Accepts `bytes` as the content of `url` only when its SHA-256 is the recorded one.
  FetchVerdict verify_fetched(std::string_view url, ByteView bytes) const;
  // The same for content already hashed (e.g. streamed to disk).
  FetchVerdict verify_digest(std::string_view url, std::string_view sha256_hex) const;

  const DatasetRecord* find(std::string_view url) const;

 private:
  std::vector<DatasetRecord> records_;
  std::unordered_map<std::string, std::size_t> by_url_;
};

struct FetchReport {
  std::vector<FetchVerdict> verdicts;  // every record, then every unlisted file
  std::size_t accepted = 0;
  std::size_t refused = 0;
  bool ok() const { return refused == 0; }
};

// Checks every record of `manifest` against the file that names it in `fetch_dir` (hashed on
// all cores), and refuses every regular file there that no record names. `exclude` (the
// manifest itself, when it lies in the directory) is left out. Symbolic links are refused.
Expected<FetchReport> verify_fetch_dir(const DatasetManifest& manifest,
                                       const std::filesystem::path& fetch_dir, unsigned threads = 0,
                                       const std::optional<std::filesystem::path>& exclude = {});

}  // namespace mlsc::dataset
