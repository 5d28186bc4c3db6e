// libFuzzer target: verify_sigstore on arbitrary bytes parsed as JSON, with the real public-good
// trusted root. A JSON object input is also applied as a merge patch (RFC 7386) to a golden
// bundle, so mutations reach the checks behind a valid Rekor entry (certificate, policy, body).
#include <cstddef>
#include <cstdint>

#include "mlsc/sign/sigstore.hpp"
#include "sigstore_fuzz_support.hpp"

namespace {

struct Fixture {
  mlsc::sign::TrustedRoot root;
  nlohmann::json golden;
  mlsc::sign::SigstorePolicy policy{"stefanb@us.ibm.com", "https://sigstore.verify.ibm.com/oauth2"};
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture out;
    auto root = mlsc::sign::parse_trusted_root(
        mlsc::fuzz::read_shared("vectors/sigstore/trusted-root-public-good.json"));
    if (!root) throw std::runtime_error(root.error().message);
    out.root = std::move(*root);
    out.golden = nlohmann::json::parse(
        mlsc::fuzz::read_shared("vectors/model-signing/golden-bundles/v1.1.0-sigstore/model.sig"));
    return out;
  }();
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > (1u << 20)) return 0;
  const Fixture& f = fixture();
  const auto input = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (input.is_discarded()) return 0;
  auto direct = mlsc::sign::verify_sigstore(input, f.root, f.policy);
  if (input.is_object()) {
    nlohmann::json patched = f.golden;
    patched.merge_patch(input);
    auto spliced = mlsc::sign::verify_sigstore(patched, f.root, f.policy);
    // An empty patch leaves the golden bundle, which must still verify.
    if (input.empty() && !spliced) __builtin_trap();
  }
  return 0;
}
