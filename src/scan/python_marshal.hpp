// A bounded reader for the part of CPython's marshal format that Keras writes for Lambda layers
// (`marshal.dumps(func.__code__)`): code objects and the constants inside them. It never builds
// Python objects; it only lists what the code refers to, so a scanner can say which globals,
// attributes and modules the function would touch when Keras rebuilds and calls it.
//
// The marshal stream carries no version number and the code-object layout changed in 3.8
// (posonlyargcount) and 3.11 (localsplus, qualname, exception table), so each layout is tried
// and the first one whose fields all have the expected types wins.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"

namespace mlsc::scan::marshal {

struct Limits {
  std::size_t max_depth = 64;          // nested containers / code objects
  std::size_t max_objects = 1U << 20;  // values decoded in all
  std::size_t max_strings = 4096;      // distinct strings kept in the summary
};

struct CodeSummary {
  std::string layout;                   // "3.11+", "3.8-3.10" or "3.0-3.7"
  std::size_t code_objects = 0;         // the function and every nested code object
  std::vector<std::string> names;       // co_names of every code object (globals, attributes)
  std::vector<std::string> strings;     // str/bytes constants (co_consts), in first-seen order
  std::vector<std::string> code_names;  // co_name of each code object
  bool strings_truncated = false;
};

// Summarise `data` as one marshalled code object. The error names the offset where no layout
// could go on.
Expected<CodeSummary> summarize_code(ByteView data, const Limits& limits = {});

}  // namespace mlsc::scan::marshal
