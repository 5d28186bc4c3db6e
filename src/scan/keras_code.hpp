// Judging the Python function a Keras Lambda layer carries. Keras saves it with
// `base64(marshal.dumps(fn.__code__))` and loads it with marshal.loads + types.FunctionType:
// whatever the code does runs when the layer is first called, which a Functional or Sequential
// model does while Keras rebuilds it at load.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/severity.hpp"

namespace mlsc::scan::keras {

// binascii.a2b_base64 without strict mode: characters outside the alphabet are skipped, '='
// after two or more characters of a quantum ends the data. nullopt where Python raises
// binascii.Error (a quantum left incomplete).
std::optional<std::string> decode_base64_lenient(std::string_view text);

// Names (identifiers, modules, attribute names) that make a Lambda a code-execution, process,
// file or network primitive rather than arithmetic.
bool is_dangerous_name(std::string_view name);

struct CodeVerdict {
  Severity severity = Severity::high;
  std::string rule;                    // keras.lambda-layer or keras.lambda-dangerous-code
  std::string detail;                  // "carries marshalled Python bytecode (...) ..."
  std::vector<std::string> dangerous;  // the names that made it critical
  bool bytecode = false;               // the text decoded to a marshalled code object
};

// `code` is the config's string; `module` the Keras 2 `module` whose globals the function gets
// (empty if none). Decoded bytecode is capped at `max_bytes`.
CodeVerdict judge_lambda_code(std::string_view code, std::string_view module,
                              std::size_t max_bytes);

}  // namespace mlsc::scan::keras
