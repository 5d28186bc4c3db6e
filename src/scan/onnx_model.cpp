#include "onnx_model.hpp"

#include <array>

namespace mlsc::scan::onnx_scan {

namespace {

constexpr std::size_t kMaxQuoted = 120;

class Walker {
 public:
  Walker(ModelVisitor& visitor, Issues& issues) : visitor_(visitor), issues_(issues) {}

  void graph(const onnx::GraphProto& g, const std::string& path, std::size_t depth) {
    if (depth > kMaxGraphDepth) {
      if (!reported_depth_) {
        issues_.push_back({Severity::high, "unscannable",
                           "subgraphs nest more than " + std::to_string(kMaxGraphDepth) +
                               " levels deep at " + path + "; deeper graphs were not analysed"});
      }
      reported_depth_ = true;
      return;
    }
    visitor_.graph(g, path, depth);
    for (const auto& t : g.initializer())
      visitor_.tensor(t, join_path(path, "initializer " + quote(t.name())));
    for (const auto& s : g.sparse_initializer()) sparse(s, join_path(path, "sparse initializer"));
    nodes(g.node(), path, depth);
  }

  template <class Nodes>
  void nodes(const Nodes& list, const std::string& path, std::size_t depth) {
    for (int i = 0; i < list.size(); ++i) {
      const auto& n = list.Get(i);
      const std::string node_path = join_path(path, node_label(n, static_cast<std::size_t>(i)));
      visitor_.node(n, node_path);
      for (const auto& a : n.attribute()) attribute(a, node_path, depth);
    }
  }

 private:
  void sparse(const onnx::SparseTensorProto& s, const std::string& path) {
    if (s.has_values()) visitor_.tensor(s.values(), path + " values " + quote(s.values().name()));
    if (s.has_indices()) visitor_.tensor(s.indices(), path + " indices");
  }

  void attribute(const onnx::AttributeProto& a, const std::string& node_path, std::size_t depth) {
    const std::string path = join_path(node_path, a.name());
    if (a.has_t()) visitor_.tensor(a.t(), path);
    for (const auto& t : a.tensors()) visitor_.tensor(t, path);
    if (a.has_sparse_tensor()) sparse(a.sparse_tensor(), path);
    for (const auto& s : a.sparse_tensors()) sparse(s, path);
    if (a.has_g()) graph(a.g(), path, depth + 1);
    for (const auto& g : a.graphs()) graph(g, path, depth + 1);
  }

  ModelVisitor& visitor_;
  Issues& issues_;
  bool reported_depth_ = false;
};

}  // namespace

std::string quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (const char c : text.substr(0, kMaxQuoted)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || c == '\'' || c == '\\') {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  if (text.size() > kMaxQuoted) out += "...";
  return out + "'";
}

std::string node_label(const onnx::NodeProto& node, std::size_t index) {
  std::string op = node.domain().empty() || node.domain() == "ai.onnx"
                       ? node.op_type()
                       : node.domain() + "." + node.op_type();
  op = quote(op);
  op = op.substr(1, op.size() - 2);  // operator names read better unquoted
  if (node.name().empty()) return op + " #" + std::to_string(index);
  return op + " " + quote(node.name());
}

std::string join_path(const std::string& parent, const std::string& child) {
  return parent.empty() ? child : parent + " > " + child;
}

std::string main_graph_path(const onnx::GraphProto& graph) {
  return "graph " + quote(graph.name());
}

std::string function_path(const onnx::FunctionProto& function) {
  return "function " + quote(function.domain() + "." + function.name());
}

void walk_model(const onnx::ModelProto& model, ModelVisitor& visitor, Issues& issues) {
  Walker walker(visitor, issues);
  if (model.has_graph()) walker.graph(model.graph(), main_graph_path(model.graph()), 0);
  for (int i = 0; i < model.training_info_size(); ++i) {
    const auto& info = model.training_info(i);
    const std::string path = "training_info[" + std::to_string(i) + "]";
    if (info.has_initialization()) walker.graph(info.initialization(), path + ".initialization", 0);
    if (info.has_algorithm()) walker.graph(info.algorithm(), path + ".algorithm", 0);
  }
  for (const auto& f : model.functions()) walker.nodes(f.node(), function_path(f), 0);
}

DomainKind classify_domain(std::string_view domain) {
  constexpr std::array<std::string_view, 5> kStandard = {
      "", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training"};
  // ONNX Runtime's own operator sets: kernels compiled into every onnxruntime build.
  constexpr std::array<std::string_view, 5> kRuntime = {
      "com.microsoft", "com.microsoft.nchwc", "com.microsoft.experimental", "com.microsoft.dml",
      "com.ms.internal.nhwc"};
  // Published extension libraries (onnxruntime-extensions; PyTorch's ATen fallback export).
  constexpr std::array<std::string_view, 4> kExtension = {
      "ai.onnx.contrib", "com.microsoft.extensions", "org.pytorch.aten", "org.pytorch._caffe2"};
  for (auto d : kStandard) {
    if (domain == d) return DomainKind::standard;
  }
  for (auto d : kRuntime) {
    if (domain == d) return DomainKind::runtime_builtin;
  }
  for (auto d : kExtension) {
    if (domain == d) return DomainKind::extension;
  }
  return DomainKind::custom;
}

std::string_view describe(DomainKind kind) {
  switch (kind) {
    case DomainKind::standard:
      return "standard ONNX";
    case DomainKind::runtime_builtin:
      return "ONNX Runtime built-in contrib";
    case DomainKind::extension:
      return "extension library";
    case DomainKind::custom:
      return "custom";
  }
  return "custom";
}

}  // namespace mlsc::scan::onnx_scan
