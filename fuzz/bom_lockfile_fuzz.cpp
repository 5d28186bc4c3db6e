// libFuzzer target: the lock and metadata parsers behind `mlsc bom` (pyproject.toml,
// poetry.lock, uv.lock, Pipfile.lock, conda-meta JSON, METADATA/PKG-INFO, RECORD, egg
// requires.txt). The first byte picks the parser, the rest is the file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mlsc/bom/sources.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  using namespace mlsc::bom;
  switch (data[0] % 8) {
    case 0: {
      auto r = parse_pyproject(text, "pyproject.toml");
      (void)r.has_value();
      break;
    }
    case 1: {
      auto r = parse_poetry_lock(text, "poetry.lock");
      (void)r.has_value();
      break;
    }
    case 2: {
      auto r = parse_uv_lock(text, "uv.lock");
      (void)r.has_value();
      break;
    }
    case 3: {
      auto r = parse_pipfile_lock(text, "Pipfile.lock");
      (void)r.has_value();
      break;
    }
    case 4: {
      auto r = parse_conda_meta(text, "conda-meta/x.json");
      (void)r.has_value();
      break;
    }
    case 5: {
      auto r = parse_core_metadata(text, "METADATA");
      (void)r.has_value();
      break;
    }
    case 6: {
      auto r = parse_record(text);
      (void)r.has_value();
      break;
    }
    default: {
      auto r = parse_egg_requires(text);
      (void)r.size();
      break;
    }
  }
  return 0;
}
