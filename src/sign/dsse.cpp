#include "mlsc/sign/dsse.hpp"

#include "mlsc/core/base64.hpp"

namespace mlsc::sign {

namespace {

using nlohmann::json;

constexpr char kHex[] = "0123456789abcdef";

// The reference's readers use Python's base64 decoder: standard alphabet, padding required.
constexpr Base64Options kStrictBase64{.allow_url_safe = false, .allow_unpadded = false};

Expected<std::vector<std::uint8_t>> decode_field(const json& obj, const char* key,
                                                 const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_string())
    return Error{where + "." + key + ": missing or not a string"};
  auto bytes = base64_decode(it->get_ref<const std::string&>(), kStrictBase64);
  if (!bytes) return Error{where + "." + key + ": " + bytes.error().describe()};
  return bytes;
}

Expected<DsseSignature> signature_of(const json& s, const std::string& where) {
  if (!s.is_object()) return Error{where + ": not an object"};
  DsseSignature out;
  auto sig = decode_field(s, "sig", where);
  if (!sig) return sig.error();
  if (sig->empty()) return Error{where + ".sig: empty signature"};
  out.sig = std::move(*sig);
  const auto keyid = s.find("keyid");
  if (keyid != s.end() && !keyid->is_null()) {
    if (!keyid->is_string()) return Error{where + ".keyid: not a string"};
    out.keyid = keyid->get<std::string>();
  }
  return out;
}

}  // namespace

std::string dsse_pae(std::string_view payload_type, ByteView payload) {
  std::string out = "DSSEv1 " + std::to_string(payload_type.size()) + " ";
  out += payload_type;
  out += " " + std::to_string(payload.size()) + " ";
  out += as_chars(payload);
  return out;
}

std::string python_bytes_repr(ByteView bytes) {
  const std::string_view s = as_chars(bytes);
  // Python picks double quotes when the bytes hold a single quote but no double quote.
  const char quote =
      (s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos) ? '"'
                                                                                        : '\'';
  std::string out = "b";
  out.reserve(bytes.size() + 3);
  out += quote;
  for (const std::uint8_t c : bytes) {
    if (c == static_cast<std::uint8_t>(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4U];
      out += kHex[c & 15U];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += quote;
  return out;
}

std::string dsse_pae_v020(std::string_view payload_type, ByteView payload) {
  std::string out = "DSSEV1 " + std::to_string(payload_type.size()) + " ";
  out += payload_type;
  out += " " + std::to_string(payload.size()) + " ";
  out += python_bytes_repr(payload);
  return out;
}

Expected<DsseEnvelope> parse_dsse_envelope(const json& envelope) {
  const std::string where = "dsseEnvelope";
  if (!envelope.is_object()) return Error{where + ": not an object"};
  DsseEnvelope out;
  const auto type = envelope.find("payloadType");
  if (type == envelope.end() || !type->is_string())
    return Error{where + ".payloadType: missing or not a string"};
  out.payload_type = type->get<std::string>();
  auto payload = decode_field(envelope, "payload", where);
  if (!payload) return payload.error();
  out.payload = std::move(*payload);
  const auto sigs = envelope.find("signatures");
  if (sigs == envelope.end() || !sigs->is_array())
    return Error{where + ".signatures: missing or not an array"};
  if (sigs->empty()) return Error{where + ".signatures: the envelope is not signed (no signature)"};
  if (sigs->size() > kMaxDsseSignatures) {
    return Error{where + ".signatures: " + std::to_string(sigs->size()) +
                 " signatures, more than the limit of " + std::to_string(kMaxDsseSignatures)};
  }
  for (std::size_t i = 0; i < sigs->size(); ++i) {
    auto s = signature_of((*sigs)[i], where + ".signatures[" + std::to_string(i) + "]");
    if (!s) return s.error();
    out.signatures.push_back(std::move(*s));
  }
  return out;
}

nlohmann::ordered_json to_json(const DsseEnvelope& envelope) {
  nlohmann::ordered_json sigs = nlohmann::ordered_json::array();
  for (const auto& s : envelope.signatures) {
    sigs.push_back({{"sig", base64_encode(s.sig)}, {"keyid", s.keyid}});
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["payload"] = base64_encode(envelope.payload);
  out["payloadType"] = envelope.payload_type;
  out["signatures"] = std::move(sigs);
  return out;
}

}  // namespace mlsc::sign
