// 7z/tar (libarchive) and single compressed streams: archives written by libarchive and 7-Zip,
// the legacy PyTorch tar layout walked pickle by pickle, and hostile variants (bombs, encrypted
// members, traversal names, truncated streams).
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "mlsc/scan/scanner.hpp"
#include "mlsc/scan/scanners.hpp"
#include "scan/archive_writer.hpp"
#include "scan/decompress.hpp"

namespace mlsc::scan {
namespace {

using test::ArchiveFile;

struct Seen {
  std::string member;
  std::string bytes;
  const std::uint8_t* data = nullptr;
};

// Stands in for every non-container scanner: records what content recognition was given.
class Probe final : public Scanner {
 public:
  explicit Probe(std::vector<Seen>* log) : log_(log) {}
  std::string_view format() const override { return "probe"; }
  bool matches(ByteView) const override { return true; }
  void scan(ByteView data, ScanContext& ctx) const override {
    log_->push_back({ctx.member(), std::string(as_chars(data)), data.data()});
  }

 private:
  std::vector<Seen>* log_;
};

struct ProbeScan {
  std::vector<Seen> seen;
  Registry registry;
  ProbeScan() {
    registry.add(make_zip_scanner());
    registry.add(make_archive_scanner());
    registry.add(make_compressed_scanner());
    registry.add(std::make_unique<Probe>(&seen));
  }
  FileReport scan(const std::string& bytes, const ScanOptions& options = {}) {
    return scan_bytes("t", as_bytes(bytes), options, registry);
  }
  const Seen* find(std::string_view member) const {
    for (const auto& s : seen) {
      if (s.member == member) return &s;
    }
    return nullptr;
  }
  bool saw_prefix(std::string_view prefix) const {
    for (const auto& s : seen) {
      if (s.member.rfind(prefix, 0) == 0) return true;
    }
    return false;
  }
};

std::optional<Severity> rule_severity(const FileReport& r, std::string_view rule) {
  std::optional<Severity> worst;
  for (const auto& f : r.findings) {
    if (f.rule == rule) worst = std::max(worst.value_or(Severity::none), f.severity);
  }
  return worst;
}

std::optional<std::string> corpus_file(const std::string& rel) {
  std::ifstream in(std::filesystem::path(MLSC_SHARED_DIR) / "corpora" / rel, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

const std::string kPickle("\x80\x02K\x2a.", 5);  // the int 42

// ---- tar and 7z ----------------------------------------------------------------------------

TEST(ArchiveScanner, TarMembersAreScannedWithoutCopying) {
  const std::string tar = test::write_tar({{"model/a.pkl", kPickle}, {"b.txt", "hello"}});
  ProbeScan p;
  const auto r = p.scan(tar);
  EXPECT_EQ(r.format, "tar");
  EXPECT_TRUE(r.findings.empty());
  const Seen* a = p.find("model/a.pkl");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->bytes, kPickle);
  // Uncompressed tar from memory: the member is a view into the input.
  const auto* base = reinterpret_cast<const std::uint8_t*>(tar.data());
  EXPECT_TRUE(a->data >= base && a->data < base + tar.size());
  EXPECT_NE(p.find("b.txt"), nullptr);
}

TEST(ArchiveScanner, SevenZipWrittenByLibarchive) {
  const std::string sz =
      test::write_archive([](archive* a) { archive_write_set_format_7zip(a); },
                          {{"data.pkl", kPickle}, {"x/y.bin", std::string(1000, 'y')}});
  ProbeScan p;
  const auto r = p.scan(sz);
  EXPECT_EQ(r.format, "7z");
  EXPECT_TRUE(r.findings.empty());
  ASSERT_NE(p.find("data.pkl"), nullptr);
  EXPECT_EQ(p.find("data.pkl")->bytes, kPickle);
  EXPECT_EQ(p.find("x/y.bin")->bytes, std::string(1000, 'y'));
}

TEST(ArchiveScanner, TarGzIsDecompressedThenReadAsTar) {
  const std::string tgz = test::write_archive(
      [](archive* a) {
        archive_write_set_format_pax_restricted(a);
        archive_write_add_filter_gzip(a);
      },
      {{"inner.pkl", kPickle}});
  ProbeScan p;
  const auto r = p.scan(tgz);
  EXPECT_EQ(r.format, "tar");  // a compression wrapper takes its content's name
  ASSERT_NE(p.find("<gzip-content>!inner.pkl"), nullptr);
  EXPECT_EQ(p.find("<gzip-content>!inner.pkl")->bytes, kPickle);
}

TEST(ArchiveScanner, TarEndingInAZipStaysATar) {
  // The inner zip's end record lies near the end of the tar, so Python's zipfile would open the
  // tar as a zip with 512 prepended bytes; torch.load and tarfile read it as a tar.
  const std::string inner = test::write_archive([](archive* a) { archive_write_set_format_zip(a); },
                                                {{"archive/data.pkl", kPickle}});
  ProbeScan p;
  const auto r = p.scan(test::write_tar({{"checkpoint/model.pt", inner}}));
  EXPECT_EQ(r.format, "tar");
  EXPECT_TRUE(r.findings.empty()) << r.findings.at(0).message;
  ASSERT_NE(p.find("checkpoint/model.pt!archive/data.pkl"), nullptr);
}

TEST(ArchiveScanner, TraversalNamesLinksAndDuplicates) {
  ProbeScan p;
  const auto r = p.scan(test::write_tar({{"../../etc/cron.d/x", "evil"},
                                         {"link", "", AE_IFLNK, "/etc/passwd"},
                                         {"dup", "1"},
                                         {"dup", "2"}}));
  EXPECT_EQ(rule_severity(r, "archive.path-traversal"), Severity::high);
  EXPECT_EQ(rule_severity(r, "archive.duplicate-entry"), Severity::medium);
  int dups = 0;
  for (const auto& s : p.seen) dups += s.member == "dup";
  EXPECT_EQ(dups, 2);  // both copies are scanned
}

TEST(ArchiveScanner, EncryptedSevenZipIsUnscannable) {
  // `7z a -pSECRET -mhe=off` and `-mhe=on` of a 15-byte text file.
  const std::string data_encrypted = test::from_hex(
      "377abcaf271c0004221fcdcc20000000000000006a0000000000000097e802e8bcb3e681ca6faff2e7c9"
      "a8741b259808d64fa0e59160a4cccbf36a6102745a9c0104060001092000070b0100022406f107011253"
      "0f4408d6bb8328d32cad9de3e8e3b71a1d2121010001000c130f00080a01ea470fba0000050119010011"
      "130074006500730074002e0074007800740000001900140a0100207533943c7bdd01150601002080a481"
      "0000");
  const std::string header_encrypted = test::from_hex(
      "377abcaf271c00044ff6d7e890000000000000002e000000000000002ff253291ab0e323ac135909ba9f"
      "700d122c2e933a2eeee6ca9a201e800567d671a7d243624fc0a86cac2a1eac62bf48bebce8fa7b692ce3"
      "48bc4632bd65d901b9adb61fca3462791ace70d9121ecf93638492f7e1f022bba84f8c5db71ed0242a96"
      "eb99b354e7619299220b2da4ec9cfd6f428991a442d4eedf14c85fcfaea080a7cb4c592af8ff684d2940"
      "0a9435dd93f2403a17062001097000070b0100012406f1070112530f2a937babb1d0bb234d06be7317b5"
      "a1110c6a0a01cae1c6a10000");
  for (const auto& bytes : {data_encrypted, header_encrypted}) {
    ProbeScan p;
    const auto r = p.scan(bytes);
    EXPECT_EQ(r.format, "7z");
    EXPECT_EQ(rule_severity(r, "unscannable"), Severity::high);
  }
}

TEST(ArchiveScanner, MemberOverTheLimitIsUnscannable) {
  const std::string sz = test::write_archive([](archive* a) { archive_write_set_format_7zip(a); },
                                             {{"big", std::string(3 << 20, '\0')}});
  ScanOptions options;
  options.limits.max_member_bytes = 1 << 20;
  ProbeScan p;
  EXPECT_EQ(rule_severity(p.scan(sz, options), "unscannable"), Severity::high);
  ScanOptions budget;
  budget.limits.max_inflated_per_file = 1 << 20;
  EXPECT_EQ(rule_severity(p.scan(sz, budget), "unscannable"), Severity::high);
}

TEST(ArchiveScanner, PicklescanSevenZip) {
  const auto bytes = corpus_file("picklescan/files/data/malicious1.7z");
  if (!bytes) GTEST_SKIP() << "shared corpus not available";
  ProbeScan p;
  const auto r = p.scan(*bytes);
  EXPECT_EQ(r.format, "7z");
  EXPECT_TRUE(r.findings.empty());
  ASSERT_NE(p.find("data.pkl"), nullptr);
  EXPECT_EQ(p.find("data.pkl")->bytes.size(), 51U);
  EXPECT_EQ(p.find("data.pkl")->bytes.substr(0, 2), std::string("\x80\x04", 2));
}

TEST(ArchiveScanner, NotArchives) {
  const auto scanner = make_archive_scanner();
  EXPECT_FALSE(scanner->matches(as_bytes(std::string(600, 'a'))));
  EXPECT_FALSE(scanner->matches(as_bytes(kPickle)));
  EXPECT_TRUE(scanner->matches(as_bytes(test::write_tar({{"a", "b"}}))));
}

// ---- legacy PyTorch tar ----------------------------------------------------------------------

std::string le(std::uint64_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
  return s;
}
std::string unicode(const std::string& s) {
  return "X" + le(s.size(), 4) + s;
}
std::string count_pickle(int n) {
  return std::string("\x80\x02K", 3) + static_cast<char>(n) + ".";
}

// (key, location, storage type) as torch's legacy _save wrote it.
std::string storage_header(const std::string& key, const std::string& location_ops) {
  return std::string("\x80\x02", 2) + unicode(key) + location_ops + "ctorch\nFloatStorage\n\x87.";
}

std::string tensor_record(std::int64_t size) {
  return std::string("\x80\x02", 2) + unicode("t0") + unicode("s0") + "ctorch\nFloatTensor\n\x87." +
         le(1, 4) + le(0, 4) + le(size, 8) + le(1, 8) + le(0, 8);
}

std::string legacy_tar(const std::string& storages) {
  const std::string tensors = count_pickle(1) + tensor_record(2);
  const std::string main = std::string("\x80\x02", 2) + unicode("t0") + "Q.";  // persistent id
  const std::string sys_info = std::string("\x80\x02}q\x00.", 6);
  return test::write_tar(
      {{"sys_info", sys_info}, {"pickle", main}, {"tensors", tensors}, {"storages", storages}});
}

TEST(LegacyTorchTar, StoragesAndTensorsAreWalkedPickleByPickle) {
  const std::string storages = count_pickle(2) + storage_header("s0", unicode("cpu")) + le(2, 8) +
                               std::string(8, '\x01') + storage_header("s1", unicode("cpu")) +
                               le(3, 8) + std::string(12, '\x02') + "\x80\x02].";
  ProbeScan p;
  const auto r = p.scan(legacy_tar(storages));
  EXPECT_EQ(r.format, "pytorch-legacy-tar");
  EXPECT_FALSE(rule_severity(r, "unscannable").has_value()) << r.findings.at(0).message;
  EXPECT_NE(p.find("pickle"), nullptr);
  EXPECT_NE(p.find("sys_info"), nullptr);
  EXPECT_NE(p.find("<storages@0x0>"), nullptr);
  // The second storage header sits after the first storage's 8 raw bytes.
  const std::uint64_t second =
      count_pickle(2).size() + storage_header("s0", unicode("cpu")).size() + 16;
  std::ostringstream name;
  name << "<storages@0x" << std::hex << second << ">";
  EXPECT_NE(p.find(name.str()), nullptr) << name.str();
  EXPECT_TRUE(p.saw_prefix("<tensors@"));
}

TEST(LegacyTorchTar, LayoutMismatchFallsBackAndIsUnscannable) {
  const std::string storages = count_pickle(1) + storage_header("s0", unicode("cpu")) + le(1000, 8);
  ProbeScan p;
  const auto r = p.scan(legacy_tar(storages));
  EXPECT_EQ(r.format, "pytorch-legacy-tar");
  EXPECT_EQ(rule_severity(r, "unscannable"), Severity::high);
}

TEST(LegacyTorchTar, PayloadInALaterStorageHeaderIsFound) {
  // The second storage's location is os.system('id'): torch.load runs it while reading storages.
  const std::string evil_location = "cos\nsystem\n" + unicode("id") + "\x85R";
  const std::string storages = count_pickle(2) + storage_header("s0", unicode("cpu")) + le(2, 8) +
                               std::string(8, '\0') + storage_header("s1", evil_location) +
                               le(1, 8) + std::string(4, '\0') + "\x80\x02].";
  const auto r = scan_bytes("legacy.tar", as_bytes(legacy_tar(storages)), ScanOptions{});
  EXPECT_EQ(r.format, "pytorch-legacy-tar");
  bool found = false;
  for (const auto& i : r.imports) {
    found |=
        i.module == "os" && i.name == "system" && i.member.find("<storages@") != std::string::npos;
  }
  EXPECT_TRUE(found);
  EXPECT_GE(r.max_severity(), Severity::high);
}

// ---- single compressed streams -------------------------------------------------------------

std::string zlib_compress(const std::string& s) {
  uLongf n = compressBound(static_cast<uLong>(s.size()));
  std::string out(n, '\0');
  EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(out.data()), &n,
                      reinterpret_cast<const Bytef*>(s.data()), static_cast<uLong>(s.size()), 6),
            Z_OK);
  out.resize(n);
  return out;
}

TEST(CompressedScanner, EveryCodecReachesItsContent) {
  const std::string payload = kPickle + std::string(3000, 'p');
  const std::pair<std::string, std::string> cases[] = {
      {"gzip", test::compress(archive_write_add_filter_gzip, payload)},
      {"bzip2", test::compress(archive_write_add_filter_bzip2, payload)},
      {"xz", test::compress(archive_write_add_filter_xz, payload)},
      {"lzma", test::compress(archive_write_add_filter_lzma, payload)},
      {"lz4", test::compress(archive_write_add_filter_lz4, payload)},
      {"zstd", test::compress(archive_write_add_filter_zstd, payload)},
      {"zlib", zlib_compress(payload)},
      {"joblib-zf", "ZF" + std::string("0xbb9              ") + zlib_compress(payload)},
  };
  for (const auto& [codec, bytes] : cases) {
    ProbeScan p;
    const auto r = p.scan(bytes);
    EXPECT_TRUE(r.findings.empty()) << codec << ": " << r.findings.at(0).message;
    const Seen* s = p.find("<" + codec + "-content>");
    ASSERT_NE(s, nullptr) << codec;
    EXPECT_EQ(s->bytes, payload) << codec;
    EXPECT_EQ(r.format, "probe") << codec;  // the wrapper is named after its content
  }
}

TEST(CompressedScanner, TextAndRandomBytesAreNotStreams) {
  const auto scanner = make_compressed_scanner();
  EXPECT_FALSE(scanner->matches(as_bytes(std::string("x^2 + y^2 = z^2, a plain text file"))));
  EXPECT_FALSE(scanner->matches(as_bytes(std::string("]q\x00(K\x01K\x02e.", 10))));  // pickle list
  EXPECT_FALSE(scanner->matches(as_bytes(std::string("ZF not a joblib header at all"))));
  EXPECT_FALSE(scanner->matches(as_bytes(std::string(64, '\0'))));
}

TEST(CompressedScanner, BombsAndTruncationAreUnscannable) {
  const std::string bomb =
      test::compress(archive_write_add_filter_gzip, std::string(4 << 20, '\0'));
  ScanOptions options;
  options.limits.max_member_bytes = 1 << 20;
  ProbeScan p;
  EXPECT_EQ(rule_severity(p.scan(bomb, options), "unscannable"), Severity::high);

  std::string cut = test::compress(archive_write_add_filter_xz, kPickle + std::string(5000, 'q'));
  cut.resize(cut.size() / 2);
  ProbeScan q;
  EXPECT_EQ(rule_severity(q.scan(cut), "unscannable"), Severity::high);
}

TEST(Decompress, RatioCapStopsABomb) {
  const std::string bomb = test::compress(archive_write_add_filter_xz, std::string(8 << 20, '\0'));
  decompress::Bounds bounds;
  bounds.ratio_floor = 1 << 20;
  bounds.max_ratio = 100;
  const auto r = decompress::via_libarchive(as_bytes(bomb), bounds);
  EXPECT_EQ(r.status, decompress::Status::ratio_exceeded);
  EXPECT_LT(r.bytes.size(), 8U << 20);
}

TEST(Decompress, BudgetIsChargedAsBytesAreProduced) {
  const std::string z = zlib_compress(std::string(1 << 20, 'a'));
  std::uint64_t charged = 0;
  decompress::Bounds bounds;
  bounds.reserve = [&](std::uint64_t n) {
    charged += n;
    return true;
  };
  const auto r = decompress::inflate_zlib(as_bytes(z), bounds);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(charged, 1U << 20);
}

}  // namespace
}  // namespace mlsc::scan
