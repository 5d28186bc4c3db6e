// The library's proofs and verifiers are checked against a reference written directly from the
// recursive definitions of RFC 6962 §2.1 (MTH, PATH, SUBPROOF), over every tree of 1..64 leaves.
#include "mlsc/core/merkle.hpp"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <string>
#include <vector>

namespace mlsc::merkle {
namespace {

Hash sha256(const std::vector<std::uint8_t>& bytes) {
  Hash h{};
  SHA256(bytes.data(), bytes.size(), h.data());
  return h;
}

// ---- Reference, RFC 6962 §2.1 verbatim (recursive, over the raw entries). ----

using Entries = std::vector<std::vector<std::uint8_t>>;

std::size_t ref_k(std::size_t n) {  // largest power of two smaller than n
  std::size_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Entries slice(const Entries& d, std::size_t from, std::size_t to) {
  return Entries(d.begin() + static_cast<std::ptrdiff_t>(from),
                 d.begin() + static_cast<std::ptrdiff_t>(to));
}

Hash ref_mth(const Entries& d) {
  if (d.empty()) return sha256({});
  if (d.size() == 1) {
    std::vector<std::uint8_t> buf{0x00};
    buf.insert(buf.end(), d[0].begin(), d[0].end());
    return sha256(buf);
  }
  const std::size_t k = ref_k(d.size());
  const Hash l = ref_mth(slice(d, 0, k)), r = ref_mth(slice(d, k, d.size()));
  std::vector<std::uint8_t> buf{0x01};
  buf.insert(buf.end(), l.begin(), l.end());
  buf.insert(buf.end(), r.begin(), r.end());
  return sha256(buf);
}

std::vector<Hash> ref_path(std::size_t m, const Entries& d) {
  if (d.size() <= 1) return {};
  const std::size_t k = ref_k(d.size());
  std::vector<Hash> out;
  if (m < k) {
    out = ref_path(m, slice(d, 0, k));
    out.push_back(ref_mth(slice(d, k, d.size())));
  } else {
    out = ref_path(m - k, slice(d, k, d.size()));
    out.push_back(ref_mth(slice(d, 0, k)));
  }
  return out;
}

std::vector<Hash> ref_subproof(std::size_t m, const Entries& d, bool b) {
  const std::size_t n = d.size();
  if (m == n) return b ? std::vector<Hash>{} : std::vector<Hash>{ref_mth(d)};
  const std::size_t k = ref_k(n);
  std::vector<Hash> out;
  if (m <= k) {
    out = ref_subproof(m, slice(d, 0, k), b);
    out.push_back(ref_mth(slice(d, k, n)));
  } else {
    out = ref_subproof(m - k, slice(d, k, n), false);
    out.push_back(ref_mth(slice(d, 0, k)));
  }
  return out;
}

std::vector<Hash> ref_proof(std::size_t m, const Entries& d) {
  return ref_subproof(m, d, true);
}

// ---- Fixtures ----

Entries make_entries(std::size_t n) {
  Entries d;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string text = "entry " + std::to_string(i);
    d.emplace_back(text.begin(), text.end());
  }
  return d;
}

std::vector<Hash> leaf_hashes(const Entries& d) {
  std::vector<Hash> out;
  for (const auto& e : d) out.push_back(leaf_hash(e));
  return out;
}

Hash flip(Hash h, std::size_t bit = 0) {
  h[bit / 8 % h.size()] ^= static_cast<std::uint8_t>(1u << (bit % 8));
  return h;
}

constexpr std::size_t kMaxLeaves = 64;

// ---- Known answers ----

TEST(Merkle, EmptyTreeIsHashOfNothing) {
  // SHA-256("") per RFC 6962 §2.1.
  const Hash expected = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
                         0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
                         0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
  EXPECT_EQ(empty_root(), expected);
  EXPECT_EQ(root({}), expected);
}

TEST(Merkle, LeafAndNodeUseDomainSeparation) {
  // leaf_hash("") = SHA-256(0x00), a well-known constant (6e340b9c...).
  EXPECT_EQ(leaf_hash({})[0], 0x6e);
  EXPECT_EQ(leaf_hash({})[1], 0x34);
  const Hash a = leaf_hash(as_bytes("a")), b = leaf_hash(as_bytes("b"));
  EXPECT_NE(node_hash(a, b), node_hash(b, a));
  std::vector<std::uint8_t> concat(a.begin(), a.end());
  concat.insert(concat.end(), b.begin(), b.end());
  EXPECT_NE(node_hash(a, b), leaf_hash(concat));  // a leaf can never pose as a node
}

// ---- Agreement with the reference over all sizes and indexes ----

TEST(Merkle, RootMatchesReferenceForAllSizes) {
  for (std::size_t n = 0; n <= kMaxLeaves; ++n) {
    const Entries d = make_entries(n);
    EXPECT_EQ(root(leaf_hashes(d)), ref_mth(d)) << "n=" << n;
  }
}

TEST(Merkle, InclusionProofsMatchReferenceAndVerify) {
  for (std::size_t n = 1; n <= kMaxLeaves; ++n) {
    const Entries d = make_entries(n);
    const auto leaves = leaf_hashes(d);
    const Hash head = ref_mth(d);
    for (std::size_t m = 0; m < n; ++m) {
      const auto proof = inclusion_proof(leaves, m);
      ASSERT_EQ(proof, ref_path(m, d)) << "n=" << n << " m=" << m;
      auto ok = verify_inclusion(m, n, leaves[m], proof, head);
      EXPECT_TRUE(ok) << "n=" << n << " m=" << m << ": " << (ok ? "" : ok.error().message);
    }
  }
}

TEST(Merkle, ConsistencyProofsMatchReferenceAndVerify) {
  for (std::size_t n = 1; n <= kMaxLeaves; ++n) {
    const Entries d = make_entries(n);
    const auto leaves = leaf_hashes(d);
    const Hash new_head = ref_mth(d);
    for (std::size_t m = 1; m <= n; ++m) {
      const auto proof = consistency_proof(leaves, m);
      ASSERT_EQ(proof, m == n ? std::vector<Hash>{} : ref_proof(m, d)) << "n=" << n << " m=" << m;
      const Hash old_head = ref_mth(slice(d, 0, m));
      auto ok = verify_consistency(m, n, old_head, new_head, proof);
      EXPECT_TRUE(ok) << "n=" << n << " m=" << m << ": " << (ok ? "" : ok.error().message);
    }
  }
}

// ---- Wrong proofs are refused ----

TEST(Merkle, InclusionRejectsEveryTamperedProof) {
  for (std::size_t n = 1; n <= kMaxLeaves; ++n) {
    const Entries d = make_entries(n);
    const auto leaves = leaf_hashes(d);
    const Hash head = ref_mth(d);
    for (std::size_t m = 0; m < n; ++m) {
      const auto proof = inclusion_proof(leaves, m);
      EXPECT_FALSE(verify_inclusion(m, n, flip(leaves[m]), proof, head));
      EXPECT_FALSE(verify_inclusion(m, n, leaves[m], proof, flip(head, 255)));
      for (std::size_t i = 0; i < proof.size(); ++i) {
        auto bad = proof;
        bad[i] = flip(bad[i], i * 7);
        EXPECT_FALSE(verify_inclusion(m, n, leaves[m], bad, head))
            << "n=" << n << " m=" << m << " i=" << i;
      }
      // A hash too many, a hash too few, the wrong index, the wrong tree size.
      auto longer = proof;
      longer.push_back(head);
      EXPECT_FALSE(verify_inclusion(m, n, leaves[m], longer, head));
      if (!proof.empty()) {
        auto shorter = proof;
        shorter.pop_back();
        EXPECT_FALSE(verify_inclusion(m, n, leaves[m], shorter, head));
      }
      if (n > 1) {
        EXPECT_FALSE(verify_inclusion((m + 1) % n, n, leaves[m], proof, head)) << n << " " << m;
      }
      // The proof for this tree says nothing about the next tree (a proof alone does not bind
      // the size: only the signed head does, so compare with the real next head).
      const Hash next_head = ref_mth(make_entries(n + 1));
      EXPECT_FALSE(verify_inclusion(m, n + 1, leaves[m], proof, next_head));
      EXPECT_FALSE(verify_inclusion(n, n, leaves[m], proof, head));  // index out of range
    }
  }
}

TEST(Merkle, ConsistencyRejectsEveryTamperedProof) {
  for (std::size_t n = 2; n <= kMaxLeaves; ++n) {
    const Entries d = make_entries(n);
    const auto leaves = leaf_hashes(d);
    const Hash new_head = ref_mth(d);
    for (std::size_t m = 1; m < n; ++m) {
      const auto proof = consistency_proof(leaves, m);
      const Hash old_head = ref_mth(slice(d, 0, m));
      EXPECT_FALSE(verify_consistency(m, n, flip(old_head), new_head, proof));
      EXPECT_FALSE(verify_consistency(m, n, old_head, flip(new_head), proof));
      for (std::size_t i = 0; i < proof.size(); ++i) {
        auto bad = proof;
        bad[i] = flip(bad[i], i * 5 + 3);
        EXPECT_FALSE(verify_consistency(m, n, old_head, new_head, bad))
            << "n=" << n << " m=" << m << " i=" << i;
      }
      auto longer = proof;
      longer.push_back(new_head);
      EXPECT_FALSE(verify_consistency(m, n, old_head, new_head, longer));
      auto shorter = proof;
      shorter.pop_back();
      EXPECT_FALSE(verify_consistency(m, n, old_head, new_head, shorter));
      EXPECT_FALSE(verify_consistency(m, n + 1, old_head, ref_mth(make_entries(n + 1)), proof));
      EXPECT_FALSE(verify_consistency(n, m, new_head, old_head, proof));  // sizes swapped
      // The old head of a different prefix is not consistent.
      if (m + 1 < n) {
        EXPECT_FALSE(verify_consistency(m, n, ref_mth(slice(d, 0, m + 1)), new_head, proof));
      }
    }
  }
}

TEST(Merkle, ConsistencyEdgeCases) {
  const Entries d = make_entries(5);
  const Hash head = ref_mth(d);
  EXPECT_TRUE(verify_consistency(5, 5, head, head, {}));
  EXPECT_FALSE(verify_consistency(5, 5, head, flip(head), {}));
  const std::vector<Hash> one{head};
  EXPECT_FALSE(verify_consistency(5, 5, head, head, one));
  EXPECT_TRUE(verify_consistency(0, 5, empty_root(), head, {}));
  EXPECT_FALSE(verify_consistency(0, 5, empty_root(), head, one));
  EXPECT_FALSE(verify_consistency(3, 5, ref_mth(slice(d, 0, 3)), head, {}));  // empty proof
}

TEST(Merkle, OversizedProofsAreRefusedWithoutHashing) {
  const std::vector<Hash> huge(kMaxProofHashes + 1);
  auto r = root_from_inclusion_proof(0, ~std::uint64_t{0}, Hash{}, huge);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("more than any tree"), std::string::npos);
  EXPECT_FALSE(verify_consistency(1, ~std::uint64_t{0}, Hash{}, Hash{}, huge));
}

TEST(Merkle, LargeTreeIndexesAtTheEdges) {
  // A 2^63+1 leaf tree: the last leaf's path is one hash (the left 2^63 subtree).
  const std::uint64_t n = (std::uint64_t{1} << 63) + 1;
  const Hash left = leaf_hash(as_bytes("left")), leaf = leaf_hash(as_bytes("last"));
  const std::vector<Hash> proof{left};
  auto r = root_from_inclusion_proof(n - 1, n, leaf, proof);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, node_hash(left, leaf));
}

}  // namespace
}  // namespace mlsc::merkle
