// libFuzzer target: the Croissant reader, then matching, checking and updating its FileObjects
// against a small fixed manifest (md5 is only computed for files that exist, which none do).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mlsc/dataset/croissant.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mlsc::dataset;
  if (size > (1U << 20)) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = parse_croissant(text);
  if (!doc) return 0;
  DatasetManifest m;
  m.name = "fuzz";
  m.files = {{"data/a.txt", 5, std::string(64, 'a')}, {"b", 1, std::string(64, 'b')}};
  m.records = {{"https://x.example/a", std::string(64, 'c'), {}, ""}};
  if (!finalize(m)) return 0;
  (void)match_files(*doc, m);
  const std::filesystem::path nowhere = "/nonexistent-mlsc-fuzz-root";
  (void)check_croissant(*doc, m, nowhere);
  auto updated = update_croissant(*doc, m, nowhere);
  if (updated) {
    auto again = parse_croissant(updated->document.dump());
    if (!again) __builtin_trap();  // an update must stay readable Croissant
  }
  return 0;
}
