// Python package names as pip compares them (PEP 503 normalisation) and package URLs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mlsc::vuln {

// PEP 503: lowercase, every run of '-', '_' and '.' becomes one '-'. "Foo__Bar.baz" ->
// "foo-bar-baz".
std::string normalize_name(std::string_view name);

// PEP 508 name syntax: ASCII letters and digits, with '-', '_' or '.' inside (not at either end).
bool is_valid_name(std::string_view name);

// A package URL ("pkg:pypi/requests@2.31.0?x=y#sub"), the parts mlsc uses. Percent-escapes in
// the name and version are decoded; the type is lowercased.
struct Purl {
  std::string type;        // "pypi", "conda", ...
  std::string namespace_;  // may be empty
  std::string name;
  std::string version;  // may be empty
};

std::optional<Purl> parse_purl(std::string_view text);

}  // namespace mlsc::vuln
