// Sigstore bundles (the model.sig file of OpenSSF Model Signing): reading every layout the
// reference signer has written (bundle v0.3 JSON from reference 0.2.0 to 1.1.0, and v0.1/v0.2
// bundles from other Sigstore clients), and writing v0.3 as the current reference does.
//
// protobuf-JSON conventions: camelCase keys, bytes as standard padded base64, int64 as strings.
// Parsing is strict and bounded: a size cap, a nesting cap, and an error naming the field.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlsc/core/expected.hpp"
#include "mlsc/sign/dsse.hpp"

namespace mlsc::sign {

inline constexpr std::string_view kBundleMediaTypeV03 =
    "application/vnd.dev.sigstore.bundle.v0.3+json";
inline constexpr std::string_view kBundleMediaTypeV02 =
    "application/vnd.dev.sigstore.bundle+json;version=0.2";
inline constexpr std::string_view kBundleMediaTypeV01 =
    "application/vnd.dev.sigstore.bundle+json;version=0.1";

// A manifest of a million files fits in well under this; anything larger is refused unread.
inline constexpr std::size_t kMaxBundleBytes = std::size_t{128} << 20;
// Real bundles nest about six levels deep.
inline constexpr std::size_t kMaxBundleDepth = 64;

// Which verificationMaterial the bundle carries; each belongs to one signing method.
enum class MaterialKind : std::uint8_t {
  public_key,  // key mode: publicKey {hint} or, before reference 1.1.0, {rawBytes, keyDetails}
  certificate_chain,  // certificate mode: x509CertificateChain, leaf first
  certificate,        // Sigstore mode: one Fulcio certificate
};
std::string_view to_string(MaterialKind k);  // "publicKey", "x509CertificateChain", "certificate"

struct PublicKeyMaterial {
  std::string hint;  // hex SHA-256 of the key's PEM text (1.1.0 on); may be empty
  std::vector<std::uint8_t>
      raw_bytes;            // older bundles: the key itself (the reference wrote PEM text)
  std::string key_details;  // e.g. "PKIX_ECDSA_P384_SHA_384"
};

struct Bundle {
  std::string media_type = std::string(kBundleMediaTypeV03);
  MaterialKind kind = MaterialKind::public_key;
  PublicKeyMaterial public_key;
  std::vector<std::vector<std::uint8_t>>
      certificates;  // DER; the chain (leaf first) or the one certificate
  // Kept as JSON for the Sigstore verifier; this layer checks only that they are well-formed.
  nlohmann::json tlog_entries = nlohmann::json::array();
  bool has_tlog_entries_field = false;
  nlohmann::json timestamp_verification_data;  // null when absent
  DsseEnvelope envelope;
  // The whole document as parsed (for verify_sigstore, which reads the log entries itself).
  nlohmann::json document;
};

// Parses bundle JSON text. Errors name the missing or malformed field ("bundle: ...").
Expected<Bundle> parse_bundle(std::string_view text);
// Reads and parses a bundle file (regular file, at most kMaxBundleBytes).
Expected<Bundle> read_bundle(const std::filesystem::path& file);

// The bundle as the reference 1.1.0 writes it: mediaType v0.3, verificationMaterial with the
// key hint or the certificate chain plus an empty tlogEntries, then the DSSE envelope.
nlohmann::ordered_json to_json(const Bundle& b);
std::string serialize_bundle(const Bundle& b);
// Writes atomically (a temporary file in the same directory, then rename).
Expected<void> write_bundle(const Bundle& b, const std::filesystem::path& file);
Expected<void> write_file_atomically(const std::filesystem::path& file, std::string_view bytes);

// True when the JSON text nests arrays and objects deeper than `max_depth` (strings are skipped).
// Checked before parsing, so hostile input cannot exhaust the stack of recursive consumers.
bool json_nesting_exceeds(std::string_view text, std::size_t max_depth);

}  // namespace mlsc::sign
