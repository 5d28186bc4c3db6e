// The Keras model-config walker shared by the .h5, .keras, model JSON and keras_metadata.pb
// scanners. A Keras config is JSON in which every serialised object is
// `{"class_name": C, "config": {...}, "module": M?, "registered_name": R?}`; Keras rebuilds each
// one by importing M and calling C.from_config, Lambda layers carry marshalled Python bytecode,
// and nested models are objects like any other. The walker visits every such object, wherever
// it sits, with the path of named objects above it ("model/encoder/lambda_3").
//
// It has no ScanContext so that it can be unit-tested and fuzzed on its own: it returns issues
// and embedded payloads, and the calling scanner reports them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/severity.hpp"
#include "mlsc/scan/import_policy.hpp"

namespace mlsc::scan::keras {

struct Issue {
  Severity severity = Severity::info;
  std::string rule;
  std::string message;  // names the layer path
  std::string path;     // "model/encoder/lambda_3"; empty for the config as a whole
};

// Bytes the config carries that another scanner should look at (a pickled torch module).
struct Payload {
  std::string path;
  std::string what;
  std::string bytes;
};

struct Report {
  std::vector<Issue> issues;
  std::vector<Payload> payloads;
  std::size_t objects = 0;  // serialised Keras objects visited
  std::size_t lambdas = 0;  // Lambda functions (bytecode or named) found
  std::string root_class;   // class_name of the top-level object ("Sequential", ...)
  bool parsed = false;      // the text was valid JSON
};

struct Limits {
  std::size_t max_depth = 256;             // JSON nesting
  std::size_t max_objects = 1U << 20;      // serialised objects visited
  std::size_t max_issues_per_rule = 64;    // further issues are counted in one summary issue
  std::size_t max_code_bytes = 16U << 20;  // one Lambda's decoded bytecode
};

// Analyse a model config given as JSON text (model_config / config.json / Keras JSON / SavedModel
// Keras metadata). `root` prefixes every path ("training_config" for that attribute, empty for
// the model itself).
Report analyse_config(std::string_view json_text, const ImportPolicy& policy,
                      std::string_view root = {}, const Limits& limits = {});

// Cheap content test for a Keras JSON document: the top-level object (only its keys are looked
// at, nested values are skipped) has "class_name" and "config" plus "module",
// "registered_name" or "keras_version" (a Keras 3 config.json or a Keras 2 model.to_json()),
// or has "keras_version" and "date_saved" (Keras 3 metadata.json).
enum class JsonKind { none, model_config, metadata };
JsonKind classify_json(ByteView data);

}  // namespace mlsc::scan::keras
