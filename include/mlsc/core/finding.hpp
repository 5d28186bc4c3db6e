// The one findings model every scanner emits and every formatter prints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mlsc/core/severity.hpp"

namespace mlsc {

struct Finding {
  Severity severity = Severity::info;
  std::string rule;     // stable id, e.g. "pickle.dangerous-global"; documented in docs/rules.md
  std::string message;  // one line a person can act on
  std::string member;   // path inside a container ("archive/data.pkl"); empty for the file itself
  std::optional<std::uint64_t> offset;  // byte offset inside `member` (or the file)
};

// A global (import) seen in a pickle, whatever its verdict: lets users review and allowlist.
struct ImportRecord {
  std::string module;
  std::string name;
  std::string verdict;  // "safe", "dangerous", "unknown", "unresolved"
  std::string member;
  std::uint64_t offset = 0;
};

struct FileReport {
  std::string path;    // as the user gave it, joined with the path below it
  std::string format;  // outermost recognised format: "pytorch-zip", "pickle", "unknown", ...
  std::vector<Finding> findings;
  std::vector<ImportRecord> imports;
  std::uint64_t size = 0;
  std::string io_error;  // set when the file could not be read at all (exit code 2)

  Severity max_severity() const;
};

}  // namespace mlsc
