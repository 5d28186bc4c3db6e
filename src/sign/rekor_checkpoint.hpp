// Rekor checkpoints: a signed note (the golang.org/x/mod/sumdb/note text format) whose body is
// a tree head in the transparency-dev checkpoint layout:
//
//   <origin>\n<tree size>\n<base64 root hash>\n[<other lines>\n]\n
//   — <signer name> <base64(4-byte key hint || signature)>\n   (one or more lines; U+2014)
//
// The signature covers the body up to and including its last newline. Rekor's key hint is the
// first four bytes of the log's key id (SHA-256 of its DER public key).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "mlsc/core/merkle.hpp"
#include "mlsc/sign/sigstore.hpp"

namespace mlsc::sign {

struct NoteSignature {
  std::string name;
  std::array<std::uint8_t, 4> key_hint{};
  std::vector<std::uint8_t> signature;
};

struct SignedCheckpoint {
  std::string signed_text;  // the bytes the signatures cover
  std::string origin;
  std::uint64_t tree_size = 0;
  merkle::Hash root_hash{};
  std::vector<std::string> other_content;
  std::vector<NoteSignature> signatures;
};

inline constexpr std::size_t kMaxCheckpointChars = 16 * 1024;

// Parses without trusting anything; the result still has to be verified.
Expected<SignedCheckpoint> parse_checkpoint(std::string_view note);

// Succeeds when a signature line whose key hint is `log`'s verifies with `log`'s key. Lines by
// other keys (witness cosignatures) are ignored, but at least one must be by this log.
Expected<void> verify_checkpoint_signature(const SignedCheckpoint& cp,
                                           const TransparencyLogKey& log);

}  // namespace mlsc::sign
