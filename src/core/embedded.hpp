// Data files compiled into the library (see cmake/embed.cmake).
#pragma once

#include <string_view>

namespace mlsc::embedded {
extern const std::string_view pickle_allowlist;
extern const std::string_view pickle_denylist;
extern const std::string_view python_stdlib;
extern const std::string_view python2_mapping;
extern const std::string_view keras_gadgets;
extern const std::string_view keras_builtin_classes;
extern const std::string_view tf_op_policy;
extern const std::string_view tf_standard_ops;
extern const std::string_view rule_catalog;  // data/rules/*.yaml, concatenated
}  // namespace mlsc::embedded
