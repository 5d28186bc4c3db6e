// A JSON Schema validator for the keywords the CycloneDX 1.6 (draft-07) and SPDX 3.0.1
// (draft 2020-12) schemas use. Debian ships no C++ JSON Schema library, so `mlsc bom validate`
// carries its own. Loading a schema that uses an assertion keyword outside the supported set
// is an error, so a validation result never silently skips a rule. Supported keywords and
// the exact scope are listed in docs/bom.md.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/expected.hpp"

namespace mlsc::bom {

struct SchemaViolation {
  std::string instance_path;  // JSON pointer into the document ("/components/3/hashes/0/alg")
  std::string schema_path;    // JSON pointer into the schema that failed
  std::string message;
};

struct ValidationLimits {
  std::size_t max_violations = 50;        // stop collecting after this many
  std::size_t max_pattern_input = 16384;  // longer strings are not regex-matched: a violation
  std::size_t max_depth = 2000;           // nested schema evaluations (guards $ref loops)
};

class SchemaSet {
 public:
  SchemaSet();
  ~SchemaSet();
  SchemaSet(SchemaSet&&) noexcept;
  SchemaSet& operator=(SchemaSet&&) noexcept;

  // Registers a schema under `uri` (and under its own "$id" when it has one). Error when the
  // document is not a schema we can evaluate fully (unsupported keyword, bad pattern).
  Expected<void> add(nlohmann::json schema, const std::string& uri);
  bool has(const std::string& uri) const;

  // Violations of `instance` against the schema registered as `uri` (empty: valid).
  Expected<std::vector<SchemaViolation>> validate(const nlohmann::json& instance,
                                                  const std::string& uri,
                                                  const ValidationLimits& limits = {}) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlsc::bom
