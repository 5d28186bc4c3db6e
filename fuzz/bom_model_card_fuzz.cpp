// libFuzzer target: README model-card front matter (YAML) and prose sections, and config.json.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mlsc/bom/sources.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto card = mlsc::bom::parse_model_card(text)) (void)card->metrics.size();
  mlsc::bom::Model model;
  if (auto r = mlsc::bom::parse_model_config(text, model); !r) (void)r.error().message.size();
  return 0;
}
