#include "mlsc/bom/inventory.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace mlsc::bom {

namespace {

struct AlgInfo {
  std::string_view key;  // lowercase, no separators
  std::string_view cyclonedx;
  std::size_t hex_len;
};

constexpr std::array<AlgInfo, 7> kAlgs = {{{"md5", "MD5", 32},
                                           {"sha1", "SHA-1", 40},
                                           {"sha256", "SHA-256", 64},
                                           {"sha384", "SHA-384", 96},
                                           {"sha512", "SHA-512", 128},
                                           {"sha3256", "SHA3-256", 64},
                                           {"blake2b256", "BLAKE2b-256", 64}}};

const AlgInfo* find_alg(std::string_view name) {
  std::string key;
  for (const char c : name) {
    if (c == '-' || c == '_') continue;
    key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  for (const auto& a : kAlgs) {
    if (a.key == key) return &a;
  }
  return nullptr;
}

}  // namespace

std::string canonical_hash_alg(std::string_view name) {
  const auto* a = find_alg(name);
  return a == nullptr ? std::string{} : std::string(a->cyclonedx);
}

std::optional<Hash> parse_prefixed_hash(std::string_view text) {
  const auto sep = text.find_first_of(":=");
  if (sep == std::string_view::npos) return std::nullopt;
  const auto* a = find_alg(text.substr(0, sep));
  const auto hex = text.substr(sep + 1);
  if (a == nullptr || hex.size() != a->hex_len) return std::nullopt;
  Hash h{std::string(a->cyclonedx), {}};
  for (const char c : hex) {
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) return std::nullopt;
    h.hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return h;
}

std::string_view to_string(PackageScope s) {
  switch (s) {
    case PackageScope::required:
      return "required";
    case PackageScope::optional:
      return "optional";
    case PackageScope::dev:
      return "dev";
    case PackageScope::constraint:
      return "constraint";
    case PackageScope::build:
      return "build";
  }
  return "required";
}

}  // namespace mlsc::bom
