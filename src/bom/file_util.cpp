#include "file_util.hpp"

#include <fstream>

namespace mlsc::bom::detail {

namespace fs = std::filesystem;

Expected<std::string> read_text_file(const fs::path& file, std::size_t max_bytes) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) return Error(file.string() + ": " + ec.message());
  if (size > max_bytes)
    return Error(file.string() + ": larger than " + std::to_string(max_bytes >> 20) + " MiB");
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(file.string() + ": cannot open");
  std::string out(static_cast<std::size_t>(size), '\0');
  in.read(out.data(), static_cast<std::streamsize>(size));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

bool resolves_inside(const fs::path& path, const fs::path& root) {
  std::error_code ec;
  const auto target = fs::canonical(path, ec);
  if (ec) return false;
  const auto base = fs::canonical(root, ec);
  if (ec) return false;
  auto t = target.begin();
  for (auto b = base.begin(); b != base.end(); ++b, ++t) {
    if (t == target.end() || *t != *b) return false;
  }
  return true;
}

std::string relative_name(const fs::path& path, const fs::path& base) {
  return path.lexically_relative(base).generic_string();
}

}  // namespace mlsc::bom::detail
