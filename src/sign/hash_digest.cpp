// Digest values, the streaming Hasher (OpenSSL EVP for SHA-256 / BLAKE2b-512, our BLAKE3), and
// single-threaded file hashing.
#include <openssl/evp.h>

#include <algorithm>
#include <vector>

#include "mlsc/sign/hashing.hpp"
#include "sign/file_reader.hpp"

namespace mlsc::sign {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Fetched once per process: an implicit fetch on every EVP_DigestInit_ex takes a lock, which
// shows when hashing tens of thousands of small files on every core.
const EVP_MD* evp_md(HashType t) {
  struct MdFree {
    void operator()(EVP_MD* md) const { EVP_MD_free(md); }
  };
  using Md = std::unique_ptr<EVP_MD, MdFree>;
  static const Md sha256(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  static const Md blake2b(EVP_MD_fetch(nullptr, "BLAKE2B-512", nullptr));
  return t == HashType::sha256 ? sha256.get() : blake2b.get();
}

}  // namespace

std::string_view to_string(HashType t) {
  switch (t) {
    case HashType::sha256: return "sha256";
    case HashType::blake2b: return "blake2b";
    case HashType::blake3: return "blake3";
  }
  return "?";
}

std::optional<HashType> parse_hash_type(std::string_view name) {
  for (auto t : {HashType::sha256, HashType::blake2b, HashType::blake3}) {
    if (name == to_string(t)) return t;
  }
  return std::nullopt;
}

std::size_t digest_size(HashType t) { return t == HashType::blake2b ? 64 : 32; }

std::string Digest::hex() const {
  std::string s;
  s.reserve(2U * size);
  for (std::size_t i = 0; i < size; ++i) {
    s.push_back(kHexDigits[bytes[i] >> 4U]);
    s.push_back(kHexDigits[bytes[i] & 15U]);
  }
  return s;
}

std::optional<Digest> Digest::from_hex(std::string_view hex) {
  if (hex.empty() || hex.size() % 2 != 0 || hex.size() > 128) return std::nullopt;
  Digest d;
  d.size = static_cast<std::uint8_t>(hex.size() / 2);
  for (std::size_t i = 0; i < d.size; ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    d.bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return d;
}

Digest Digest::of(ByteView raw) {
  Digest d;
  d.size = static_cast<std::uint8_t>(std::min<std::size_t>(raw.size(), d.bytes.size()));
  std::copy_n(raw.begin(), d.size, d.bytes.begin());
  return d;
}

void EvpCtxFree::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Expected<Hasher> Hasher::create(HashType type) {
  if (type == HashType::blake3) return Hasher(type, Blake3());
  const EVP_MD* md = evp_md(type);
  Evp ctx(EVP_MD_CTX_new());
  if (md == nullptr || !ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
    return Error{std::string("OpenSSL cannot compute ") + std::string(to_string(type))};
  }
  return Hasher(type, std::move(ctx));
}

void Hasher::update(ByteView data) {
  if (auto* b3 = std::get_if<Blake3>(&state_)) {
    b3->update(data);
    return;
  }
  // EVP_DigestUpdate cannot fail for an initialised software digest.
  EVP_DigestUpdate(std::get<Evp>(state_).get(), data.data(), data.size());
}

Digest Hasher::finish() {
  if (auto* b3 = std::get_if<Blake3>(&state_)) {
    const auto h = b3->finalize();
    return Digest::of(h);
  }
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(std::get<Evp>(state_).get(), out.data(), &len);
  return Digest::of(ByteView(out.data(), len));
}

Expected<Digest> hash_bytes(HashType type, ByteView data) {
  auto h = Hasher::create(type);
  if (!h) return h.error();
  h->update(data);
  return h->finish();
}

namespace {
Expected<Digest> hash_open_file(const detail::InputFile& f, HashType type, std::uint64_t start,
                                std::uint64_t end) {
  auto h = Hasher::create(type);
  if (!h) return h.error();
  std::vector<std::uint8_t> buffer;
  auto ok = f.read_range(start, end, buffer, [&](ByteView w) { h->update(w); });
  if (!ok) return ok.error();
  return h->finish();
}
}  // namespace

Expected<Digest> hash_file_range(const std::filesystem::path& file, HashType type, std::uint64_t start,
                                 std::uint64_t end) {
  auto f = detail::InputFile::open(file);
  if (!f) return f.error();
  return hash_open_file(*f, type, start, end);
}

Expected<Digest> hash_file(const std::filesystem::path& file, HashType type) {
  auto f = detail::InputFile::open(file);
  if (!f) return f.error();
  return hash_open_file(*f, type, 0, f->size());
}

}  // namespace mlsc::sign
