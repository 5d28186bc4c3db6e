// Runs a function on a thread with a large stack (private to src/bom). The JSON Schema
// evaluator recurses per schema level and std::regex per matched character; bounding both by
// depth limits is not enough on an 8 MB default stack under sanitizers, so validation runs on
// its own 512 MiB stack (virtual memory; only the pages touched are committed).
#pragma once

#include <functional>

#include "mlsc/core/expected.hpp"

namespace mlsc::bom::detail {

inline constexpr std::size_t kBigStackBytes = 512U << 20;

// Error only when the thread cannot be created.
Expected<void> run_on_big_stack(const std::function<void()>& fn,
                                std::size_t stack_bytes = kBigStackBytes);

}  // namespace mlsc::bom::detail
