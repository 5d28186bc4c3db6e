// Zip containers: PyTorch checkpoints, TorchScript archives, .npz, .keras and plain zips.
// The reader (zip_reader.cpp) finds every place where loaders could disagree; this scanner
// turns those into findings and hands every member, listed or hidden, to content recognition.
#include <algorithm>
#include <string>

#include "capped_report.hpp"
#include "container_magic.hpp"
#include "mlsc/core/text.hpp"
#include "mlsc/scan/scanners.hpp"
#include "mlsc/scan/zip_reader.hpp"

namespace mlsc::scan {

namespace {

// Stored members at most this big are always CRC-checked; bigger ones only when something
// recognised and parsed them. Tensor storages are never checksummed in bulk.
constexpr std::uint64_t kCrcAlwaysBelow = 16ULL << 20;
constexpr std::uint64_t kCrcBudget = 1ULL << 30;  // stored bytes checksummed per archive

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "<root>/<rest>" with exactly one folder level: returns rest, or nullopt.
std::optional<std::string_view> under_root(std::string_view name) {
  const auto slash = name.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  return name.substr(slash + 1);
}

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "<root>/data/<n>": raw tensor bytes torch.load never unpickles.
bool is_torch_storage(std::string_view name) {
  const auto rest = under_root(name);
  return rest && rest->substr(0, 5) == "data/" && is_digits(rest->substr(5));
}

std::string classify(const zip::Archive& archive) {
  bool pytorch = false, torchscript = false, root_pickle = false, root_version = false;
  bool npy = false, keras_config = false, keras_payload = false;
  for (const auto& e : archive.entries) {
    if (e.hidden) continue;
    const std::string_view name = e.name;
    if (const auto rest = under_root(name)) {
      pytorch = pytorch || *rest == "data.pkl";
      torchscript = torchscript || *rest == "constants.pkl" || rest->substr(0, 5) == "code/";
    }
    root_pickle = root_pickle || name == "data.pkl";
    root_version = root_version || name == "version";
    npy = npy || ends_with(name, ".npy");
    keras_config = keras_config || name == "config.json";
    keras_payload = keras_payload || name == "model.weights.h5" || name == "metadata.json";
  }
  if (torchscript) return "torchscript";
  if (pytorch || (root_pickle && root_version)) return "pytorch-zip";
  if (keras_config && keras_payload) return "keras";
  if (npy) return "numpy-npz";
  return "zip";
}

// "0 (encrypted), 5 (patched data)": the bits set in `flags`, named where APPNOTE names them.
std::string flag_bits(std::uint16_t flags) {
  std::string out;
  for (int bit = 0; bit < 16; ++bit) {
    if ((flags & (1U << bit)) == 0) continue;
    out += out.empty() ? "" : ", ";
    out += std::to_string(bit);
    if (bit == 0) out += " (encrypted)";
    if (bit == 5) out += " (patched data)";
    if (bit == 6) out += " (strong encryption)";
  }
  return out;
}

class ZipScan {
 public:
  ZipScan(ByteView data, const zip::Archive& archive, ScanContext& ctx)
      : data_(data), archive_(archive), ctx_(ctx), report_(ctx) {}

  void run() {
    for (const auto& a : archive_.anomalies) {
      ctx_.add(a.severity, std::string(zip::rule_id(a.issue)), a.message, a.offset);
    }
    scan_outside();
    for (const auto& e : archive_.entries) scan_entry(e);
    report_.flush();
  }

 private:
  // Bytes before and after the archive are what another loader may read instead.
  void scan_outside() {
    if (archive_.archive_start > 0 && archive_.archive_start <= data_.size()) {
      ctx_.scan_member("<prepended>",
                       data_.first(static_cast<std::size_t>(archive_.archive_start)));
    }
    if (archive_.has_central_directory && archive_.end < data_.size()) {
      ctx_.scan_member("<trailing>", data_.subspan(static_cast<std::size_t>(archive_.end)));
    }
  }

  void scan_entry(const zip::Entry& e) {
    if (e.is_directory() && e.compressed_size == 0) return;
    if (!zip::method_supported(e.method)) {
      unreadable(e, "zip.unsupported-compression",
                 "uses " + zip::method_name(e.method) + " compression, which mlsc cannot read");
      return;
    }
    zip::ReadOptions options;
    options.max_bytes = ctx_.options().limits.max_member_bytes;
    options.reserve = [this](std::uint64_t n) { return ctx_.reserve_inflate(n); };
    options.verify_crc = false;  // decided below, once we know what the member is
    auto result = zip::read(data_, e, options);
    if (result.status == zip::ReadStatus::out_of_bounds) {
      report_.add(Severity::high, "unscannable",
                  "member " + display(e) + " could not be read: " + result.detail, e.data_offset);
      return;
    }
    if (result.status != zip::ReadStatus::ok) {
      report_.add(Severity::high, "unscannable",
                  "member " + display(e) + " was only partly read (" + result.detail +
                      "); the rest was not analysed",
                  e.data_offset);
    }
    const ByteView bytes = result.content.bytes();
    const std::string format = ctx_.scan_member(member_name(e), bytes);
    check_integrity(e, result, bytes, format);
  }

