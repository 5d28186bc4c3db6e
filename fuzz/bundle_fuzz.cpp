// libFuzzer target: hostile model signatures (Sigstore bundle JSON). Parses the bundle, and when
// it parses, runs what verification runs on it before touching the model: the certificate
// parser and the DSSE signature check with each certificate's key (standard and v0.2.0
// encodings), the statement parser on the payload bytes, and the writer, whose output must
// parse back to the same bundle.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mlsc/sign/bundle.hpp"
#include "mlsc/sign/certificate.hpp"
#include "mlsc/sign/dsse.hpp"
#include "mlsc/sign/keys.hpp"
#include "mlsc/sign/verifier.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto bundle = mlsc::sign::parse_bundle(text);
  if (!bundle) return 0;
  mlsc::sign::VerifyResult result;
  std::size_t verified = 0;
  mlsc::sign::check_statement(*bundle, result);
  for (const auto& der : bundle->certificates) {
    auto cert = mlsc::sign::Certificate::from_der(der);
    if (cert) {
      if (cert->subject().empty()) __builtin_trap();
      auto key = cert->public_key();
      if (key) {
        const auto& env = bundle->envelope;
        const std::string pae = mlsc::sign::dsse_pae(env.payload_type, env.payload);
        const std::string legacy = mlsc::sign::dsse_pae_v020(env.payload_type, env.payload);
        for (const auto& s : env.signatures) {
          verified += key->verify(mlsc::as_bytes(pae), s.sig).has_value() ? 1 : 0;
          verified +=
              key->verify_with_digest(mlsc::as_bytes(legacy), s.sig, "SHA256").has_value() ? 1 : 0;
        }
      }
    }
  }
  const std::string written = mlsc::sign::serialize_bundle(*bundle);
  auto again = mlsc::sign::parse_bundle(written);
  // What we write must read back to the same bundle.
  if (!again || again->envelope.payload != bundle->envelope.payload ||
      again->certificates != bundle->certificates || again->kind != bundle->kind ||
      again->public_key.hint != bundle->public_key.hint) {
    __builtin_trap();
  }
  if (verified > 2 * bundle->envelope.signatures.size() * bundle->certificates.size()) __builtin_trap();
  return 0;
}
