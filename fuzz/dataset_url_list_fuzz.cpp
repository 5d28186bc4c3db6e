// libFuzzer target: the CSV and JSON Lines URL-list readers (with and without a path column),
// then a manifest built from whatever they accepted, and the statement parser on the same
// bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mlsc/dataset/manifest.hpp"
#include "mlsc/dataset/url_list.hpp"

namespace {

void build(const mlsc::dataset::UrlList& list) {
  mlsc::dataset::UrlManifestOptions o;
  o.name = "fuzz";
  o.created_on = "2024-01-01T00:00:00Z";
  auto m = mlsc::dataset::build_url_manifest(list, o);
  if (!m) return;
  // Whatever a list yields must survive its own statement.
  auto back =
      mlsc::dataset::manifest_from_statement(nlohmann::json(mlsc::dataset::to_statement(*m)));
  if (!back || back->merkle_root != m->merkle_root) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mlsc::dataset;
  if (size > (1U << 20)) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  UrlListOptions with_path;
  with_path.path_column = "file";
  for (const UrlListOptions& options : {UrlListOptions{}, with_path}) {
    if (auto csv = parse_url_list_csv(text, options)) build(*csv);
    if (auto jsonl = parse_url_list_jsonl(text, options)) build(*jsonl);
  }
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_discarded() && size < 4096) {
    auto m = manifest_from_statement(j);
    if (m) diff_manifests(*m, *m);
  }
  return 0;
}
