// Digests used by model signing: SHA-256 and BLAKE2b-512 through OpenSSL 3, BLAKE3 through our
// own implementation (mlsc/sign/blake3.hpp). Streaming, so any amount of data can be hashed in
// bounded memory, and usable from many threads at once (one Hasher per thread).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"
#include "mlsc/sign/blake3.hpp"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of our public headers

namespace mlsc::sign {

// The identifiers of the OpenSSF Model Signing algorithm registry.
enum class HashType : std::uint8_t { sha256, blake2b, blake3 };

std::string_view to_string(HashType t);  // "sha256", "blake2b", "blake3"
std::optional<HashType> parse_hash_type(std::string_view name);
std::size_t digest_size(HashType t);  // 32, 64, 32

// A digest of at most 64 bytes, held by value: manifests carry hundreds of thousands of them.
struct Digest {
  std::array<std::uint8_t, 64> bytes{};
  std::uint8_t size = 0;

  ByteView view() const { return {bytes.data(), size}; }
  std::string hex() const;  // lowercase, as the manifest writes it
  // Lowercase hex only (the predicate schema's pattern); nullopt on anything else.
  static std::optional<Digest> from_hex(std::string_view hex);
  static Digest of(ByteView raw);  // raw.size() <= 64

  friend bool operator==(const Digest&, const Digest&) = default;
};

struct EvpCtxFree {
  void operator()(evp_md_ctx_st* ctx) const;
};

// One streaming digest computation. Move-only; not thread-safe (use one per thread).
class Hasher {
 public:
  static Expected<Hasher> create(HashType type);

  void update(ByteView data);
  Digest finish();  // ends the computation; create a new Hasher for the next one
  HashType type() const { return type_; }

 private:
  using Evp = std::unique_ptr<evp_md_ctx_st, EvpCtxFree>;
  Hasher(HashType type, std::variant<Evp, Blake3> state) : type_(type), state_(std::move(state)) {}

  HashType type_;
  std::variant<Evp, Blake3> state_;
};

// One-shot digest of bytes in memory.
Expected<Digest> hash_bytes(HashType type, ByteView data);

// Digest of bytes [start, end) of a regular file, read once in bounded windows, on the calling
// thread. `end` is clamped to nothing: a file shorter than `end` is an error (it changed).
Expected<Digest> hash_file_range(const std::filesystem::path& file, HashType type, std::uint64_t start,
                                 std::uint64_t end);
// Digest of a whole file, on the calling thread.
Expected<Digest> hash_file(const std::filesystem::path& file, HashType type);

}  // namespace mlsc::sign
