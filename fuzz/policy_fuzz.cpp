// libFuzzer target: admission policies. The parser must never crash, hang or exhaust memory on
// any bytes, and every error must name a line; a parsed policy's rules are walked so the
// settings built from hostile text are exercised too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mlsc/policy/policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mlsc::policy;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = parse_policy(text, "/fuzz", "fuzz.yaml");
  if (!policy) {
    if (policy.error().message.rfind("fuzz.yaml", 0) != 0) __builtin_trap();
    return 0;
  }
  std::size_t total = 0;
  for (const auto& [kind, rules] : policy->rules) {
    for (const auto& rule : rules) {
      total += rule.id.size() + rule.when.size() + check_id(rule.settings).size();
      if (rule.line <= 0) __builtin_trap();
    }
    total += to_string(kind).size();
  }
  for (const auto& b : policy->builders) {
    for (const auto& k : b.signed_by) {
      if (policy->key(k) == nullptr) __builtin_trap();  // the parser resolved every name
    }
  }
  volatile std::size_t sink = total;  // keep the walk from being optimised away
  (void)sink;
  return 0;
}
