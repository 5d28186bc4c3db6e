// RFC 6962 / RFC 9162 Merkle trees over SHA-256: leaf and node hashing, the tree head (MTH),
// and inclusion and consistency proofs, both producing them (from the leaf hashes) and checking
// them (from the proof alone). Used to verify Rekor entries and by mlsc's own transparency log.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"

namespace mlsc::merkle {

using Hash = std::array<std::uint8_t, 32>;

// Proofs of a tree of at most 2^64 leaves never hold more hashes than this; longer ones are
// refused before any hashing, which bounds the work an untrusted proof can cause.
inline constexpr std::size_t kMaxProofHashes = 64;

Hash leaf_hash(ByteView entry);                       // SHA-256(0x00 || entry)
Hash node_hash(const Hash& left, const Hash& right);  // SHA-256(0x01 || left || right)
Hash empty_root();                                    // SHA-256 of nothing, MTH({})

// MTH over leaves already hashed with leaf_hash.
Hash root(std::span<const Hash> leaf_hashes);

// RFC 9162 §2.1.3.1: the audit path of leaf `index` (index < leaf_hashes.size()), bottom first.
std::vector<Hash> inclusion_proof(std::span<const Hash> leaf_hashes, std::uint64_t index);

// RFC 9162 §2.1.4.1: the proof that the first `old_size` leaves are a prefix of the whole tree
// (0 < old_size <= leaf_hashes.size(); empty when they are equal).
std::vector<Hash> consistency_proof(std::span<const Hash> leaf_hashes, std::uint64_t old_size);

// RFC 9162 §2.1.3.2: the root that `proof` leads to from `leaf` at `index` of a tree of
// `tree_size` leaves, or an Error when the proof does not have the shape such a proof must have.
Expected<Hash> root_from_inclusion_proof(std::uint64_t index, std::uint64_t tree_size,
                                         const Hash& leaf, std::span<const Hash> proof);

// Succeeds only when `proof` proves `leaf` is at `index` in the tree with head `root`.
Expected<void> verify_inclusion(std::uint64_t index, std::uint64_t tree_size, const Hash& leaf,
                                std::span<const Hash> proof, const Hash& root);

// RFC 9162 §2.1.4.2: succeeds only when `proof` proves that the tree of `old_size` leaves with
// head `old_root` is a prefix of the tree of `new_size` leaves with head `new_root`. Equal sizes
// need an empty proof and equal roots; an empty old tree is a prefix of anything (empty proof).
Expected<void> verify_consistency(std::uint64_t old_size, std::uint64_t new_size,
                                  const Hash& old_root, const Hash& new_root,
                                  std::span<const Hash> proof);

}  // namespace mlsc::merkle
