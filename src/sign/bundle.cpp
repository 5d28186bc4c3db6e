#include "mlsc/sign/bundle.hpp"

#include "mlsc/core/json_depth.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "mlsc/core/base64.hpp"
#include "mlsc/sign/certificate.hpp"
#include "mlsc/sign/keys.hpp"

namespace mlsc::sign {

namespace {

using nlohmann::json;

// More log entries than this is no real bundle (clients write one).
constexpr std::size_t kMaxTlogEntries = 64;

constexpr Base64Options kBundleBase64{
    .allow_url_safe = false, .allow_unpadded = false, .max_input = kMaxBundleBytes};

Error bad(const std::string& what) {
  return Error{"bundle: " + what};
}

const json* member(const json& obj, const char* key) {
  const auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

Expected<std::vector<std::uint8_t>> raw_bytes_of(const json& cert, const std::string& where) {
  if (!cert.is_object()) return bad(where + ": not an object");
  const json* raw = member(cert, "rawBytes");
  if (raw == nullptr || !raw->is_string()) return bad(where + ".rawBytes: missing or not a string");
  auto bytes = base64_decode(raw->get_ref<const std::string&>(), kBundleBase64);
  if (!bytes) return bad(where + ".rawBytes: " + bytes.error().describe());
  if (bytes->empty()) return bad(where + ".rawBytes: empty");
  return bytes;
}

Expected<void> read_public_key(const json& pk, Bundle& b) {
  const std::string where = "verificationMaterial.publicKey";
  if (!pk.is_object()) return bad(where + ": not an object");
  if (const json* hint = member(pk, "hint")) {
    if (!hint->is_string()) return bad(where + ".hint: not a string");
    b.public_key.hint = hint->get<std::string>();
  }
  if (member(pk, "rawBytes") != nullptr) {
    auto raw = raw_bytes_of(pk, where);
    if (!raw) return raw.error();
    b.public_key.raw_bytes = std::move(*raw);
  }
  if (const json* details = member(pk, "keyDetails")) {
    if (!details->is_string()) return bad(where + ".keyDetails: not a string");
    b.public_key.key_details = details->get<std::string>();
  }
  if (b.public_key.hint.empty() && b.public_key.raw_bytes.empty()) {
    return bad(where + ": neither a hint nor rawBytes identifies the key");
  }
  return {};
}

Expected<void> read_chain(const json& chain, Bundle& b) {
  const std::string where = "verificationMaterial.x509CertificateChain";
  if (!chain.is_object()) return bad(where + ": not an object");
  const json* certs = member(chain, "certificates");
  if (certs == nullptr || !certs->is_array())
    return bad(where + ".certificates: missing or not an array");
  if (certs->empty()) return bad(where + ".certificates: empty chain");
  if (certs->size() > kMaxChainLength) {
    return bad(where + ".certificates: " + std::to_string(certs->size()) +
               " certificates, more than the limit of " + std::to_string(kMaxChainLength));
  }
  for (std::size_t i = 0; i < certs->size(); ++i) {
    auto der = raw_bytes_of((*certs)[i], where + ".certificates[" + std::to_string(i) + "]");
    if (!der) return der.error();
    b.certificates.push_back(std::move(*der));
  }
  return {};
}

Expected<void> read_log_data(const json& vm, Bundle& b) {
  if (const json* entries = member(vm, "tlogEntries")) {
    if (!entries->is_array()) return bad("verificationMaterial.tlogEntries: not an array");
    if (entries->size() > kMaxTlogEntries)
      return bad("verificationMaterial.tlogEntries: too many entries");
    for (const auto& e : *entries) {
      if (!e.is_object()) return bad("verificationMaterial.tlogEntries: an entry is not an object");
    }
    b.tlog_entries = *entries;
    b.has_tlog_entries_field = true;
  }
  if (const json* tsa = member(vm, "timestampVerificationData")) {
    if (!tsa->is_object())
      return bad("verificationMaterial.timestampVerificationData: not an object");
    b.timestamp_verification_data = *tsa;
  }
  return {};
}

Expected<void> read_material(const json& vm, Bundle& b) {
  if (!vm.is_object()) return bad("verificationMaterial: not an object");
  const json* pk = member(vm, "publicKey");
  const json* chain = member(vm, "x509CertificateChain");
  const json* cert = member(vm, "certificate");
  const int kinds = (pk != nullptr) + (chain != nullptr) + (cert != nullptr);
  if (kinds == 0)
    return bad("verificationMaterial has no publicKey, x509CertificateChain or certificate");
  if (kinds > 1)
    return bad(
        "verificationMaterial has more than one of publicKey, x509CertificateChain, certificate");
  Expected<void> ok;
  if (pk != nullptr) {
    b.kind = MaterialKind::public_key;
    ok = read_public_key(*pk, b);
  } else if (chain != nullptr) {
    b.kind = MaterialKind::certificate_chain;
    ok = read_chain(*chain, b);
  } else {
    b.kind = MaterialKind::certificate;
    auto der = raw_bytes_of(*cert, "verificationMaterial.certificate");
    if (!der) return der.error();
    b.certificates.push_back(std::move(*der));
  }
  if (!ok) return ok;
  return read_log_data(vm, b);
}

Expected<void> check_top_level(const json& doc) {
  static constexpr std::string_view kKnown[] = {"mediaType", "verificationMaterial", "dsseEnvelope",
                                                "messageSignature"};
  for (const auto& item : doc.items()) {
    bool known = false;
    for (auto k : kKnown) known = known || item.key() == k;
    if (!known) return bad("unknown top-level field \"" + item.key() + "\"");
  }
  const json* media = member(doc, "mediaType");
  if (media == nullptr || !media->is_string()) return bad("mediaType: missing or not a string");
  const auto& m = media->get_ref<const std::string&>();
  if (m != kBundleMediaTypeV03 && m != kBundleMediaTypeV02 && m != kBundleMediaTypeV01) {
    return bad("unsupported mediaType \"" + m + "\" (expected " + std::string(kBundleMediaTypeV03) +
               ")");
  }
  if (member(doc, "verificationMaterial") == nullptr) return bad("no verificationMaterial");
  if (member(doc, "dsseEnvelope") == nullptr) {
    if (member(doc, "messageSignature") != nullptr) {
      return bad("signs a blob (messageSignature), not a DSSE envelope: not a model signature");
    }
    return bad("no dsseEnvelope");
  }
  return {};
}

Expected<json> parse_json(std::string_view text) {
  if (text.empty()) return bad("the file is empty");
  if (text.size() > kMaxBundleBytes) {
    return bad(std::to_string(text.size()) + " bytes, more than the limit of " +
               std::to_string(kMaxBundleBytes));
  }
  if (json_nesting_exceeds(text, kMaxBundleDepth))
    return bad("JSON nested more than 64 levels deep");
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    const std::uint64_t at = e.byte > 0 ? e.byte - 1 : 0;
    const bool truncated = at + 1 >= text.size();
    return Error::at(at,
                     std::string("bundle: not valid JSON") + (truncated ? " (truncated?)" : ""));
  } catch (const json::exception& e) {  // out_of_range: a number too large for a double
    return Error{std::string("bundle: not valid JSON: ") + e.what()};
  }
}

}  // namespace

std::string_view to_string(MaterialKind k) {
  switch (k) {
    case MaterialKind::public_key:
      return "publicKey";
    case MaterialKind::certificate_chain:
      return "x509CertificateChain";
    case MaterialKind::certificate:
      return "certificate";
  }
  return "?";
}

bool json_nesting_exceeds(std::string_view text, std::size_t max_depth) {
  return json_too_deep_at(text, max_depth).has_value();
}

Expected<Bundle> parse_bundle(std::string_view text) {
  auto doc = parse_json(text);
  if (!doc) return doc.error();
  if (!doc->is_object()) return bad("not a JSON object");
  if (auto ok = check_top_level(*doc); !ok) return ok.error();
  Bundle b;
  b.media_type = (*doc)["mediaType"].get<std::string>();
  if (auto ok = read_material((*doc)["verificationMaterial"], b); !ok) return ok.error();
  auto envelope = parse_dsse_envelope((*doc)["dsseEnvelope"]);
  if (!envelope) return bad(envelope.error().message);
  b.envelope = std::move(*envelope);
  b.document = std::move(*doc);
  return b;
}

Expected<Bundle> read_bundle(const std::filesystem::path& file) {
  auto text = read_small_file(file, kMaxBundleBytes);
  if (!text) return text.error();
  auto b = parse_bundle(*text);
  if (!b) return Error{file.string() + ": " + b.error().message, b.error().offset};
  return b;
}

nlohmann::ordered_json to_json(const Bundle& b) {
  using ojson = nlohmann::ordered_json;
  ojson vm = ojson::object();
  switch (b.kind) {
    case MaterialKind::public_key: {
      // The current reference writes only the hint; a bundle read from an older one keeps its key.
      ojson pk = ojson::object();
      if (!b.public_key.hint.empty() || b.public_key.raw_bytes.empty())
        pk["hint"] = b.public_key.hint;
      if (!b.public_key.raw_bytes.empty()) pk["rawBytes"] = base64_encode(b.public_key.raw_bytes);
      if (!b.public_key.key_details.empty()) pk["keyDetails"] = b.public_key.key_details;
      vm["publicKey"] = std::move(pk);
      break;
    }
    case MaterialKind::certificate_chain: {
      ojson certs = ojson::array();
      for (const auto& der : b.certificates) certs.push_back({{"rawBytes", base64_encode(der)}});
      vm["x509CertificateChain"] = ojson::object({{"certificates", std::move(certs)}});
      break;
    }
    case MaterialKind::certificate:
      vm["certificate"] = ojson::object(
          {{"rawBytes", b.certificates.empty() ? "" : base64_encode(b.certificates[0])}});
      break;
  }
  vm["tlogEntries"] = ojson(b.tlog_entries);
  if (!b.timestamp_verification_data.is_null())
    vm["timestampVerificationData"] = ojson(b.timestamp_verification_data);
  ojson out = ojson::object();
  out["mediaType"] = b.media_type;
  out["verificationMaterial"] = std::move(vm);
  out["dsseEnvelope"] = to_json(b.envelope);
  return out;
}

std::string serialize_bundle(const Bundle& b) {
  return to_json(b).dump();
}

Expected<void> write_bundle(const Bundle& b, const std::filesystem::path& file) {
  return write_file_atomically(file, serialize_bundle(b));
}

Expected<void> write_file_atomically(const std::filesystem::path& file, std::string_view text) {
  std::string temp = file.string() + ".tmp-XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0)
    return Error{file.string() + ": cannot create a temporary file: " + std::strerror(errno)};
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  const bool written = done == text.size() && ::fchmod(fd, 0644) == 0 && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!written || std::rename(temp.c_str(), file.c_str()) != 0) {
    const std::string why = std::strerror(written ? errno : saved);
    ::unlink(temp.c_str());
    return Error{file.string() + ": cannot write: " + why};
  }
  return {};
}

}  // namespace mlsc::sign
