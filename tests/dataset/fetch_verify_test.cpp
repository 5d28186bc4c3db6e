// The split-view poisoning defence: content is accepted for a URL only with the recorded hash.
#include "mlsc/dataset/fetch_verify.hpp"

#include <gtest/gtest.h>

#include "../sign/sign_test_util.hpp"

namespace mlsc::dataset {
namespace {

using sign::testing::ScratchDir;
using sign::testing::write_file;

const std::string kHello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const std::string kWorld = "486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7";

DatasetManifest two_urls() {
  DatasetManifest m;
  m.name = "urls";
  m.records = {{"https://x/1.jpg", kHello, {}, ""}, {"https://x/2.jpg", kWorld, {}, "imgs/2.jpg"}};
  EXPECT_TRUE(finalize(m));
  return m;
}

TEST(FetchVerifier, AcceptsOnlyTheRecordedContent) {
  const FetchVerifier v(two_urls());
  EXPECT_TRUE(v.verify_fetched("https://x/1.jpg", as_bytes("hello")).ok());
  const auto changed = v.verify_fetched("https://x/1.jpg", as_bytes("hello, poisoned"));
  EXPECT_EQ(changed.status, FetchStatus::changed);
  EXPECT_EQ(changed.expected, kHello);
  const auto unlisted = v.verify_fetched("https://x/3.jpg", as_bytes("hello"));
  EXPECT_EQ(unlisted.status, FetchStatus::not_listed);
  // URLs are compared as recorded bytes: another spelling is another item.
  EXPECT_EQ(v.verify_fetched("https://X/1.jpg", as_bytes("hello")).status, FetchStatus::not_listed);
}

TEST(FetchedName, IsTheSha256OfTheUrlBytes) {
  // sha256("https://x.example/1.jpg"), computed with Python hashlib.
  EXPECT_EQ(fetched_name("https://x.example/1.jpg"),
            "7c384b60e9f795edb1fa679e3b4dba2fc4f8a9fe5e8c7a7a7367e9d699641ab3");
}

TEST(FetchDir, RefusesChangedMissingAndUnlistedContent) {
  ScratchDir d;
  const auto m = two_urls();
  write_file(d.path() / fetched_name("https://x/1.jpg"), "hello");
  write_file(d.path() / "imgs" / "2.jpg", "world");
  auto ok = verify_fetch_dir(m, d.path(), 2);
  ASSERT_TRUE(ok) << ok.error().describe();
  EXPECT_TRUE(ok->ok());
  EXPECT_EQ(ok->accepted, 2U);

  write_file(d.path() / "imgs" / "2.jpg", "w0rld");  // the server now sends other bytes
  std::filesystem::remove(d.path() / fetched_name("https://x/1.jpg"));
  write_file(d.path() / "stray.bin", "x");
  auto bad = verify_fetch_dir(m, d.path(), 2);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->accepted, 0U);
  EXPECT_EQ(bad->refused, 3U);
  std::vector<std::string> seen;
  for (const auto& v : bad->verdicts)
    seen.push_back(std::string(to_string(v.status)) + " " + v.url);
  EXPECT_EQ(seen, (std::vector<std::string>{"missing https://x/1.jpg", "changed https://x/2.jpg",
                                            "not-listed stray.bin"}));
}

}  // namespace
}  // namespace mlsc::dataset
