#include "mlsc/bom/purl.hpp"
#include "mlsc/core/text.hpp"

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

namespace mlsc::bom {

namespace {

bool is_purl_unreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '.' || c == '-' || c == '_' || c == '~';
}

bool is_hub_part(std::string_view part) {
  if (part.empty() || part.size() > 96 || part == "." || part == "..") return false;
  if (part.find("..") != std::string_view::npos) return false;
  return std::all_of(part.begin(), part.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) != 0 || c == '.' || c == '-' || c == '_';
  });
}

}  // namespace

std::string normalize_pypi_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  bool in_separator_run = false;
  for (const char c : name) {
    if (c == '-' || c == '_' || c == '.') {
      if (!in_separator_run) out += '-';
      in_separator_run = true;
      continue;
    }
    in_separator_run = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string purl_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (is_purl_unreserved(u) || c == ':') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

std::string pypi_purl(std::string_view name, std::string_view version) {
  std::string out = "pkg:pypi/" + purl_encode(normalize_pypi_name(name));
  if (!version.empty()) out += "@" + purl_encode(version);
  return out;
}

std::string conda_purl(std::string_view name, std::string_view version, std::string_view build,
                       std::string_view channel, std::string_view subdir) {
  std::string out = "pkg:conda/" + purl_encode(ascii_lower(name));
  if (!version.empty()) out += "@" + purl_encode(version);
  // Qualifiers in lexical key order, as the purl spec's canonical form requires.
  const std::vector<std::pair<std::string_view, std::string_view>> qualifiers = {
      {"build", build}, {"channel", channel}, {"subdir", subdir}};
  char joiner = '?';
  for (const auto& [key, value] : qualifiers) {
    if (value.empty()) continue;
    out += joiner;
    out += key;
    out += '=';
    out += purl_encode(value);
    joiner = '&';
  }
  return out;
}

bool is_hub_repo_id(std::string_view id) {
  const auto slash = id.find('/');
  if (slash == std::string_view::npos) return is_hub_part(id);
  return is_hub_part(id.substr(0, slash)) && is_hub_part(id.substr(slash + 1));
}

std::string huggingface_purl(std::string_view repo_id, std::string_view revision) {
  if (!is_hub_repo_id(repo_id)) return {};
  std::string out = "pkg:huggingface/";
  const auto slash = repo_id.find('/');
  if (slash == std::string_view::npos) {
    out += purl_encode(repo_id);
  } else {
    out += purl_encode(repo_id.substr(0, slash)) + "/" + purl_encode(repo_id.substr(slash + 1));
  }
  if (!revision.empty()) out += "@" + purl_encode(ascii_lower(revision));
  return out;
}

}  // namespace mlsc::bom