  void check_integrity(const zip::Entry& e, const zip::ReadResult& result, ByteView bytes,
                       const std::string& format) {
    const bool complete = result.status == zip::ReadStatus::ok;
    const bool claims_encryption =
        (e.flags & (zip::kFlagEncrypted | zip::kFlagStrongEncryption)) != 0;
    std::optional<bool> crc_ok;
    if (complete && should_checksum(e, result, bytes, format, claims_encryption)) {
      crc_ok = zip::crc32_of(bytes) == e.crc32;
    }
    // Clear data under an "encrypted" flag: miniz loads it, Python refuses (picklescan bypass).
    const bool really_encrypted = claims_encryption && !(crc_ok.value_or(false) && result.size_ok);
    if (really_encrypted) {
      report_.add(Severity::medium, "zip.encrypted", "member " + display(e) + " is encrypted",
                  e.header_offset);
      report_.add(Severity::high, "unscannable",
                  "member " + display(e) + " is encrypted; its contents could not be analysed",
                  e.data_offset);
    } else if (crc_ok == false) {
      report_.add(Severity::high, "zip.crc-mismatch",
                  "member " + display(e) + " does not match its CRC-32 (" + hex_number(e.crc32) +
                      "): Python's zipfile raises, PyTorch (CRC checks off) loads it anyway",
                  e.data_offset);
    }
    report_flags(e, really_encrypted);
    if (complete && !result.size_ok && !really_encrypted) {
      report_.add(Severity::medium, "zip.malformed",
                  "member " + display(e) + " holds " + std::to_string(bytes.size()) +
                      " bytes but declares " + std::to_string(e.uncompressed_size),
                  e.data_offset);
    }
  }

  // An unverified "encrypted" member counts as encrypted: too big to check means unscannable.
  bool should_checksum(const zip::Entry& e, const zip::ReadResult& result, ByteView bytes,
                       const std::string& format, bool claims_encryption) {
    if (result.content.owned()) return true;  // inflated anyway; the CRC is cheap beside it
    const bool parsed = format != "unknown";
    if (!claims_encryption && !parsed &&
        (bytes.size() > kCrcAlwaysBelow || is_torch_storage(e.name))) {
      return false;
    }
    if (crc_spent_ + bytes.size() > kCrcBudget) return false;
    crc_spent_ += bytes.size();
    return true;
  }

  void report_flags(const zip::Entry& e, bool really_encrypted) {
    const std::uint16_t odd = e.flags & zip::kFlagsUnusual;
    if (odd == 0) return;
    const std::uint16_t loader_split =
        zip::kFlagEncrypted | zip::kFlagPatched | zip::kFlagStrongEncryption;
    if ((odd & loader_split) != 0 && !really_encrypted) {
      report_.add(Severity::high, "zip.unusual-flags",
                  "member " + display(e) + " sets flag bit " + flag_bits(odd) +
                      " but its data is in clear: Python's zipfile refuses it, PyTorch's miniz "
                      "loads it; scanned as loaded",
                  e.header_offset);
    } else if ((odd & ~loader_split) != 0) {
      report_.add(
          Severity::medium, "zip.unusual-flags",
          "member " + display(e) + " sets undefined flag bit " + flag_bits(odd & ~loader_split),
          e.header_offset);
    }
  }

  void unreadable(const zip::Entry& e, const std::string& rule, const std::string& why) {
    report_.add(Severity::medium, rule, "member " + display(e) + " " + why, e.header_offset);
    if (e.method == 99) {
      report_.add(Severity::medium, "zip.encrypted", "member " + display(e) + " is AES-encrypted",
                  e.header_offset);
    }
    report_.add(Severity::high, "unscannable",
                "member " + display(e) + " could not be read; its contents were not analysed",
                e.data_offset);
  }

  static std::string member_name(const zip::Entry& e) {
    return e.hidden ? e.name + " <hidden@" + hex_number(e.header_offset) + ">" : e.name;
  }
  static std::string display(const zip::Entry& e) {
    std::string n;
    for (const char c : e.name.substr(0, 200)) {
      n += (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) ? '?' : c;
    }
    return "'" + n + "'" + (e.hidden ? " (hidden)" : "");
  }

  ByteView data_;
  const zip::Archive& archive_;
  ScanContext& ctx_;
  CappedReport report_;
  std::uint64_t crc_spent_ = 0;
};

class ZipScanner final : public Scanner {
 public:
  std::string_view format() const override { return "zip"; }

  // A zip with junk in front is still a zip to Python's zipfile, so the end record counts too,
  // unless the file is a tar or 7z: those are theirs even when their last member is a zip
  // (the archive scanner then scans that zip as a member).
  bool matches(ByteView data) const override {
    if (starts_with(data, std::string_view("PK\3\4", 4))) return true;
    if (magic::is_tar(data) || magic::is_7z(data)) return false;
    return zip::find_eocd(data).has_value();
  }

  void scan(ByteView data, ScanContext& ctx) const override {
    auto archive = zip::parse(data);
    if (!archive) {
      ctx.add(Severity::high, "unscannable", "zip structure unreadable: " + archive.error().message,
              archive.error().offset);
      return;
    }
    const std::string kind = classify(*archive);
    ctx.set_format(kind);
    if (kind == "pytorch-zip" || kind == "torchscript") {
      ctx.declare_member_loader(MemberLoader::torch);
    }
    ZipScan(data, *archive, ctx).run();
  }
};

}  // namespace

std::unique_ptr<Scanner> make_zip_scanner() {
  return std::make_unique<ZipScanner>();
}

}  // namespace mlsc::scan
