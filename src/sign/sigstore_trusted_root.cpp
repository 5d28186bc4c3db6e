// Reads a Sigstore trusted root (or a client trust config that wraps one). Only the material
// verification needs is kept; unknown fields are ignored, as protobuf JSON readers do.
#include <fstream>
#include <sstream>

#include "mlsc/sign/sigstore.hpp"
#include "sigstore_crypto.hpp"
#include "sigstore_json.hpp"

namespace mlsc::sign {
namespace {

namespace sj = sigstore_json;
using Json = nlohmann::json;

constexpr std::size_t kMaxRootFileBytes = std::size_t{4} << 20;
constexpr std::size_t kMaxAuthorities = 64;  // entries per list
constexpr std::size_t kMaxChainLength = 10;
constexpr std::size_t kMaxCertificateBytes = 64 * 1024;
constexpr std::size_t kMaxKeyBytes = 16 * 1024;
constexpr std::size_t kMaxNameChars = 1024;

constexpr std::string_view kTrustedRootType =
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
constexpr std::string_view kTrustedRootTypeV02 =
    "application/vnd.dev.sigstore.trustedroot.v0.2+json";
constexpr std::string_view kTrustConfigType =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";

std::string at(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// validFor: {start, end?}. An absent range, or an absent end, leaves that side open, as an
// unset protobuf TimeRange does.
Expected<ValidityPeriod> parse_validity(const Json& owner, const std::string& path) {
  if (sj::optional_member(owner, "validFor") == nullptr) return ValidityPeriod{};
  auto vf = sj::required_object(owner, "validFor", path);
  if (!vf) return vf.error();
  const std::string vpath = path + ".validFor";
  ValidityPeriod v;
  auto start = sj::required_string(**vf, "start", vpath, 64);
  if (!start) return start.error();
  auto s = sj::parse_rfc3339(*start, vpath + ".start");
  if (!s) return s.error();
  v.start = *s;
  if (sj::optional_member(**vf, "end") != nullptr) {
    auto end = sj::required_string(**vf, "end", vpath, 64);
    if (!end) return end.error();
    auto e = sj::parse_rfc3339(*end, vpath + ".end");
    if (!e) return e.error();
    if (*e < v.start) return Error{vpath + ": ends before it starts"};
    v.end = *e;
  }
  return v;
}

// "O=sigstore.dev, CN=sigstore" from the DistinguishedName message, for messages only.
std::string subject_text(const Json& ca) {
  const Json* subject = sj::optional_member(ca, "subject");
  if (subject == nullptr) return {};
  std::string out;
  for (auto [key, label] : {std::pair{"organization", "O="}, std::pair{"commonName", "CN="}}) {
    const Json* v = sj::optional_member(*subject, key);
    if (v == nullptr || !v->is_string() || v->get_ref<const std::string&>().size() > kMaxNameChars)
      continue;
    if (!out.empty()) out += ", ";
    out += label + v->get<std::string>();
  }
  return out;
}

Expected<CertificateAuthority> parse_authority(const Json& ca, const std::string& path) {
  if (!ca.is_object()) return Error{path + ": expected an object"};
  CertificateAuthority out;
  out.subject = subject_text(ca);
  if (const Json* uri = sj::optional_member(ca, "uri"); uri != nullptr) {
    if (!uri->is_string() || uri->get_ref<const std::string&>().size() > kMaxNameChars) {
      return Error{path + ".uri: expected a string of at most " + std::to_string(kMaxNameChars) +
                   " characters"};
    }
    out.uri = uri->get<std::string>();
  }
  auto chain = sj::required_object(ca, "certChain", path);
  if (!chain) return chain.error();
  const std::string cpath = path + ".certChain";
  auto certs = sj::required_array(**chain, "certificates", cpath, kMaxChainLength);
  if (!certs) return certs.error();
  if ((*certs)->empty()) return Error{cpath + ".certificates: empty"};
  for (std::size_t i = 0; i < (*certs)->size(); ++i) {
    const std::string epath = at(cpath + ".certificates", i);
    auto der = sj::required_bytes((**certs)[i], "rawBytes", epath, kMaxCertificateBytes);
    if (!der) return der.error();
    auto parsed = sigstore_crypto::parse_certificate_der(*der, epath);
    if (!parsed) return parsed.error();
    out.chain_der.push_back(std::move(*der));
  }
  auto validity = parse_validity(ca, path);
  if (!validity) return validity.error();
  out.valid_for = *validity;
  return out;
}

Expected<TransparencyLogKey> parse_log(const Json& log, const std::string& path) {
  if (!log.is_object()) return Error{path + ": expected an object"};
  TransparencyLogKey out;
  if (const Json* url = sj::optional_member(log, "baseUrl"); url != nullptr) {
    if (!url->is_string() || url->get_ref<const std::string&>().size() > kMaxNameChars) {
      return Error{path + ".baseUrl: expected a string of at most " +
                   std::to_string(kMaxNameChars) + " characters"};
    }
    out.base_url = url->get<std::string>();
  }
  if (const Json* alg = sj::optional_member(log, "hashAlgorithm"); alg != nullptr) {
    if (!alg->is_string() || alg->get_ref<const std::string&>() != "SHA2_256") {
      return Error{path + ".hashAlgorithm: only SHA2_256 logs are supported"};
    }
  }
  auto key = sj::required_object(log, "publicKey", path);
  if (!key) return key.error();
  const std::string kpath = path + ".publicKey";
  auto raw = sj::required_bytes(**key, "rawBytes", kpath, kMaxKeyBytes);
  if (!raw) return raw.error();
  out.public_key_der = std::move(*raw);
  if (sj::optional_member(**key, "keyDetails") != nullptr) {
    auto details = sj::required_string(**key, "keyDetails", kpath, 128);
    if (!details) return details.error();
    out.key_details = std::string(*details);
  }
  auto validity = parse_validity(**key, kpath);
  if (!validity) return validity.error();
  out.valid_for = *validity;
  auto log_id = sj::required_object(log, "logId", path);
  if (!log_id) return log_id.error();
  auto key_id = sj::required_bytes(**log_id, "keyId", path + ".logId", 64);
  if (!key_id) return key_id.error();
  if (key_id->empty()) return Error{path + ".logId.keyId: empty"};
  out.log_id = std::move(*key_id);
  return out;
}

template <class T, class Parse>
Expected<std::vector<T>> parse_list(const Json& root, std::string_view key, Parse parse) {
  std::vector<T> out;
  if (sj::optional_member(root, key) == nullptr) return out;
  auto items = sj::required_array(root, key, "trustedRoot", kMaxAuthorities);
  if (!items) return items.error();
  for (std::size_t i = 0; i < (*items)->size(); ++i) {
    auto item = parse((**items)[i], at("trustedRoot." + std::string(key), i));
    if (!item) return item.error();
    out.push_back(std::move(*item));
  }
  return out;
}

Expected<TrustedRoot> parse_root_object(const Json& j) {
  auto media = sj::required_string(j, "mediaType", "trustedRoot", 256);
  if (!media) return media.error();
  if (*media != kTrustedRootType && *media != kTrustedRootTypeV02) {
    return Error{"trustedRoot.mediaType: unsupported '" + std::string(*media) + "'"};
  }
  TrustedRoot root;
  auto cas = parse_list<CertificateAuthority>(j, "certificateAuthorities", parse_authority);
  if (!cas) return cas.error();
  root.certificate_authorities = std::move(*cas);
  auto tlogs = parse_list<TransparencyLogKey>(j, "tlogs", parse_log);
  if (!tlogs) return tlogs.error();
  root.tlogs = std::move(*tlogs);
  auto ctlogs = parse_list<TransparencyLogKey>(j, "ctlogs", parse_log);
  if (!ctlogs) return ctlogs.error();
  root.ctlogs = std::move(*ctlogs);
  auto tsas = parse_list<CertificateAuthority>(j, "timestampAuthorities", parse_authority);
  if (!tsas) return tsas.error();
  root.timestamp_authorities = std::move(*tsas);
  if (root.certificate_authorities.empty()) return Error{"trustedRoot: no certificate authorities"};
  if (root.tlogs.empty()) return Error{"trustedRoot: no transparency logs"};
  return root;
}

}  // namespace

Expected<TrustedRoot> parse_trusted_root(std::string_view json) {
  auto j = sj::parse_bounded(json, "trusted root", kMaxRootFileBytes);
  if (!j) return j.error();
  auto media = sj::required_string(*j, "mediaType", "trusted root", 256);
  if (!media) return media.error();
  // A client trust config carries the root next to a signing config, which offline
  // verification has no use for.
  if (*media == kTrustConfigType) {
    auto inner = sj::required_object(*j, "trustedRoot", "clientTrustConfig");
    if (!inner) return inner.error();
    return parse_root_object(**inner);
  }
  return parse_root_object(*j);
}

Expected<TrustedRoot> load_trusted_root(const std::filesystem::path& json_file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(json_file, ec);
  if (ec) return Error{json_file.string() + ": " + ec.message()};
  if (size > kMaxRootFileBytes) return Error{json_file.string() + ": too large for a trusted root"};
  std::ifstream in(json_file, std::ios::binary);
  if (!in) return Error{json_file.string() + ": cannot open"};
  std::ostringstream text;
  text << in.rdbuf();
  auto root = parse_trusted_root(text.str());
  if (!root) return Error{json_file.string() + ": " + root.error().message};
  return root;
}

}  // namespace mlsc::sign
