// Shared pieces of the ONNX scanner: the issue type its checks return, readable node paths, a
// walk over every graph a model holds (main graph, control-flow subgraphs, model-local
// functions, training graphs), and the operator-domain policy.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/severity.hpp"

namespace mlsc::scan::onnx_scan {

struct Issue {
  Severity severity = Severity::info;
  std::string rule;
  std::string message;
};
using Issues = std::vector<Issue>;

// Subgraphs inside subgraphs (If inside Loop inside If ...) deeper than this are not walked; the
// model is then reported unscannable. Real models nest two or three levels.
constexpr std::size_t kMaxGraphDepth = 16;

// Attacker-chosen text for a one-line message: quoted, control bytes escaped, at most 120 bytes.
std::string quote(std::string_view text);

// "Gemm 'fc1'" or, for an unnamed node, "Gemm #3" (its index in the graph).
std::string node_label(const onnx::NodeProto& node, std::size_t index);

// Path segments are joined with " > ": "graph 'main' > If 'If_3' > then_branch > Add #2".
std::string join_path(const std::string& parent, const std::string& child);

class ModelVisitor {
 public:
  virtual ~ModelVisitor() = default;
  // A graph before its nodes. `path` names the graph; `depth` is 0 for top-level graphs.
  virtual void graph(const onnx::GraphProto& /*graph*/, const std::string& /*path*/,
                     std::size_t /*depth*/) {}
  // A node; `path` names the node itself.
  virtual void node(const onnx::NodeProto& /*node*/, const std::string& /*path*/) {}
  // A tensor anywhere (initializer, sparse initializer part, tensor-valued attribute).
  virtual void tensor(const onnx::TensorProto& /*tensor*/, const std::string& /*path*/) {}
};

// Visits everything in `model`. Graphs nested deeper than kMaxGraphDepth are skipped with an
// `unscannable` issue.
void walk_model(const onnx::ModelProto& model, ModelVisitor& visitor, Issues& issues);

// The name a top-level graph is reported under.
std::string main_graph_path(const onnx::GraphProto& graph);
std::string function_path(const onnx::FunctionProto& function);

enum class DomainKind {
  standard,         // the ONNX specification's own operator sets
  runtime_builtin,  // ONNX Runtime's contrib operators: native kernels built into the runtime
  extension,        // well-known extension libraries that must be installed separately
  custom,           // anything else: the deployment must register native code for it
};
DomainKind classify_domain(std::string_view domain);
std::string_view describe(DomainKind kind);

}  // namespace mlsc::scan::onnx_scan
