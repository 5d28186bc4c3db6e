#include "scan/hdf5_probe.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

namespace mlsc::scan::hdf5 {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const std::string kSample =
    std::string(MLSC_SHARED_DIR) + "/corpora/modelaudit/files/samples/keras/safe_model.h5";

TEST(Hdf5, FindsTheSignatureAtZeroOrAfterAUserBlock) {
  const std::string sig(kSignature);
  EXPECT_EQ(find_signature(as_bytes(sig + std::string(100, '\0'))), 0U);
  EXPECT_EQ(find_signature(as_bytes(std::string(512, 'x') + sig)), 512U);
  EXPECT_EQ(find_signature(as_bytes(std::string(2048, 'x') + sig)), 2048U);
  EXPECT_FALSE(find_signature(as_bytes(std::string(100, 'x') + sig)));  // not a power of two
  EXPECT_FALSE(find_signature({}));
}

TEST(Hdf5, SuperblockCheckCatchesTruncation) {
  const std::string file = read_file(kSample);
  ASSERT_GT(file.size(), 1000U);
  auto ok = check_superblock(as_bytes(file));
  ASSERT_TRUE(ok) << ok.error().describe();
  EXPECT_EQ(ok->end, file.size());
  auto cut = check_superblock(as_bytes(std::string_view(file).substr(0, file.size() / 2)));
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().message.find("truncated"), std::string::npos);
  std::string bad_version = file;
  bad_version[8] = 9;
  EXPECT_FALSE(check_superblock(as_bytes(bad_version)));
  EXPECT_FALSE(check_superblock(as_bytes(std::string_view(file).substr(0, 12))));
}

TEST(Hdf5, ProbeReadsKerasAttributesInAChildProcess) {
  const std::string file = read_file(kSample);
  auto p = probe(as_bytes(file));
  ASSERT_TRUE(p) << p.error().describe();
  EXPECT_TRUE(p->open_error.empty());
  bool found = false;
  for (const auto& a : p->attributes) {
    if (a.object == "/" && a.name == "model_config") {
      found = true;
      EXPECT_NE(a.value.find("\"Sequential\""), std::string::npos);
    }
  }
  EXPECT_TRUE(found);
}

TEST(Hdf5, ProbeOfGarbageIsAnOpenErrorNotACrash) {
  std::string file = read_file(kSample);
  for (std::size_t i = 96; i < file.size(); ++i) file[i] = static_cast<char>(i * 131 + 7);
  auto p = probe(as_bytes(file));
  if (p) {
    EXPECT_FALSE(p->open_error.empty());
  } else {
    EXPECT_FALSE(p.error().message.empty());  // a crash or limit in the child is an answer too
  }
}

TEST(Hdf5, ProbeCapsTheAttributeTextItReads) {
  const std::string file = read_file(kSample);
  ProbeLimits limits;
  limits.max_output_bytes = 8;
  auto p = probe(as_bytes(file), limits);
  ASSERT_TRUE(p) << p.error().describe();
  ASSERT_FALSE(p->attributes.empty());
  EXPECT_LE(p->attributes[0].value.size(), 8U);
  EXPECT_TRUE(p->attributes[0].truncated);
}

}  // namespace
}  // namespace mlsc::scan::hdf5
