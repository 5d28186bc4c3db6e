// libFuzzer target: the parsers behind Sigstore verification, each on arbitrary bytes (the first
// byte picks one): trusted root JSON, checkpoint notes, Fulcio certificates, base64, and Merkle
// proof verification with attacker-chosen sizes, indexes and hashes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "mlsc/core/base64.hpp"
#include "mlsc/core/merkle.hpp"
#include "mlsc/sign/sigstore.hpp"
#include "sign/fulcio.hpp"
#include "sign/rekor_checkpoint.hpp"

namespace {

std::uint64_t take_u64(mlsc::ByteView& in) {
  std::uint64_t v = 0;
  const std::size_t n = std::min<std::size_t>(8, in.size());
  std::memcpy(&v, in.data(), n);
  in = in.subspan(n);
  return v;
}

void fuzz_merkle(mlsc::ByteView in) {
  const std::uint64_t a = take_u64(in), b = take_u64(in);
  std::vector<mlsc::merkle::Hash> hashes;
  while (in.size() >= 32 && hashes.size() <= mlsc::merkle::kMaxProofHashes + 1) {
    mlsc::merkle::Hash h{};
    std::memcpy(h.data(), in.data(), 32);
    hashes.push_back(h);
    in = in.subspan(32);
  }
  const mlsc::merkle::Hash leaf = hashes.empty() ? mlsc::merkle::Hash{} : hashes.back();
  auto inclusion = mlsc::merkle::root_from_inclusion_proof(a, b, leaf, hashes);
  auto consistency = mlsc::merkle::verify_consistency(a, b, leaf, leaf, hashes);
  (void)inclusion.has_value();
  (void)consistency.has_value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > (1u << 20)) return 0;
  const mlsc::ByteView in(data + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {
      auto root = mlsc::sign::parse_trusted_root(mlsc::as_chars(in));
      (void)root.has_value();
      break;
    }
    case 1: {
      auto cp = mlsc::sign::parse_checkpoint(mlsc::as_chars(in));
      if (cp) {
        mlsc::sign::TransparencyLogKey key;
        key.log_id.assign(32, 0);
        if (!cp->signatures.empty())
          std::memcpy(key.log_id.data(), cp->signatures[0].key_hint.data(), 4);
        auto ok =
            mlsc::sign::verify_checkpoint_signature(*cp, key);  // no key: must fail, not crash
        if (ok) __builtin_trap();
      }
      break;
    }
    case 2: {
      auto id = mlsc::sign::read_fulcio_identity(in);
      (void)id.has_value();
      break;
    }
    case 3: {
      auto bytes = mlsc::base64_decode(mlsc::as_chars(in));
      // Whatever decodes must re-encode to a string that decodes to the same bytes.
      if (bytes) {
        auto again = mlsc::base64_decode(mlsc::base64_encode(*bytes));
        if (!again || *again != *bytes) __builtin_trap();
      }
      break;
    }
    default:
      fuzz_merkle(in);
  }
  return 0;
}
