// A bounded parser for the Python literals that NumPy writes in .npy headers
// (`{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`). numpy.load uses
// ast.literal_eval on this text; we accept the same subset: dicts, lists, tuples, strings,
// integers, True/False/None.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/expected.hpp"

namespace mlsc::scan {

struct PyLiteral {
  enum class Kind { none, boolean, integer, string, list, tuple, dict };
  Kind kind = Kind::none;
  bool boolean = false;
  std::int64_t integer = 0;
  bool integer_overflow = false;
  std::string string;
  std::vector<PyLiteral> items;  // list, tuple
  // dict: keys[i] maps to values[i]. Two vectors rather than a vector of pairs because
  // std::pair of an incomplete type is not allowed in the type's own definition.
  std::vector<PyLiteral> keys;
  std::vector<PyLiteral> values;

  const PyLiteral* find(std::string_view key) const;  // dict lookup by string key
};

// Errors carry the offset within `text`.
Expected<PyLiteral> parse_py_literal(std::string_view text, std::size_t max_depth = 32);

}  // namespace mlsc::scan
