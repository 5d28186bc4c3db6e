// Croissant (MLCommons) dataset metadata: the `distribution` FileObject entries with their
// `contentUrl`, `sha256` and `md5`. mlsc cross-checks those hashes against a dataset manifest
// and can fill in `sha256` from it; everything else in the document is left as it was.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlsc/core/expected.hpp"
#include "mlsc/dataset/manifest.hpp"

namespace mlsc::dataset {

inline constexpr std::size_t kMaxCroissantBytes = 64ULL << 20U;
inline constexpr std::size_t kMaxCroissantDepth = 64;
// File names looked for at the dataset root, in this order.
inline constexpr std::string_view kCroissantNames[] = {"croissant.json", "metadata.json"};

struct CroissantFile {
  std::string pointer;    // JSON pointer of the FileObject, e.g. "/distribution/3"
  std::string id;         // @id, may be empty
  std::string name;
  std::string content_url;
  std::string sha256;  // lowercase hex or empty
  std::string md5;     // lowercase hex or empty
  bool contained = false;  // has containedIn: contentUrl is inside an archive, not on disk
};

struct CroissantDoc {
  nlohmann::ordered_json document;
  std::vector<CroissantFile> files;
};

// True when the document declares the Croissant vocabulary (a @context value or conformsTo
// naming http://mlcommons.org/croissant/).
bool is_croissant(const nlohmann::json& doc);

// Parses the text (size and nesting bounded first). Not Croissant, or a malformed distribution,
// is an error; a FileObject with a hash that is not hex is an error naming it.
Expected<CroissantDoc> parse_croissant(std::string_view text);

// The Croissant file at the root of `dir` (croissant.json, then metadata.json) when one exists
// and declares the Croissant vocabulary.
std::optional<std::filesystem::path> find_croissant(const std::filesystem::path& dir);

// The manifest entry a FileObject describes: a relative contentUrl is a path under the root;
// an absolute URL matches a URL record, else a file named by the FileObject's name.
struct CroissantMatch {
  const CroissantFile* file = nullptr;
  const DatasetFile* local = nullptr;
  const DatasetRecord* record = nullptr;
};
std::vector<CroissantMatch> match_files(const CroissantDoc& doc, const DatasetManifest& m);

// Every sha256 (and, for local files, md5 computed here) that disagrees with the manifest, one
// message each. `root` is the dataset directory (md5 is computed from the files on demand).
std::vector<std::string> check_croissant(const CroissantDoc& doc, const DatasetManifest& m,
                                         const std::filesystem::path& root);

struct CroissantUpdate {
  nlohmann::ordered_json document;
  std::size_t filled = 0;   // sha256 added where there was none
  std::size_t updated = 0;  // sha256 replaced
  std::vector<std::string> unmatched;  // FileObjects with no manifest entry
};
// Sets `sha256` of every matched FileObject from the manifest, and refreshes an `md5` already
// present on a local file (computed from the file under `root`), so the two never disagree.
Expected<CroissantUpdate> update_croissant(const CroissantDoc& doc, const DatasetManifest& m,
                                           const std::filesystem::path& root);

// MD5 of a file through OpenSSL, lowercase hex (Croissant's md5 field only).
Expected<std::string> md5_file(const std::filesystem::path& file);

}  // namespace mlsc::dataset
