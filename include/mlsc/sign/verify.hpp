// Verification side of model signing, below the signature layer: given the manifest a signed
// statement claims, re-hash the model the same way and say precisely what differs.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlsc/core/expected.hpp"
#include "mlsc/sign/manifest.hpp"

namespace mlsc::sign {

struct ChangedResource {
  std::string name;
  std::string expected;  // hex digests
  std::string actual;
};

// What differs between the signed manifest and the model on disk, by resource name.
struct ManifestDiff {
  std::vector<std::string> missing;        // signed, but not on disk
  std::vector<std::string> extra;          // on disk, but not signed
  std::vector<ChangedResource> changed;    // on both, different digest
  bool ok() const { return missing.empty() && extra.empty() && changed.empty(); }
};

// Compares by name; the order of either list does not matter. `allow_extra` accepts unsigned
// files on disk (the spec's --ignore-unsigned-files).
ManifestDiff compare_manifests(const Manifest& expected, const Manifest& actual, bool allow_extra = false);

struct VerifyOptions {
  std::vector<std::string> ignore_paths;  // extra paths to ignore, beyond those the statement records
  std::optional<std::filesystem::path> signature;
  bool ignore_git_paths = true;
  bool allow_extra = false;
  unsigned threads = 0;
};

// The hashing options that reproduce `expected` (its method, hash, shard size, symlink policy
// and recorded ignore paths), plus the verifier's own ignores.
HashOptions options_for(const Manifest& expected, const VerifyOptions& v);

// Hashes `model` as `expected` was hashed and compares. An Error means the model could not be
// hashed at all (unreadable, a refused symlink); a mismatch is a non-ok ManifestDiff.
Expected<ManifestDiff> verify_model(const std::filesystem::path& model, const Manifest& expected,
                                    const VerifyOptions& v);

// {"ok": bool, "missing": [...], "extra": [...], "changed": [{"name", "expected", "actual"}]}
nlohmann::json to_json(const ManifestDiff& d);

}  // namespace mlsc::sign
