#include "mlsc/core/merkle.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <bit>
#include <memory>
#include <string>

namespace mlsc::merkle {
namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// SHA-256 over the concatenation of `parts`, prefixed by one domain-separation byte.
Hash sha256_prefixed(std::uint8_t prefix, std::initializer_list<ByteView> parts) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  Hash out{};
  unsigned int len = 0;
  // SHA-256 through the default provider cannot fail short of memory exhaustion; a failure
  // leaves `ok` false and the all-zero result cannot match a real root.
  bool ok = ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx.get(), &prefix, 1) == 1;
  for (ByteView p : parts) ok = ok && EVP_DigestUpdate(ctx.get(), p.data(), p.size()) == 1;
  ok = ok && EVP_DigestFinal_ex(ctx.get(), out.data(), &len) == 1;
  if (!ok) out.fill(0);
  return out;
}

// The largest power of two strictly smaller than n (n >= 2): RFC 6962's split point k.
std::uint64_t split_point(std::uint64_t n) {
  return std::bit_floor(n - 1);
}

Hash subtree_root(std::span<const Hash> leaves) {
  if (leaves.empty()) return empty_root();
  if (leaves.size() == 1) return leaves[0];
  const std::size_t k = static_cast<std::size_t>(split_point(leaves.size()));
  return node_hash(subtree_root(leaves.first(k)), subtree_root(leaves.subspan(k)));
}

std::string size_text(std::uint64_t v) {
  return std::to_string(v);
}

}  // namespace

Hash leaf_hash(ByteView entry) {
  return sha256_prefixed(0x00, {entry});
}

Hash node_hash(const Hash& left, const Hash& right) {
  return sha256_prefixed(0x01, {ByteView(left), ByteView(right)});
}

Hash empty_root() {
  Hash out{};
  unsigned int len = 0;
  if (EVP_Digest(nullptr, 0, out.data(), &len, EVP_sha256(), nullptr) != 1) out.fill(0);
  return out;
}

Hash root(std::span<const Hash> leaf_hashes) {
  return subtree_root(leaf_hashes);
}

std::vector<Hash> inclusion_proof(std::span<const Hash> leaf_hashes, std::uint64_t index) {
  std::vector<Hash> proof;
  if (index >= leaf_hashes.size()) return proof;
  // Walk down from the root; each step records the sibling subtree the leaf is not in.
  std::size_t lo = 0, hi = leaf_hashes.size();
  while (hi - lo > 1) {
    const std::size_t k = static_cast<std::size_t>(split_point(hi - lo));
    if (index < lo + k) {
      proof.push_back(subtree_root(leaf_hashes.subspan(lo + k, hi - lo - k)));
      hi = lo + k;
    } else {
      proof.push_back(subtree_root(leaf_hashes.subspan(lo, k)));
      lo += k;
    }
  }
  std::reverse(proof.begin(), proof.end());  // the path is given bottom first
  return proof;
}

std::vector<Hash> consistency_proof(std::span<const Hash> leaf_hashes, std::uint64_t old_size) {
  std::vector<Hash> proof;
  if (old_size == 0 || old_size >= leaf_hashes.size()) return proof;
  std::size_t lo = 0, hi = leaf_hashes.size();
  const auto m = static_cast<std::size_t>(old_size);
  bool old_tree_is_whole_subtree = true;  // RFC 6962's flag b: no right turn taken yet
  while (m != hi) {
    const std::size_t k = static_cast<std::size_t>(split_point(hi - lo));
    if (m - lo <= k) {
      proof.push_back(subtree_root(leaf_hashes.subspan(lo + k, hi - lo - k)));
      hi = lo + k;
    } else {
      proof.push_back(subtree_root(leaf_hashes.subspan(lo, k)));
      lo += k;
      old_tree_is_whole_subtree = false;
    }
  }
  if (!old_tree_is_whole_subtree) proof.push_back(subtree_root(leaf_hashes.subspan(lo, hi - lo)));
  std::reverse(proof.begin(), proof.end());
  return proof;
}

Expected<Hash> root_from_inclusion_proof(std::uint64_t index, std::uint64_t tree_size,
                                         const Hash& leaf, std::span<const Hash> proof) {
  if (index >= tree_size) {
    return Error{"inclusion proof: leaf index " + size_text(index) + " is not below tree size " +
                 size_text(tree_size)};
  }
  if (proof.size() > kMaxProofHashes) {
    return Error{"inclusion proof: " + size_text(proof.size()) +
                 " hashes is more than any tree has levels"};
  }
  std::uint64_t fn = index, sn = tree_size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0)
      return Error{"inclusion proof: more hashes than the path from the leaf to the root"};
    if ((fn & 1) != 0 || fn == sn) {
      r = node_hash(p, r);
      // A left child with no right sibling at this level moves up without hashing.
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0)
    return Error{"inclusion proof: fewer hashes than the path from the leaf to the root"};
  return r;
}

Expected<void> verify_inclusion(std::uint64_t index, std::uint64_t tree_size, const Hash& leaf,
                                std::span<const Hash> proof, const Hash& root) {
  auto computed = root_from_inclusion_proof(index, tree_size, leaf, proof);
  if (!computed) return computed.error();
  if (*computed != root)
    return Error{"inclusion proof: the computed root does not match the tree head"};
  return {};
}

Expected<void> verify_consistency(std::uint64_t old_size, std::uint64_t new_size,
                                  const Hash& old_root, const Hash& new_root,
                                  std::span<const Hash> proof) {
  if (old_size > new_size) {
    return Error{"consistency proof: old tree size " + size_text(old_size) + " exceeds new size " +
                 size_text(new_size)};
  }
  if (old_size == 0 || old_size == new_size) {
    if (!proof.empty()) return Error{"consistency proof: must be empty for these tree sizes"};
    if (old_size == new_size && old_root != new_root) {
      return Error{"consistency proof: trees of equal size have different roots"};
    }
    return {};
  }
  if (proof.empty()) return Error{"consistency proof: empty"};
  if (proof.size() > kMaxProofHashes) {
    return Error{"consistency proof: " + size_text(proof.size()) +
                 " hashes is more than any tree has levels"};
  }
  // When the old tree is a complete subtree its root is the proof's implicit first element.
  const bool old_is_power_of_two = std::has_single_bit(old_size);
  std::size_t next = old_is_power_of_two ? 0 : 1;
  const Hash& start = old_is_power_of_two ? old_root : proof[0];

  std::uint64_t fn = old_size - 1, sn = new_size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = start, sr = start;
  for (; next < proof.size(); ++next) {
    const Hash& c = proof[next];
    if (sn == 0) return Error{"consistency proof: more hashes than the trees need"};
    if ((fn & 1) != 0 || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Error{"consistency proof: fewer hashes than the trees need"};
  if (fr != old_root) return Error{"consistency proof: does not lead to the old tree head"};
  if (sr != new_root) return Error{"consistency proof: does not lead to the new tree head"};
  return {};
}

}  // namespace mlsc::merkle
