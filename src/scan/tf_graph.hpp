// TensorFlow SavedModel (saved_model.pb) and Keras SavedModel metadata (keras_metadata.pb):
// a schema-driven walk over the protobuf wire format (protobuf_wire.hpp) that keeps only what
// the scanner judges: every node of the graph and of every library function (name, op, inputs,
// string/bool/func attributes, Const string values), the saver's filename tensor, asset file
// names, and Keras metadata JSON. Field numbers are TensorFlow's (tensorflow/core/protobuf/
// saved_model.proto, meta_graph.proto, saver.proto, saved_object_graph.proto,
// tensorflow/core/framework/graph.proto, node_def.proto, function.proto, attr_value.proto,
// tensor.proto; tf_keras/protobuf/saved_metadata.proto).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"
#include "mlsc/core/severity.hpp"

namespace mlsc::scan::tf {

struct Node {
  std::string name;
  std::string op;
  std::vector<std::string> inputs;
  std::map<std::string, std::vector<std::string>> strings;  // s, list.s, func names, Const strings
  std::map<std::string, bool> bools;
  std::uint64_t offset = 0;
};

struct Function {
  std::string name;
  std::vector<Node> nodes;
  std::uint64_t offset = 0;
};

struct KerasMetadata {
  std::string where;  // node path or identifier, for messages
  std::string json;   // the metadata JSON
  std::uint64_t offset = 0;
};

struct MetaGraph {
  std::vector<std::string> tags;
  std::vector<Node> nodes;
  std::vector<Function> functions;
  std::string saver_filename_tensor;  // SaverDef.filename_tensor_name
  std::vector<std::pair<std::string, std::uint64_t>> asset_files;
  std::vector<KerasMetadata> keras;  // SavedUserObject.metadata (TF 2.0-2.4 Keras)
};

struct SavedModel {
  std::uint64_t schema_version = 0;
  std::vector<MetaGraph> meta_graphs;
};

struct Limits {
  std::size_t max_nodes = 1U << 22;  // graph + function nodes in all
};

// Content tests. A SavedModel is fields 1 (varint) and 2 (MetaGraphDef) only, with at least one
// meta graph whose own fields are MetaGraphDef's (1-7, length-delimited); keras_metadata.pb is
// field 1 only, its first node with a `_tf_keras` identifier.
bool looks_like_saved_model(ByteView data);
bool looks_like_keras_metadata(ByteView data);

Expected<SavedModel> parse_saved_model(ByteView data, const Limits& limits = {});
Expected<std::vector<KerasMetadata>> parse_keras_metadata(ByteView data);

// --- judging ---------------------------------------------------------------------------------

struct Issue {
  Severity severity = Severity::info;
  std::string rule;
  std::string message;
  std::string location;  // "graph/node" or "function/<name>/node"
  std::uint64_t offset = 0;
};

struct Analysis {
  std::vector<Issue> issues;
  std::size_t nodes = 0;
  std::size_t functions = 0;
  bool restores_variables = false;  // RestoreV2/Restore present: expects variables/ beside it
  std::vector<std::pair<std::string, std::uint64_t>> asset_files;
  std::vector<KerasMetadata> keras;
};

Analysis analyse(const SavedModel& model);

}  // namespace mlsc::scan::tf
