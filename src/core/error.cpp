#include <string>

#include "mlsc/core/expected.hpp"

namespace mlsc {

std::string Error::describe() const {
  if (!offset) return message;
  return message + " (at offset " + std::to_string(*offset) + ")";
}

}  // namespace mlsc
