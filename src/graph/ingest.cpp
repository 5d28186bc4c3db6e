// Document detection, envelopes (DSSE, Sigstore bundle) and the checks every document passes.
#include "mlsc/graph/ingest.hpp"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <memory>

#include "json_input.hpp"
#include "mlsc/core/base64.hpp"
#include "mlsc/core/bytes.hpp"
#include "mlsc/sign/hashing.hpp"

namespace mlsc::graph {
namespace {

using detail::json;
using detail::member;
using detail::text;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};

// The first URI or email subject alternative name of a DER certificate (a Fulcio certificate
// names the signer's identity there).
std::optional<std::string> certificate_identity(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<X509, X509Free> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return std::nullopt;
  std::unique_ptr<GENERAL_NAMES, NamesFree> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return std::nullopt;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI && name->type != GEN_EMAIL) continue;
    const ASN1_IA5STRING* s =
        name->type == GEN_URI ? name->d.uniformResourceIdentifier : name->d.rfc822Name;
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<std::size_t>(ASN1_STRING_length(s)));
  }
  return std::nullopt;
}

// Claimed signers of a Sigstore bundle: the certificate's identity or the public key hint.
std::vector<std::string> bundle_signers(const json& bundle) {
  std::vector<std::string> out;
  const json* material = member(bundle, "verificationMaterial");
  if (!material) return out;
  const json* cert = member(*material, "certificate");
  if (const json* chain = member(*material, "x509CertificateChain"); !cert && chain) {
    const auto& certs = detail::array_or_empty(*chain, "certificates");
    if (!certs.empty()) cert = &certs.front();
  }
  if (cert) {
    if (auto der = base64_decode(text(*cert, "rawBytes"))) {
      if (auto id = certificate_identity({der->begin(), der->end()})) {
        out.push_back(identity_key(*id));
      }
    }
  }
  if (const json* key = member(*material, "publicKey")) {
    if (auto hint = text(*key, "hint"); !hint.empty()) out.push_back(identity_key("key:" + hint));
  }
  return out;
}

Expected<void> add_envelope(const json& envelope, GraphDocument& doc,
                            std::vector<std::string> signers, const ParseLimits& limits) {
  if (text(envelope, "payloadType") != "application/vnd.in-toto+json") {
    return Error{"DSSE payloadType is not application/vnd.in-toto+json"};
  }
  const auto payload = base64_decode(text(envelope, "payload"));
  if (!payload) return Error{"DSSE payload: " + payload.error().describe()};
  for (const auto& sig : detail::array_or_empty(envelope, "signatures")) {
    if (auto keyid = text(sig, "keyid"); !keyid.empty()) {
      signers.push_back(identity_key("key:" + keyid));
    }
  }
  auto statement = detail::parse_bounded_json(as_chars(*payload), limits);
  if (!statement) return Error{"DSSE payload: " + statement.error().describe()};
  return detail::add_statement(*statement, doc, signers);
}

Expected<void> add_any(const json& root, GraphDocument& doc, const ParseLimits& limits) {
  if (!root.is_object()) return Error{"document is not a JSON object"};
  if (member(root, "payloadType") && member(root, "payload")) {
    return add_envelope(root, doc, {}, limits);
  }
  if (const json* envelope = member(root, "dsseEnvelope")) {
    return add_envelope(*envelope, doc, bundle_signers(root), limits);
  }
  if (member(root, "_type")) return detail::add_statement(root, doc, {});
  if (text(root, "bomFormat") == "CycloneDX") return detail::add_cyclonedx(root, doc);
  if (member(root, "files") && member(root, "summary")) return detail::add_scan_report(root, doc);
  return Error{
      "not a recognised document (in-toto statement, DSSE envelope, Sigstore bundle, "
      "CycloneDX BOM or mlsc scan report)"};
}

Expected<void> check_keys(const GraphDocument& doc, const ParseLimits& limits) {
  if (doc.nodes().size() + doc.edges().size() > limits.max_facts) {
    return Error{"document contributes more than " + std::to_string(limits.max_facts) +
                 " nodes and edges"};
  }
  for (const auto& n : doc.nodes()) {
    if (n.key.size() > limits.max_key_bytes) return Error{"node key longer than the limit"};
    if (!kind_of_key(n.key)) return Error{"invalid node key (empty or control characters)"};
  }
  return {};
}

}  // namespace

Expected<GraphDocument> parse_document(ByteView bytes, std::string source,
                                       const ParseLimits& limits) {
  auto root = detail::parse_bounded_json(as_chars(bytes), limits);
  if (!root) return root.error();
  GraphDocument doc;
  doc.source = std::move(source);
  auto hasher = mlsc::sign::Hasher::create(mlsc::sign::HashType::sha256);
  if (!hasher) return hasher.error();
  hasher->update(bytes);
  doc.digest = "sha256:" + hasher->finish().hex();
  if (auto r = add_any(*root, doc, limits); !r) return r.error();
  if (auto r = check_keys(doc, limits); !r) return r.error();
  return doc;
}

Expected<GraphDocument> read_document(const std::filesystem::path& path,
                                      const ParseLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open " + path.string()};
  std::string data;
  std::vector<char> buffer(1 << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    data.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
    if (data.size() > limits.max_bytes) return Error{path.string() + ": larger than the limit"};
  }
  if (in.bad()) return Error{"cannot read " + path.string()};
  return parse_document(as_bytes(data), path.string(), limits);
}

}  // namespace mlsc::graph
