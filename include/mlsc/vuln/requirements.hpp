// pip requirements files (requirements*.txt, `pip freeze` output, constraints files): the
// requirement lines with their names, specifiers, hashes and markers, and the index options
// (--index-url, --extra-index-url, ...) that decide where pip looks. Self-contained on purpose:
// the deps commands need the index options and line numbers that a BOM does not carry.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "mlsc/vuln/pep440.hpp"

namespace mlsc::vuln {

struct Requirement {
  std::string name;        // as written
  std::string normalized;  // PEP 503
  std::vector<std::string> extras;
  SpecifierSet specifier;
  std::string marker;  // after ';', unevaluated
  std::string url;     // "name @ URL", or a bare URL/path line (then name may come from #egg=)
  std::vector<std::string> hashes;  // "sha256:..."
  std::size_t line = 0;             // 1-based line where the requirement starts
  bool editable = false;

  // "==X" (no wildcard) or "===X": the version pip will install, if the line fixes one.
  std::optional<std::string> pinned_version() const { return specifier.pinned(); }
};

struct IndexOption {
  enum class Kind : std::uint8_t { index_url, extra_index_url, find_links, no_index };
  Kind kind = Kind::index_url;
  std::string url;
  std::size_t line = 0;
};

struct RequirementsFile {
  std::vector<Requirement> requirements;
  std::vector<IndexOption> index_options;
  std::vector<std::string> includes;  // -r / -c targets, as written (not followed)
  bool require_hashes = false;        // --require-hashes
  struct Problem {
    std::size_t line;
    std::string message;
  };
  std::vector<Problem> problems;  // lines that are neither a requirement nor a known option
};

// Parses the text of a requirements file; never fails as a whole (bad lines become problems).
// Bounded: at most 1,000,000 logical lines are read.
RequirementsFile parse_requirements(std::string_view text);

// One PEP 508 requirement ("name[extra]>=1,<2; python_version<'3.12'", "name @ https://...").
Expected<Requirement> parse_requirement(std::string_view text);

}  // namespace mlsc::vuln
