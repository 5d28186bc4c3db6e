#include "rekor_checkpoint.hpp"

#include <algorithm>
#include <cstring>

#include "sigstore_crypto.hpp"
#include "sigstore_json.hpp"

namespace mlsc::sign {
namespace {

constexpr std::string_view kEmDashSpace = "\xE2\x80\x94 ";  // U+2014 then a space
constexpr std::size_t kMaxLines = 64;
constexpr std::size_t kMaxSignatureBytes = 4 + 1024;

// Splits text that ends in '\n' into its lines (without the newlines).
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  return out;
}

Expected<NoteSignature> parse_signature_line(std::string_view line, std::size_t number) {
  const std::string where = "checkpoint signature line " + std::to_string(number);
  if (!line.starts_with(kEmDashSpace))
    return Error{where + ": does not start with an em dash and a space"};
  line.remove_prefix(kEmDashSpace.size());
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos || space == 0)
    return Error{where + ": expected '<name> <signature>'"};
  NoteSignature sig;
  sig.name = std::string(line.substr(0, space));
  const std::string_view b64 = line.substr(space + 1);
  if (b64.find(' ') != std::string_view::npos)
    return Error{where + ": expected '<name> <signature>'"};
  auto bytes = sigstore_json::decode_bytes(b64, where, kMaxSignatureBytes);
  if (!bytes) return bytes.error();
  if (bytes->size() < 5) return Error{where + ": too short to hold a key hint and a signature"};
  std::memcpy(sig.key_hint.data(), bytes->data(), 4);
  sig.signature.assign(bytes->begin() + 4, bytes->end());
  return sig;
}

Expected<void> parse_body(std::string_view body, SignedCheckpoint& cp) {
  const auto lines = lines_of(body);
  if (lines.size() < 3) return Error{"checkpoint: fewer than three lines before the signatures"};
  if (lines.size() > kMaxLines) return Error{"checkpoint: too many lines"};
  if (lines[0].empty()) return Error{"checkpoint: empty origin line"};
  cp.origin = std::string(lines[0]);
  auto size = sigstore_json::parse_decimal(lines[1], "checkpoint tree size");
  if (!size) return size.error();
  cp.tree_size = static_cast<std::uint64_t>(*size);
  auto root = sigstore_json::decode_bytes(lines[2], "checkpoint root hash", 32);
  if (!root) return root.error();
  if (root->size() != cp.root_hash.size()) return Error{"checkpoint root hash: not 32 bytes"};
  std::copy(root->begin(), root->end(), cp.root_hash.begin());
  for (std::size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return Error{"checkpoint: empty line inside the note body"};
    cp.other_content.emplace_back(lines[i]);
  }
  return {};
}

}  // namespace

Expected<SignedCheckpoint> parse_checkpoint(std::string_view note) {
  if (note.size() > kMaxCheckpointChars)
    return Error{"checkpoint: longer than " + std::to_string(kMaxCheckpointChars) + " characters"};
  const std::size_t split = note.find("\n\n");
  if (split == std::string_view::npos)
    return Error{"checkpoint: no blank line before the signatures"};
  if (note.find("\n\n", split + 1) != std::string_view::npos)
    return Error{"checkpoint: more than one blank line"};
  SignedCheckpoint cp;
  cp.signed_text = std::string(note.substr(0, split + 1));
  auto body = parse_body(cp.signed_text, cp);
  if (!body) return body.error();

  const std::string_view sigs = note.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n')
    return Error{"checkpoint: the signature block must end with a newline"};
  const auto lines = lines_of(sigs);
  if (lines.size() > kMaxLines) return Error{"checkpoint: too many signature lines"};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto sig = parse_signature_line(lines[i], i + 1);
    if (!sig) return sig.error();
    cp.signatures.push_back(std::move(*sig));
  }
  return cp;
}

Expected<void> verify_checkpoint_signature(const SignedCheckpoint& cp,
                                           const TransparencyLogKey& log) {
  if (log.log_id.size() < 4)
    return Error{"checkpoint: the trusted log id is too short for a key hint"};
  bool any_by_log = false;
  for (const NoteSignature& sig : cp.signatures) {
    if (!std::equal(sig.key_hint.begin(), sig.key_hint.end(), log.log_id.begin())) continue;
    any_by_log = true;
    auto ok = sigstore_crypto::verify_signature(log.public_key_der, log.key_details,
                                                as_bytes(cp.signed_text), sig.signature,
                                                "checkpoint signature by '" + sig.name + "'");
    if (ok) return {};
  }
  if (!any_by_log) {
    return Error{"checkpoint: not signed by the trusted log key " +
                 sigstore_json::to_hex(log.log_id)};
  }
  return Error{"checkpoint: signature does not verify with the trusted log key " +
               sigstore_json::to_hex(log.log_id)};
}

}  // namespace mlsc::sign
