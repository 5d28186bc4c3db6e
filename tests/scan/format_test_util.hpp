// Helpers shared by the safetensors, GGUF, Jinja and Hugging Face scanner tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "mlsc/scan/scanner.hpp"

namespace mlsc::scan::testing {

inline FileReport scan_with(const Registry& registry, const std::string& bytes,
                            const std::string& fs_path = {}) {
  return scan_mapped("t", fs_path, as_bytes(bytes), ScanOptions{}, registry);
}

inline const Finding* find_rule(const FileReport& r, std::string_view rule) {
  for (const auto& f : r.findings) {
    if (f.rule == rule) return &f;
  }
  return nullptr;
}

inline std::string le64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>(v >> (8 * i));
  return s;
}

inline std::string le32(std::uint32_t v) {
  return le64(v).substr(0, 4);
}

}  // namespace mlsc::scan::testing
