// libFuzzer target: the bounded CPython marshal reader for Lambda bytecode, both on raw bytes
// and through the Keras Lambda judge (base64 / raw_unicode_escape decoding first).
#include <cstddef>
#include <cstdint>

#include "scan/keras_code.hpp"
#include "scan/python_marshal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const mlsc::ByteView data(bytes, size);
  const auto summary = mlsc::scan::marshal::summarize_code(data);
  if (summary && summary->layout.empty()) __builtin_trap();
  const auto verdict = mlsc::scan::keras::judge_lambda_code(mlsc::as_chars(data), "", 1U << 20);
  if (verdict.rule.empty() || verdict.detail.empty()) __builtin_trap();
  (void)mlsc::scan::keras::decode_base64_lenient(mlsc::as_chars(data));
  return 0;
}
