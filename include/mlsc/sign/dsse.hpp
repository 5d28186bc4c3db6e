// DSSE (Dead Simple Signing Envelope) v1: the envelope OpenSSF Model Signing puts its in-toto
// statement in. The signature covers the pre-authentication encoding (PAE) of the payload type
// and the payload bytes exactly as they travel (base64-decoded), never a re-serialisation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"

namespace mlsc::sign {

inline constexpr std::string_view kInTotoJsonPayloadType = "application/vnd.in-toto+json";

// "DSSEv1" SP len(type) SP type SP len(payload) SP payload, lengths in ASCII decimal.
std::string dsse_pae(std::string_view payload_type, ByteView payload);

// The encoding the reference signer v0.2.0 signed by mistake, and which its later verifiers
// still accept: "DSSEV1 ... <len> b'<Python repr of the payload bytes>'". Only for verifying.
std::string dsse_pae_v020(std::string_view payload_type, ByteView payload);

// Python's repr() of a bytes object (b'...' with \n, \x7f, ... escapes), which v0.2.0 signed.
std::string python_bytes_repr(ByteView bytes);

struct DsseSignature {
  std::vector<std::uint8_t> sig;
  // Absent, null and "" are all accepted and mean the same (OMS does not use keyid).
  std::string keyid;
};

struct DsseEnvelope {
  std::string payload_type;
  std::vector<std::uint8_t> payload;  // the decoded payload bytes, as signed
  std::vector<DsseSignature> signatures;
};

// A DSSE envelope is small next to the bundle limit, but it can hold many signatures.
inline constexpr std::size_t kMaxDsseSignatures = 16;

// Parses the "dsseEnvelope" object of a bundle: payload and sig must be standard, padded
// base64 (what the reference's reader accepts).
Expected<DsseEnvelope> parse_dsse_envelope(const nlohmann::json& envelope);
// {"payload", "payloadType", "signatures": [{"sig", "keyid"}]}, as the reference writes it.
nlohmann::ordered_json to_json(const DsseEnvelope& envelope);

}  // namespace mlsc::sign
