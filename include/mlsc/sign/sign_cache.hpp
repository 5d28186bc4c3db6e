// The incremental-signing cache: for each file of a signed model, the stamp it had when its
// digest went into the signature. Format (JSON, one object):
//
//   {"format": "mlsc-sign-cache", "version": 1,
//    "signature_sha256": "<hex SHA-256 of the model.sig bytes this cache belongs to>",
//    "hash_type": "sha256", "method": "files"|"shards", "shard_size": 0,
//    "files": [["<resource file name>", size, mtime_ns, ctime_ns, dev, ino], ...]}
//
// The digests themselves are not cached: they are read from the previous signature, whose DSSE
// signature must verify with the signing key, so a tampered signature file cannot make us sign
// digests we did not compute. A cache that belongs to another signature is ignored.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "mlsc/core/expected.hpp"
#include "mlsc/sign/keys.hpp"
#include "mlsc/sign/manifest.hpp"

namespace mlsc::sign {

inline constexpr std::string_view kSignCacheFormat = "mlsc-sign-cache";
inline constexpr std::size_t kMaxSignCacheBytes = std::size_t{256} << 20;

// Files modified this close to (or after) the start of hashing are left out of the cache: a
// second write within the same timestamp tick would leave their stamp unchanged.
inline constexpr std::int64_t kRacyWindowNs = 2'000'000'000;

// Writes the cache for the signature whose bytes are `signature_bytes`. Files whose mtime is at
// or after `hashing_started_ns - kRacyWindowNs` are left out (hashed again next time).
Expected<void> write_sign_cache(const std::filesystem::path& cache, const Manifest& signed_manifest,
                                std::string_view signature_bytes, std::int64_t hashing_started_ns);

// The digests of `previous_signature` with the stamps of `cache`, for HashOptions::prior. Fails
// (and the caller hashes everything) when either file is missing or unreadable, the cache
// belongs to another signature, or the signature does not verify with `signer`.
Expected<PriorDigests> load_prior_digests(const std::filesystem::path& previous_signature,
                                          const std::filesystem::path& cache,
                                          const PublicKey& signer);

}  // namespace mlsc::sign
