// The zip reader and zip scanner against archives built byte by byte (every way a zip can lie)
// and against the shared corpora's real samples (read as bytes; nothing is ever unpickled).
#include "mlsc/scan/zip_reader.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mlsc/scan/scanner.hpp"
#include "mlsc/scan/scanners.hpp"
#include "scan/archive_writer.hpp"

namespace mlsc::scan {
namespace {

// ---- building zips -----------------------------------------------------------------------

void put16(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 2; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put32(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put64(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}

std::uint32_t crc_of(const std::string& s) {
  return static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

std::string raw_deflate(const std::string& plain) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, plain.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  zs.avail_in = static_cast<uInt>(plain.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

struct Member {
  std::string name{};
  std::string plain{};  // what the member holds
  std::uint16_t method = 0;
  std::uint16_t flags = 0;
  std::optional<std::string> stored{};  // bytes written as data (default: plain, or deflated)
  std::optional<std::string> local_name{};
  std::optional<std::uint16_t> local_flags{};
  std::optional<std::uint32_t> crc{};  // declared CRC (default: the real one)
  std::optional<std::uint64_t> declared_csize{};
  bool listed = true;  // in the central directory
  bool zip64 = false;  // saturate sizes and offset, use zip64 extras
  bool descriptor = false;
  std::optional<std::size_t> same_offset_as{};  // central entry points at another member's header
};

struct Zip {
  std::string prefix{};
  std::vector<Member> members{};
  std::string comment{};
  std::optional<std::uint16_t> eocd_count{};
  bool zip64_end = false;
  bool python_offsets = false;  // with a prefix: offsets relative to the archive (self-extractor)
  std::string between_cd_and_end{};

  std::string build() const {
    std::string out = prefix;
    const std::uint64_t base = python_offsets ? prefix.size() : 0;
    std::vector<std::uint64_t> offsets;
    std::vector<std::string> datas;
    for (const auto& m : members) {
      const std::string data =
          m.stored ? *m.stored : (m.method == 8 ? raw_deflate(m.plain) : m.plain);
      datas.push_back(data);
      offsets.push_back(out.size() - base);
      out += local_header(m, data);
      out += data;
      if (m.descriptor) {
        put32(out, 0x08074b50);
        put32(out, m.crc.value_or(crc_of(m.plain)));
        put32(out, csize(m, data));
        put32(out, m.plain.size());
      }
    }
    const std::uint64_t cd_start = out.size() - base;
    std::size_t listed = 0;
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (!members[i].listed) continue;
      ++listed;
      const std::uint64_t off = offsets[members[i].same_offset_as.value_or(i)];
      out += central_header(members[i], datas[i], off);
    }
    const std::uint64_t cd_size = out.size() - base - cd_start;
    out += between_cd_and_end;
    if (zip64_end) {
      const std::uint64_t rec = out.size() - base;
      put32(out, 0x06064b50);
      put64(out, 44);
      put16(out, 45);
      put16(out, 45);
      put32(out, 0);
      put32(out, 0);
      put64(out, listed);
      put64(out, listed);
      put64(out, cd_size);
      put64(out, cd_start);
      put32(out, 0x07064b50);
      put32(out, 0);
      put64(out, rec);
      put32(out, 1);
    }
    put32(out, 0x06054b50);
    put16(out, 0);
    put16(out, 0);
    put16(out, zip64_end ? 0xFFFF : eocd_count.value_or(listed));
    put16(out, zip64_end ? 0xFFFF : eocd_count.value_or(listed));
    put32(out, zip64_end ? 0xFFFFFFFF : cd_size);
    put32(out, zip64_end ? 0xFFFFFFFF : cd_start);
    put16(out, comment.size());
    return out + comment;
  }

 private:
  static std::uint64_t csize(const Member& m, const std::string& data) {
    return m.declared_csize.value_or(data.size());
  }

  static std::string zip64_extra(std::initializer_list<std::uint64_t> values) {
    std::string e;
    put16(e, 1);
    put16(e, 8 * values.size());
    for (auto v : values) put64(e, v);
    return e;
  }

  static std::string local_header(const Member& m, const std::string& data) {
    const std::string name = m.local_name.value_or(m.name);
    const std::string extra = m.zip64 ? zip64_extra({m.plain.size(), csize(m, data)}) : "";
    std::string h;
    put32(h, 0x04034b50);
    put16(h, m.zip64 ? 45 : 20);
    put16(h, m.local_flags.value_or(m.flags));
    put16(h, m.method);
    put32(h, 0);
    put32(h, m.descriptor ? 0 : m.crc.value_or(crc_of(m.plain)));
    put32(h, m.descriptor ? 0 : m.zip64 ? 0xFFFFFFFF : csize(m, data));
    put32(h, m.descriptor ? 0 : m.zip64 ? 0xFFFFFFFF : m.plain.size());
    put16(h, name.size());
    put16(h, extra.size());
    return h + name + extra;
  }

  static std::string central_header(const Member& m, const std::string& data, std::uint64_t off) {
    const std::string extra = m.zip64 ? zip64_extra({m.plain.size(), csize(m, data), off}) : "";
    std::string h;
    put32(h, 0x02014b50);
    put16(h, 0x031E);
    put16(h, m.zip64 ? 45 : 20);
    put16(h, m.flags);
    put16(h, m.method);
    put32(h, 0);
    put32(h, m.crc.value_or(crc_of(m.plain)));
    put32(h, m.zip64 ? 0xFFFFFFFF : csize(m, data));
    put32(h, m.zip64 ? 0xFFFFFFFF : m.plain.size());
    put16(h, m.name.size());
    put16(h, extra.size());
    put16(h, 0);
    put16(h, 0);
    put16(h, 0);
    put32(h, 0);
    put32(h, m.zip64 ? 0xFFFFFFFF : off);
    return h + m.name + extra;
  }
};

// A protocol-4 pickle that calls builtins.eval (bytes only; never loaded).
const std::string kEvalPickle(
    "\x80\x04\x95\x28\x00\x00\x00\x00\x00\x00\x00\x8c\x08\x62\x75\x69\x6c\x74\x69\x6e\x73\x94"
    "\x8c\x04\x65\x76\x61\x6c\x94\x93\x94\x8c\x0c\x70\x72\x69\x6e\x74\x28\x27\x34\x35\x36\x27"
    "\x29\x94\x85\x94\x52\x94\x2e",
    51);

ByteView view(const std::string& s) {
  return as_bytes(s);
}

zip::Archive parse_ok(const std::string& bytes) {
  auto a = zip::parse(view(bytes));
  EXPECT_TRUE(a.has_value()) << (a ? "" : a.error().message);
  return a ? *a : zip::Archive{};
}

bool has_issue(const zip::Archive& a, zip::Issue issue) {
  for (const auto& x : a.anomalies) {
    if (x.issue == issue) return true;
  }
  return false;
}

std::size_t issue_count(const zip::Archive& a) {
  return a.anomalies.size();
}

std::string text(const zip::ReadResult& r) {
  return std::string(as_chars(r.content.bytes()));
}

// ---- the reader ----------------------------------------------------------------------------

TEST(ZipReader, StoredMemberIsAViewIntoTheInput) {
  const std::string z = Zip{.members = {{.name = "a/data.pkl", .plain = kEvalPickle}}}.build();
  const auto a = parse_ok(z);
  ASSERT_EQ(a.entries.size(), 1U);
  EXPECT_EQ(issue_count(a), 0U);
  const auto r = zip::read(view(z), a.entries[0], {});
  EXPECT_EQ(r.status, zip::ReadStatus::ok);
  EXPECT_FALSE(r.content.owned());
  EXPECT_GE(r.content.bytes().data(), view(z).data());
  EXPECT_LT(r.content.bytes().data(), view(z).data() + z.size());
  EXPECT_EQ(text(r), kEvalPickle);
  EXPECT_FALSE(r.crc_mismatch);
}

TEST(ZipReader, DeflatedMemberInflatesAndChecksItsCrc) {
  const std::string plain(5000, 'x');
  const std::string z = Zip{.members = {{.name = "x", .plain = plain, .method = 8}}}.build();
  const auto a = parse_ok(z);
  ASSERT_EQ(a.entries.size(), 1U);
  const auto r = zip::read(view(z), a.entries[0], {});
  EXPECT_EQ(r.status, zip::ReadStatus::ok);
  EXPECT_TRUE(r.content.owned());
  EXPECT_EQ(text(r), plain);
  EXPECT_FALSE(r.crc_mismatch);
  ASSERT_TRUE(r.actual_crc.has_value());
}

TEST(ZipReader, Bzip2AndLzmaMembers) {
  const std::string plain = kEvalPickle + std::string(2000, 'z');
  // Zip's LZMA framing: SDK version, properties size 5, properties, then the raw stream (the
  // .lzma header minus its 8-byte size field). Flag bit 1: the stream has an end marker.
  const std::string alone = test::compress(archive_write_add_filter_lzma, plain);
  const std::string zip_lzma =
      std::string("\x09\x14\x05\x00", 4) + alone.substr(0, 5) + alone.substr(13);
  const std::string z =
      Zip{.members = {{.name = "b",
                       .plain = plain,
                       .method = 12,
                       .stored = test::compress(archive_write_add_filter_bzip2, plain)},
                      {.name = "l", .plain = plain, .method = 14, .flags = 2, .stored = zip_lzma}}}
          .build();
  const auto a = parse_ok(z);
  ASSERT_EQ(a.entries.size(), 2U);
  for (const auto& e : a.entries) {
    const auto r = zip::read(view(z), e, {});
    EXPECT_EQ(r.status, zip::ReadStatus::ok) << e.name << ": " << r.detail;
    EXPECT_EQ(text(r), plain) << e.name;
    EXPECT_FALSE(r.crc_mismatch) << e.name;
  }
}

TEST(ZipReader, LocalAndCentralNamesThatDifferAreAMismatch) {
  const std::string z =
      Zip{.members = {{.name = "data.pkl", .plain = kEvalPickle, .local_name = "datap.kl"}}}
          .build();
  EXPECT_TRUE(has_issue(parse_ok(z), zip::Issue::header_mismatch));
}

TEST(ZipReader, LocalAndCentralFlagsThatDifferAreAMismatch) {
  const std::string z =
      Zip{.members = {{.name = "a", .plain = "hi", .flags = 0, .local_flags = 1}}}.build();
  EXPECT_TRUE(has_issue(parse_ok(z), zip::Issue::header_mismatch));
}

TEST(ZipReader, DuplicateNames) {
  const std::string z =
      Zip{.members = {{.name = "data.pkl", .plain = "a"}, {.name = "data.pkl", .plain = "b"}}}
          .build();
  EXPECT_TRUE(has_issue(parse_ok(z), zip::Issue::duplicate_entry));
}

TEST(ZipReader, TwoEntriesSharingALocalHeaderOverlap) {
  const std::string z = Zip{.members = {{.name = "a", .plain = "same"},
                                        {.name = "a", .plain = "same", .same_offset_as = 0}}}
                            .build();
  const auto a = parse_ok(z);
  EXPECT_TRUE(has_issue(a, zip::Issue::overlapping_entries));
}

TEST(ZipReader, DataRunningIntoTheCentralDirectoryOverlaps) {
  const std::string z =
      Zip{.members = {{.name = "a", .plain = "abcd", .declared_csize = 10}}}.build();
  EXPECT_TRUE(has_issue(parse_ok(z), zip::Issue::overlapping_entries));
}

TEST(ZipReader, UnlistedLocalEntryIsHidden) {
  const std::string z =
      Zip{.members = {{.name = "ok.txt", .plain = "fine"},
                      {.name = "evil.pkl", .plain = kEvalPickle, .listed = false}}}
          .build();
  const auto a = parse_ok(z);
  EXPECT_TRUE(has_issue(a, zip::Issue::hidden_entry));
  ASSERT_EQ(a.entries.size(), 2U);
  EXPECT_TRUE(a.entries[1].hidden);
  EXPECT_EQ(a.entries[1].name, "evil.pkl");
  EXPECT_EQ(text(zip::read(view(z), a.entries[1], {})), kEvalPickle);
}

TEST(ZipReader, HiddenEntryWithADataDescriptorIsSizedByIt) {
  const std::string z = Zip{.members = {{.name = "evil.pkl",
                                         .plain = kEvalPickle,
                                         .flags = 8,
                                         .listed = false,
                                         .descriptor = true},
                                        {.name = "ok.txt", .plain = "fine"}}}
                            .build();
  const auto a = parse_ok(z);
  ASSERT_EQ(a.entries.size(), 2U);
  EXPECT_TRUE(a.entries[1].hidden);
  EXPECT_EQ(a.entries[1].compressed_size, kEvalPickle.size());
  EXPECT_FALSE(has_issue(a, zip::Issue::overlapping_entries));
}

TEST(ZipReader, PrependedDataShiftsOffsetsLikePython) {
  const std::string z = Zip{.prefix = "#!/bin/sh\nexit 0\n",
                            .members = {{.name = "a.txt", .plain = "hello"}},
                            .python_offsets = true}
                            .build();
  const auto a = parse_ok(z);
  EXPECT_TRUE(has_issue(a, zip::Issue::prepended_data));
  EXPECT_EQ(a.archive_start, 17U);
  ASSERT_EQ(a.entries.size(), 1U);
  EXPECT_EQ(text(zip::read(view(z), a.entries[0], {})), "hello");
  EXPECT_FALSE(has_issue(a, zip::Issue::malformed));
}

TEST(ZipReader, PrependedDataWithAbsoluteOffsets) {
  const std::string z =
      Zip{.prefix = std::string(100, 'J'), .members = {{.name = "a.txt", .plain = "hello"}}}
          .build();
  const auto a = parse_ok(z);
  EXPECT_TRUE(has_issue(a, zip::Issue::prepended_data));
  EXPECT_EQ(a.archive_start, 100U);
  EXPECT_EQ(text(zip::read(view(z), a.entries.at(0), {})), "hello");
}

TEST(ZipReader, Zip64RecordsAndExtras) {
  const std::string z =
      Zip{.members = {{.name = "big", .plain = "zip64 data", .zip64 = true}}, .zip64_end = true}
          .build();
  const auto a = parse_ok(z);
  EXPECT_TRUE(a.zip64);
  EXPECT_EQ(issue_count(a), 0U) << a.anomalies[0].message;
  ASSERT_EQ(a.entries.size(), 1U);
  EXPECT_EQ(a.entries[0].compressed_size, 10U);
  const auto r = zip::read(view(z), a.entries[0], {});
  EXPECT_EQ(text(r), "zip64 data");
  EXPECT_FALSE(r.crc_mismatch);
}

TEST(ZipReader, TruncatedCentralDirectoryStillFindsLocalEntries) {
  std::string z = Zip{.members = {{.name = "a.pkl", .plain = kEvalPickle}}}.build();
  z.resize(z.size() - 30);  // cut into the central directory; the end record is gone
  const auto a = parse_ok(z);
  EXPECT_FALSE(a.has_central_directory);
  EXPECT_TRUE(has_issue(a, zip::Issue::malformed));
  ASSERT_EQ(a.entries.size(), 1U);
  EXPECT_EQ(text(zip::read(view(z), a.entries[0], {})), kEvalPickle);
}

TEST(ZipReader, EndRecordCountDisagreeingWithTheDirectory) {
  const std::string z =
      Zip{.members = {{.name = "a", .plain = "1"}, {.name = "b", .plain = "2"}}, .eocd_count = 1}
          .build();
  const auto a = parse_ok(z);
  EXPECT_TRUE(has_issue(a, zip::Issue::header_mismatch));
  EXPECT_EQ(a.entries.size(), 2U);  // Python reads by size and sees both
}

TEST(ZipReader, BadCrcIsDetected) {
  const std::string z =
      Zip{.members = {{.name = "data.pkl", .plain = kEvalPickle, .crc = 0x12345678}}}.build();
  const auto a = parse_ok(z);
  const auto r = zip::read(view(z), a.entries.at(0), {});
  EXPECT_TRUE(r.crc_mismatch);
}

TEST(ZipReader, HugeDeclaredSizeIsOutOfBoundsNotACrash) {
  const std::string z =
      Zip{.members = {{.name = "x", .plain = "abc", .declared_csize = 0xFFFFFFF0}}}.build();
  const auto a = parse_ok(z);
  EXPECT_TRUE(has_issue(a, zip::Issue::malformed));
  EXPECT_EQ(zip::read(view(z), a.entries.at(0), {}).status, zip::ReadStatus::out_of_bounds);
}

TEST(ZipReader, DeflateBombStopsAtTheLimit) {
  const std::string z =
      Zip{.members = {{.name = "bomb", .plain = std::string(8 << 20, '\0'), .method = 8}}}.build();
  EXPECT_LT(z.size(), 20000U);
  const auto a = parse_ok(z);
  zip::ReadOptions small;
  small.max_bytes = 1 << 20;
  const auto r = zip::read(view(z), a.entries.at(0), small);
  EXPECT_EQ(r.status, zip::ReadStatus::too_large);
  EXPECT_EQ(r.content.bytes().size(), 1U << 20);

  std::uint64_t charged = 0;
  zip::ReadOptions budget;
  budget.reserve = [&](std::uint64_t n) {
    charged += n;
    return charged <= (2U << 20);
  };
  EXPECT_EQ(zip::read(view(z), a.entries.at(0), budget).status, zip::ReadStatus::over_budget);
}

TEST(ZipReader, DataDescriptorEntriesParseCleanly) {
  const std::string z =
      Zip{.members = {{.name = "a", .plain = "one", .method = 8, .flags = 8, .descriptor = true},
                      {.name = "b", .plain = "two", .flags = 8, .descriptor = true}}}
          .build();
  const auto a = parse_ok(z);
  EXPECT_EQ(issue_count(a), 0U) << a.anomalies.at(0).message;
  EXPECT_EQ(text(zip::read(view(z), a.entries.at(0), {})), "one");
}

TEST(ZipReader, DescriptorCrcDisagreeingWithTheDirectory) {
  Zip zip{.members = {{.name = "a", .plain = "one", .flags = 8, .descriptor = true}}};
  std::string z = zip.build();
  // The descriptor's CRC sits 12 bytes after the data; corrupt it.
  const auto pos = z.find(std::string("PK\x07\x08", 4));
  ASSERT_NE(pos, std::string::npos);
  z[pos + 4] = static_cast<char>(z[pos + 4] ^ 0xFF);
  EXPECT_TRUE(has_issue(parse_ok(z), zip::Issue::header_mismatch));
}

TEST(ZipReader, SecondCentralDirectoryAtTheDeclaredOffset) {
  // miniz reads the directory where the end record says; Python reads the one just before the
  // end record and shifts offsets by the difference. Give each its own directory.
  const std::string decoy_zip =
      Zip{.members = {{.name = "data.pkl", .plain = std::string(200, 'd')}}}.build();
  const auto cd1 = decoy_zip.find(std::string("PK\x01\x02", 4));
  const auto end1 = decoy_zip.find(std::string("PK\x05\x06", 4));
  std::string z = decoy_zip.substr(0, end1);  // decoy entry + its directory at offset cd1
  const std::string evil_zip = Zip{.members = {{.name = "data.pkl", .plain = kEvalPickle}}}.build();
  const auto evil_cd = evil_zip.find(std::string("PK\x01\x02", 4));
  const std::uint64_t evil_pos = z.size();
  z += evil_zip.substr(0, evil_cd);
  std::string cd2 = evil_zip.substr(evil_cd, evil_zip.find(std::string("PK\x05\x06", 4)) - evil_cd);
  const std::uint64_t concat = z.size() - cd1;  // Python's shift
  std::string off;
  put32(off, evil_pos - concat);
  cd2.replace(42, 4, off);
  z += cd2;
  put32(z, 0x06054b50);
  put16(z, 0);
  put16(z, 0);
  put16(z, 1);
  put16(z, 1);
  put32(z, cd2.size());
  put32(z, cd1);
  put16(z, 0);
  const auto a = parse_ok(z);
  EXPECT_TRUE(has_issue(a, zip::Issue::header_mismatch));
  std::vector<std::string> contents;
  for (const auto& e : a.entries) contents.push_back(text(zip::read(view(z), e, {})));
  EXPECT_NE(std::find(contents.begin(), contents.end(), std::string(200, 'd')), contents.end());
  EXPECT_NE(std::find(contents.begin(), contents.end(), kEvalPickle), contents.end());
}

TEST(ZipReader, PathProblems) {
  EXPECT_EQ(zip::check_path("../../etc/passwd")->severity, Severity::high);
  EXPECT_EQ(zip::check_path("a/../../b")->severity, Severity::high);
  EXPECT_EQ(zip::check_path("/etc/passwd")->severity, Severity::high);
  EXPECT_EQ(zip::check_path("C:/x")->severity, Severity::high);
  EXPECT_EQ(zip::check_path(std::string("a\0b", 3))->severity, Severity::high);
  EXPECT_EQ(zip::check_path("a\\b")->severity, Severity::medium);
  EXPECT_EQ(zip::check_path("..\\x")->severity, Severity::high);
  EXPECT_FALSE(zip::check_path("archive/data/0").has_value());
  EXPECT_FALSE(zip::check_path("a..b/c..").has_value());
}

TEST(ZipReader, NotAZip) {
  EXPECT_FALSE(zip::parse(view("hello world")).has_value());
  EXPECT_FALSE(zip::find_eocd(view("hello world")).has_value());
  // An end-record signature followed by zeros inside other data is not an empty zip.
  std::string pickle_like = "\x80\x04junk" + std::string("PK\x05\x06", 4) + std::string(18, '\0');
  EXPECT_FALSE(zip::find_eocd(view(pickle_like)).has_value());
  EXPECT_TRUE(zip::find_eocd(view(Zip{}.build())).has_value());
}

TEST(ZipReader, EveryTruncationAndByteFlipIsSafe) {
  const std::string z =
      Zip{.members = {{.name = "a.pkl", .plain = kEvalPickle, .method = 8},
                      {.name = "b", .plain = "bee", .zip64 = true},
                      {.name = "c", .plain = "sea", .flags = 8, .descriptor = true}},
          .comment = "comment"}
          .build();
  zip::ReadOptions small;
  small.max_bytes = 4096;
  const auto exercise = [&](const std::string& bytes) {
    auto a = zip::parse(view(bytes));
    if (!a) return;
    for (const auto& e : a->entries) (void)zip::read(view(bytes), e, small);
  };
  for (std::size_t n = 0; n <= z.size(); ++n) exercise(z.substr(0, n));
  for (std::size_t i = 0; i < z.size(); ++i) {
    for (const unsigned char x : {0x01, 0x80, 0xFF}) {
      std::string m = z;
      m[i] = static_cast<char>(m[i] ^ x);
      exercise(m);
    }
  }
}

// ---- the scanner ---------------------------------------------------------------------------

// Records every member handed to content recognition (matches everything not a zip).
struct Seen {
  std::string member;
  std::string bytes;
};
class Probe final : public Scanner {
 public:
  explicit Probe(std::vector<Seen>* log) : log_(log) {}
  std::string_view format() const override { return "probe"; }
  bool matches(ByteView) const override { return true; }
  void scan(ByteView data, ScanContext& ctx) const override {
    log_->push_back({ctx.member(), std::string(as_chars(data))});
  }

 private:
  std::vector<Seen>* log_;
};

struct ProbeScan {
  std::vector<Seen> seen;
  Registry registry;
  ProbeScan() {
    registry.add(make_zip_scanner());
    registry.add(std::make_unique<Probe>(&seen));
  }
  FileReport scan(const std::string& bytes, ScanOptions options = {}) {
    return scan_bytes("t.zip", view(bytes), options, registry);
  }
  const Seen* find(std::string_view member) const {
    for (const auto& s : seen) {
      if (s.member == member) return &s;
    }
    return nullptr;
  }
};

std::optional<Severity> rule_severity(const FileReport& r, std::string_view rule) {
  std::optional<Severity> worst;
  for (const auto& f : r.findings) {
    if (f.rule == rule) worst = std::max(worst.value_or(Severity::none), f.severity);
  }
  return worst;
}

TEST(ZipScanner, EncryptedFlagOnClearDataIsReportedAndStillScanned) {
  for (const std::uint16_t flag : {0x1, 0x20, 0x40}) {
    ProbeScan p;
    const auto r =
        p.scan(Zip{.members = {{.name = "model/config.pkl", .plain = kEvalPickle, .flags = flag}}}
                   .build());
    EXPECT_EQ(rule_severity(r, "zip.unusual-flags"), Severity::high) << flag;
    EXPECT_FALSE(rule_severity(r, "zip.encrypted").has_value()) << flag;
    const Seen* s = p.find("model/config.pkl");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->bytes, kEvalPickle);
  }
}

TEST(ZipScanner, UndefinedFlagBitsAreMedium) {
  ProbeScan p;
  const auto r = p.scan(Zip{.members = {{.name = "a", .plain = "x", .flags = 0x0100}}}.build());
  EXPECT_EQ(rule_severity(r, "zip.unusual-flags"), Severity::medium);
}

TEST(ZipScanner, HiddenAndPrependedBytesAreScanned) {
  ProbeScan p;
  const auto r =
      p.scan(Zip{.prefix = kEvalPickle,
                 .members = {{.name = "ok", .plain = "fine"},
                             {.name = "evil.pkl", .plain = kEvalPickle, .listed = false}}}
                 .build());
  EXPECT_EQ(rule_severity(r, "zip.hidden-entry"), Severity::high);
  EXPECT_EQ(rule_severity(r, "zip.prepended-data"), Severity::high);
  ASSERT_NE(p.find("<prepended>"), nullptr);
  EXPECT_EQ(p.find("<prepended>")->bytes, kEvalPickle);
  bool hidden_seen = false;
  for (const auto& s : p.seen) hidden_seen |= s.member.rfind("evil.pkl <hidden@", 0) == 0;
  EXPECT_TRUE(hidden_seen);
}

TEST(ZipScanner, CrcMismatchAndUnsupportedCompression) {
  ProbeScan p;
  auto r = p.scan(Zip{.members = {{.name = "d.pkl", .plain = kEvalPickle, .crc = 1}}}.build());
  EXPECT_EQ(rule_severity(r, "zip.crc-mismatch"), Severity::high);
  r = p.scan(Zip{.members = {{.name = "d.pkl", .plain = "x", .method = 9}}}.build());
  EXPECT_TRUE(rule_severity(r, "zip.unsupported-compression").has_value());
  EXPECT_EQ(rule_severity(r, "unscannable"), Severity::high);
}

TEST(ZipScanner, BombAndBudgetAreUnscannable) {
  ProbeScan p;
  ScanOptions options;
  options.limits.max_member_bytes = 1 << 20;
  const std::string bomb =
      Zip{.members = {{.name = "bomb", .plain = std::string(4 << 20, '\0'), .method = 8}}}.build();
  EXPECT_EQ(rule_severity(p.scan(bomb, options), "unscannable"), Severity::high);
  ScanOptions budget;
  budget.limits.max_inflated_per_file = 1 << 20;
  EXPECT_EQ(rule_severity(p.scan(bomb, budget), "unscannable"), Severity::high);
}

TEST(ZipScanner, FormatNames) {
  ProbeScan p;
  EXPECT_EQ(p.scan(Zip{.members = {{.name = "anything/data.pkl", .plain = "x"},
                                   {.name = "anything/data/0", .plain = "1234"}}}
                       .build())
                .format,
            "pytorch-zip");
  EXPECT_EQ(p.scan(Zip{.members = {{.name = "m/data.pkl", .plain = "x"},
                                   {.name = "m/constants.pkl", .plain = "y"}}}
                       .build())
                .format,
            "torchscript");
  EXPECT_EQ(p.scan(Zip{.members = {{.name = "a.npy", .plain = "x"}}}.build()).format, "numpy-npz");
  EXPECT_EQ(p.scan(Zip{.members = {{.name = "config.json", .plain = "{}"},
                                   {.name = "model.weights.h5", .plain = "h"}}}
                       .build())
                .format,
            "keras");
  EXPECT_EQ(p.scan(Zip{.members = {{.name = "readme", .plain = "x"}}}.build()).format, "zip");
}

TEST(ZipScanner, NestedZipIsRecognisedByContent) {
  ProbeScan p;
  const std::string inner = Zip{.members = {{.name = "deep.pkl", .plain = kEvalPickle}}}.build();
  p.scan(Zip{.members = {{.name = "inner.bin", .plain = inner, .method = 8}}}.build());
  ASSERT_NE(p.find("inner.bin!deep.pkl"), nullptr);
  EXPECT_EQ(p.find("inner.bin!deep.pkl")->bytes, kEvalPickle);
}

// ---- the shared corpora --------------------------------------------------------------------

std::optional<std::string> corpus_file(const std::string& rel) {
  const std::filesystem::path path = std::filesystem::path(MLSC_SHARED_DIR) / "corpora" / rel;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

#define LOAD_OR_SKIP(var, rel)                                            \
  const auto var##_opt = corpus_file(rel);                                \
  if (!var##_opt) GTEST_SKIP() << "shared corpus not available: " << rel; \
  const std::string& var = *var##_opt

TEST(ZipCorpus, PicklescanFlagTricks) {
  for (const char* f :
       {"picklescan/files/data/malicious1_0x1.zip", "picklescan/files/data/malicious1_0x20.zip",
        "picklescan/files/data/malicious1_0x40.zip"}) {
    LOAD_OR_SKIP(bytes, f);
    ProbeScan p;
    const auto r = p.scan(bytes);
    EXPECT_EQ(rule_severity(r, "zip.unusual-flags"), Severity::high) << f;
    ASSERT_NE(p.find("model/config.pkl"), nullptr) << f;
    EXPECT_EQ(p.find("model/config.pkl")->bytes.size(), 51U);
  }
}

TEST(ZipCorpus, PicklescanHeaderAndCrcTricks) {
  {
    LOAD_OR_SKIP(bytes, "picklescan/files/data/malicious1_central_directory.zip");
    ProbeScan p;
    EXPECT_EQ(rule_severity(p.scan(bytes), "zip.header-mismatch"), Severity::high);
    EXPECT_NE(p.find("data.pkl"), nullptr);
  }
  {
    LOAD_OR_SKIP(bytes, "picklescan/files/data2/malicious1_crc.zip");
    ProbeScan p;
    EXPECT_EQ(rule_severity(p.scan(bytes), "zip.crc-mismatch"), Severity::high);
    EXPECT_NE(p.find("data.pkl"), nullptr);
  }
}

TEST(ZipCorpus, PasswordProtectedZipIsUnscannable) {
  LOAD_OR_SKIP(bytes, "picklescan/files/data/benign_password_protected.zip");
  ProbeScan p;
  const auto r = p.scan(bytes);
  EXPECT_TRUE(rule_severity(r, "zip.encrypted").has_value());
  EXPECT_EQ(rule_severity(r, "unscannable"), Severity::high);
  EXPECT_FALSE(rule_severity(r, "zip.unusual-flags").has_value());
}

TEST(ZipCorpus, CleanArchivesHaveNoZipFindings) {
  for (const char* f :
       {"picklescan/files/data/malicious1.zip", "picklescan/files/data/malicious1_wrong_ext.zip",
        "picklescan/files/data/new_pytorch_model.bin", "picklescan/files/data2/int_arrays.npz",
        "picklescan/files/data2/int_arrays_compressed.npz",
        "picklescan/files/data2/object_arrays.npz",
        "picklescan/files/data2/object_arrays_compressed.npz",
        "modelaudit/files/samples/archives/safe_model.zip"}) {
    LOAD_OR_SKIP(bytes, f);
    ProbeScan p;
    const auto r = p.scan(bytes);
    EXPECT_TRUE(r.findings.empty()) << f << ": " << r.findings.at(0).rule;
    EXPECT_FALSE(p.seen.empty()) << f;
  }
}

TEST(ZipCorpus, FormatsOfRealSamples) {
  const std::pair<const char*, const char*> cases[] = {
      {"picklescan/files/data/new_pytorch_model.bin", "pytorch-zip"},
      {"picklescan/files/data2/int_arrays_compressed.npz", "numpy-npz"},
      {"modelaudit/files/samples/pytorch/malicious_eval.pt", "pytorch-zip"},
      {"modelaudit/files/samples/archives/safe_model.zip", "zip"},
  };
  for (const auto& [f, format] : cases) {
    LOAD_OR_SKIP(bytes, f);
    ProbeScan p;
    EXPECT_EQ(p.scan(bytes).format, format) << f;
  }
}

TEST(ZipCorpus, ModelauditPathTraversal) {
  LOAD_OR_SKIP(bytes, "modelaudit/files/samples/archives/path_traversal.zip");
  ProbeScan p;
  EXPECT_EQ(rule_severity(p.scan(bytes), "zip.path-traversal"), Severity::high);
  EXPECT_NE(p.find("model/malicious.pkl"), nullptr);
}

}  // namespace
}  // namespace mlsc::scan
