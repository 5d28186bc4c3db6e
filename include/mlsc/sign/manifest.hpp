// The manifest of a model, as OpenSSF Model Signing (OMS) and its reference implementation
// (sigstore/model-transparency) define it: one resource per regular file (or per shard of a
// file) named by its POSIX path relative to the model root, each with a digest, in the
// reference's order. The in-toto statement (statement.hpp) is a serialisation of this.
//
// Hashing runs on all cores: across files, across shards, and for BLAKE3 across subtrees of a
// single large file; every byte is read once, through bounded per-thread buffers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "mlsc/sign/hashing.hpp"

namespace mlsc::sign {

enum class Method : std::uint8_t { files, shards };
std::string_view to_string(Method m);  // "files", "shards"

// Spec §6.3.2 and the reference's default.
inline constexpr std::uint64_t kDefaultShardSize = 1'000'000'000;

// Paths ignored at the model root unless `ignore_git_paths` is off (spec §6.2).
inline constexpr std::string_view kGitPaths[] = {".git", ".gitattributes", ".github", ".gitignore"};

// What a file looked like when it was hashed: incremental re-signing trusts a previous digest
// only while all of these are unchanged (ctime and inode catch a file replaced or rewritten
// with its old mtime restored).
struct FileStamp {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

// Digests from a previous signature of the same model, for incremental re-signing: a file whose
// stamp still matches takes its digests (one per resource, in shard order) from here unread.
struct PriorDigests {
  HashType hash = HashType::sha256;
  Method method = Method::files;
  std::uint64_t shard_size = 0;
  struct File {
    FileStamp stamp;
    std::vector<Digest> digests;
  };
  std::unordered_map<std::string, File> files;  // by resource file name ("." for a file model)
};

// Called from hashing threads, at most every few MiB and not concurrently: bytes done, total.
using HashProgress = std::function<void(std::uint64_t done, std::uint64_t total)>;

struct HashOptions {
  HashType hash = HashType::sha256;
  Method method = Method::files;
  std::uint64_t shard_size = kDefaultShardSize;
  // Follow symbolic links (hashing the target under the link's name). Off: a link is an error.
  bool allow_symlinks = false;
  bool ignore_git_paths = true;
  // Exact paths relative to the model root (a directory excludes its subtree); an absolute path
  // counts when it lies inside the model. Entries that cannot name anything inside the model
  // (parent traversal, outside paths) are dropped, as the reference drops them.
  std::vector<std::string> ignore_paths;
  // The signature file: left out of the manifest (and recorded as ignored) when it lies inside
  // the model directory, on signing and on verifying.
  std::optional<std::filesystem::path> signature;
  // Spec §6.1 rejects a model with no regular file; the reference's own test models include
  // empty ones, so tests turn this on.
  bool allow_empty = false;
  // The reference hashes BLAKE3 per whole file even when shards are asked for (BLAKE3 is
  // parallel inside a file anyway), so a signer must do the same to stay verifiable by it.
  // Verification turns this off and follows whatever the statement says.
  bool blake3_shards_as_files = true;
  unsigned threads = 0;    // 0: all cores
  std::string model_name;  // subject name; empty: the basename of the model path
  const PriorDigests* prior = nullptr;  // incremental re-signing; never used when verifying
  HashProgress progress;
};

struct FileRecord {
  std::string name;
  FileStamp stamp;
};

struct Resource {
  std::string name;       // "d0/f00", "." for a single-file model, "d0/f00:0:1000" for a shard
  std::string algorithm;  // "sha256", or "sha256-sharded-1000" for a shard as the reference writes it
  Digest digest;
};

struct Manifest {
  std::string model_name;
  Method method = Method::files;
  HashType hash = HashType::sha256;
  std::uint64_t shard_size = 0;  // shards only
  bool allow_symlinks = false;
  std::vector<std::string> ignore_paths;  // as recorded in the predicate (sorted when we write it)
  std::vector<Resource> resources;
  // Not part of the format: what hashing saw.
  std::uint64_t bytes_hashed = 0;       // read and hashed now
  std::uint64_t bytes_reused = 0;       // taken from `prior` unread
  std::size_t files_reused = 0;
  std::vector<FileRecord> files;        // every file hashed or reused, with its stamp
  std::vector<std::string> warnings;  // e.g. a followed symlink that leaves the model

  // SHA-256 over the concatenated raw resource digests, in order (the subject digest).
  Expected<Digest> root_digest() const;
};

Expected<Manifest> hash_model(const std::filesystem::path& model, const HashOptions& options);

// "sha256-sharded-1000": the per-resource algorithm name the reference writes in shard mode.
std::string shard_algorithm(HashType hash, std::uint64_t shard_size);

struct ShardName {
  std::string_view path;
  std::uint64_t start = 0;
  std::uint64_t end = 0;
};
// Splits "path:start:end" at its last two colons (file names may contain colons).
std::optional<ShardName> parse_shard_name(std::string_view name);

// The canonical form of a model-relative POSIX path ("./a//b/" -> "a/b"); nullopt for an
// empty, absolute or parent-traversing path. "." (a single-file model) is not a relative path.
std::optional<std::string> canonical_relative_path(std::string_view path);

// The reference's resource order: by path components (so "a/b" sorts before "a.b"), then, for
// shards, by numeric start and end.
void sort_resources(std::vector<Resource>& resources, Method method);

// One "name:hexdigest\n" line per resource: the reference's manifest test format.
std::string manifest_lines(const Manifest& m);

}  // namespace mlsc::sign
