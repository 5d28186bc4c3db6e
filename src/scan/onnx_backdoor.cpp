#include "onnx_backdoor.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace mlsc::scan::onnx_scan {

namespace {

using Nodes = google::protobuf::RepeatedPtrField<onnx::NodeProto>;
using Tensors = google::protobuf::RepeatedPtrField<onnx::TensorProto>;

constexpr int kFar = std::numeric_limits<int>::max() / 4;  // "reaches no graph output"
constexpr std::size_t kPreviewValues = 6;

// What the forward pass knows about one value.
struct Value {
  bool dynamic = false;       // depends on the values (not only the shapes) of a graph input
  bool trigger = false;       // a raw-input comparison result, or computed from one without weights
  int max_params = 0;         // parameterised nodes on the deepest path from an input (if dynamic)
  int source = -1;            // label: the graph input it derives from
  int deepest = -1;           // label: the last parameterised node on that deepest path
  int trigger_origin = -1;    // label: the comparison that makes it a trigger
  std::uint64_t sources = 0;  // graph inputs it derives from (bit = input position mod 64)
};

bool is_raw(const Value& v) {
  return v.dynamic && v.max_params == 0;
}

Value join(Value a, const Value& b) {
  if (!b.dynamic) return a;
  const std::uint64_t sources = (a.dynamic ? a.sources : 0) | b.sources;
  if (!a.dynamic || b.max_params > a.max_params) {
    const bool trig = a.trigger;
    const int origin = a.trigger_origin;
    a = b;
    a.trigger = a.trigger || trig;
    if (a.trigger_origin < 0) a.trigger_origin = origin;
  } else if (b.trigger && !a.trigger) {
    a.trigger = true;
    a.trigger_origin = b.trigger_origin;
  }
  a.trigger = a.trigger && a.max_params == 0;
  a.sources = sources;
  return a;
}

// A trigger matters only on the input the network reads: the caller's data. A separate control
// input (a sample rate, a class mask) that never reaches the network is configuration.
bool same_input(const Value& a, const Value& b) {
  return (a.sources & b.sources) != 0;
}

// Distance to a graph output in parameterised nodes, and which output (a label).
struct Exit {
  int dist = kFar;
  int output = -1;
};

bool closer(const Exit& a, const Exit& b) {
  return a.dist < b.dist;
}

template <std::size_t N>
bool among(std::string_view op, const std::array<std::string_view, N>& set) {
  return std::find(set.begin(), set.end(), op) != set.end();
}

// Nodes that apply learned weights to their input: what "the network" is made of.
constexpr std::array<std::string_view, 24> kParamOps = {
    "MatMul", "Gemm", "Conv", "ConvTranspose", "ConvInteger", "MatMulInteger", "QLinearConv",
    "QLinearMatMul", "LSTM", "GRU", "RNN", "Einsum", "Gather",
    // ONNX Runtime fused forms of the same
    "FusedConv", "FusedGemm", "FusedMatMul", "Attention", "QAttention", "EmbedLayerNormalization",
    "MatMulNBits", "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "QGemm", "DynamicQuantizeLSTM"};
// Outputs that depend only on the shape of their input, never on its values.
constexpr std::array<std::string_view, 6> kShapeOnly = {
    "Shape", "Size", "ConstantOfShape", "EyeLike", "RandomNormalLike", "RandomUniformLike"};
constexpr std::array<std::string_view, 5> kComparisons = {"Equal", "Greater", "Less",
                                                          "GreaterOrEqual", "LessOrEqual"};
// Where a trigger can switch or override a network value.
constexpr std::array<std::string_view, 10> kSwitches = {"Where", "Mul", "Add", "Sub",  "Sum",
                                                        "Max",   "Min", "Div", "Mean", "Concat"};
// Where a raw-input path can replace the network's value without any trigger.
constexpr std::array<std::string_view, 3> kSelectors = {"Max", "Min", "Where"};

bool standard_domain(const onnx::NodeProto& n) {
  return classify_domain(n.domain()) == DomainKind::standard ||
         classify_domain(n.domain()) == DomainKind::runtime_builtin;
}

// A constant value by name: an initializer or a Constant node's attribute.
struct Constant {
  const onnx::TensorProto* tensor = nullptr;
  const onnx::AttributeProto* attribute = nullptr;
};

class Scope {
 public:
  explicit Scope(const Scope* parent) : parent_(parent) {}

  const Value* find(const std::string& name) const {
    for (const Scope* s = this; s != nullptr; s = s->parent_) {
      if (auto it = s->values_.find(name); it != s->values_.end()) return &it->second;
    }
    return nullptr;
  }
  Constant constant(const std::string& name) const {
    for (const Scope* s = this; s != nullptr; s = s->parent_) {
      if (auto it = s->constants_.find(name); it != s->constants_.end()) return it->second;
      if (s->values_.count(name) != 0) return {};
    }
    return {};
  }
  void set(const std::string& name, const Value& v) { values_[name] = v; }
  void set_constant(const std::string& name, Constant c) { constants_[name] = c; }

 private:
  const Scope* parent_;
  std::unordered_map<std::string, Value> values_;
  std::unordered_map<std::string, Constant> constants_;
};

template <class T>
void append_values(std::string& out, const T& values, std::size_t total) {
  std::size_t i = 0;
  for (const auto v : values) {
    if (i == kPreviewValues) break;
    out += (i++ == 0 ? "" : ", ") + std::to_string(v);
  }
  if (total > kPreviewValues) out += ", ...";
}

template <class T>
std::vector<T> decode_raw(const std::string& raw) {
  std::vector<T> out;
  for (std::size_t off = 0; off + sizeof(T) <= raw.size() && out.size() < kPreviewValues;
       off += sizeof(T)) {
    T v;
    std::memcpy(&v, raw.data() + off, sizeof(T));
    out.push_back(v);
  }
  return out;
}

std::string preview_tensor(const onnx::TensorProto& t) {
  std::string shape = "[";
  for (int i = 0; i < t.dims_size(); ++i) shape += (i ? "," : "") + std::to_string(t.dims(i));
  shape += "]";
  std::string vals;
  const auto& raw = t.raw_data();
  switch (t.data_type()) {
    case onnx::TensorProto_DataType_FLOAT:
      if (!raw.empty())
        append_values(vals, decode_raw<float>(raw), raw.size() / 4);
      else
        append_values(vals, t.float_data(), static_cast<std::size_t>(t.float_data_size()));
      break;
    case onnx::TensorProto_DataType_DOUBLE:
      if (!raw.empty())
        append_values(vals, decode_raw<double>(raw), raw.size() / 8);
      else
        append_values(vals, t.double_data(), static_cast<std::size_t>(t.double_data_size()));
      break;
    case onnx::TensorProto_DataType_INT64:
      if (!raw.empty())
        append_values(vals, decode_raw<std::int64_t>(raw), raw.size() / 8);
      else
        append_values(vals, t.int64_data(), static_cast<std::size_t>(t.int64_data_size()));
      break;
    case onnx::TensorProto_DataType_INT32:
      if (!raw.empty())
        append_values(vals, decode_raw<std::int32_t>(raw), raw.size() / 4);
      else
        append_values(vals, t.int32_data(), static_cast<std::size_t>(t.int32_data_size()));
      break;
    case onnx::TensorProto_DataType_UINT8:
    case onnx::TensorProto_DataType_BOOL:
      if (!raw.empty())
        append_values(vals, decode_raw<std::uint8_t>(raw), raw.size());
      else
        append_values(vals, t.int32_data(), static_cast<std::size_t>(t.int32_data_size()));
      break;
    default:
      break;
  }
  if (vals.empty()) return "a constant of shape " + shape;
  return "constant " + shape + " {" + vals + "}";
}

std::string preview(const Constant& c) {
  if (c.tensor != nullptr) return preview_tensor(*c.tensor);
  if (c.attribute == nullptr) return "a constant";
  const auto& a = *c.attribute;
  std::string vals;
  if (a.name() == "value_float") vals = std::to_string(a.f());
  if (a.name() == "value_int") vals = std::to_string(a.i());
  if (a.name() == "value_floats") {
    append_values(vals, a.floats(), static_cast<std::size_t>(a.floats_size()));
  }
  if (a.name() == "value_ints")
    append_values(vals, a.ints(), static_cast<std::size_t>(a.ints_size()));
  return vals.empty() ? "a constant" : "constant {" + vals + "}";
}

struct Context {
  explicit Context(const onnx::ModelProto& m) : model(m) {
    for (const auto& f : m.functions()) functions.emplace(f.domain() + '\n' + f.name(), &f);
  }

  int label(std::string text) {
    labels.push_back(std::move(text));
    return static_cast<int>(labels.size()) - 1;
  }
  const std::string& text(int label) const {
    static const std::string kNone = "?";
    return label < 0 ? kNone : labels[static_cast<std::size_t>(label)];
  }
  const onnx::FunctionProto* function(const onnx::NodeProto& n) const {
    auto it = functions.find(n.domain() + '\n' + n.op_type());
    return it == functions.end() ? nullptr : it->second;
  }
  bool charge(std::size_t nodes) {
    if (visits > kMaxAnalysedNodes - std::min(nodes, kMaxAnalysedNodes)) {
      exhausted = true;
      return false;
    }
    visits += nodes;
    return true;
  }

  const onnx::ModelProto& model;
  std::unordered_map<std::string, const onnx::FunctionProto*> functions;
  std::vector<std::string> labels;
  Issues issues;
  std::size_t visits = 0;
  bool exhausted = false;  // the node budget ran out
  bool too_deep = false;   // function calls nested past kMaxGraphDepth
  std::set<int> reported_triggers;
};

// A graph or a function body: the unit the passes run over.
struct Body {
  std::string path;
  const Nodes* nodes = nullptr;
  std::vector<std::string> inputs;          // formal inputs, in order
  std::vector<std::string> outputs;         // formal outputs, in order
  const onnx::GraphProto* graph = nullptr;  // null for a function body
};

Body graph_body(const onnx::GraphProto& g, std::string path) {
  Body b{std::move(path), &g.node(), {}, {}, &g};
  for (const auto& i : g.input()) b.inputs.push_back(i.name());
  for (const auto& o : g.output()) b.outputs.push_back(o.name());
  return b;
}

Body function_body(const onnx::FunctionProto& f, std::string path) {
  Body b{std::move(path), &f.node(), {}, {}, nullptr};
  b.inputs.assign(f.input().begin(), f.input().end());
  b.outputs.assign(f.output().begin(), f.output().end());
  return b;
}

enum class Flow : std::uint8_t { plain, if_node, loop, scan, function, other_graph };

// A place where a trigger (or a raw-input path) meets the network's value.
struct Switch {
  std::string output;   // the value the switch produces
  int node = -1;        // label of the switching node
  bool trigger = true;  // false: a bypass without a trigger
  int trigger_origin = -1;
  int network_params = 0;
  int network_deepest = -1;
  std::string bypass;  // what replaces the network's value
};

class Analysis {
 public:
  Analysis(Context& ctx, Body body, const Scope* outer, std::size_t depth)
      : ctx_(ctx), body_(std::move(body)), scope_(outer), depth_(depth) {
    const auto& nodes = *body_.nodes;
    states_.resize(static_cast<std::size_t>(nodes.size()));
    if (!ctx_.charge(static_cast<std::size_t>(nodes.size()))) return;
    for (int i = 0; i < nodes.size(); ++i) build_children(static_cast<std::size_t>(i));
    compute_free_names();
    order_nodes();
  }

  const std::set<std::string>& free_names() const { return free_; }

  // `inputs` are the formal inputs' values by position; any beyond them get `fill`.
  void forward(const std::vector<Value>& inputs, const Value& fill = Value{}) {
    for (std::size_t i = 0; i < body_.inputs.size(); ++i) {
      scope_.set(body_.inputs[i], i < inputs.size() ? inputs[i] : fill);
    }
    if (body_.graph != nullptr) {
      for (const auto& t : body_.graph->initializer()) {
        scope_.set(t.name(), Value{});
        scope_.set_constant(t.name(), {&t, nullptr});
      }
      for (const auto& s : body_.graph->sparse_initializer())
        scope_.set(s.values().name(), Value{});
    }
    for (const std::size_t i : order_) forward_node(i);
  }

  std::vector<Value> output_values() const {
    std::vector<Value> out;
    for (const auto& name : body_.outputs) out.push_back(value(name));
    return out;
  }

  // `exits` are where the formal outputs lead, by position; any beyond them lead to `fill`.
  void backward(const std::vector<Exit>& exits, const Exit& fill = Exit{}) {
    for (std::size_t k = 0; k < body_.outputs.size(); ++k) {
      relax(body_.outputs[k], k < exits.size() ? exits[k] : fill);
    }
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) backward_node(*it);
    for (const auto& s : switches_) report(s);
  }

  Exit exit_of(const std::string& name) const {
    auto it = exits_.find(name);
    return it == exits_.end() ? Exit{} : it->second;
  }

 private:
  struct NodeState {
    Flow flow = Flow::plain;
    bool param = false;
    std::vector<std::unique_ptr<Analysis>> children;
  };

  const onnx::NodeProto& node(std::size_t i) const { return body_.nodes->Get(static_cast<int>(i)); }

  std::string node_path(std::size_t i) const {
    return join_path(body_.path, node_label(node(i), i));
  }

  Value value(const std::string& name) const {
    const Value* v = scope_.find(name);
    return v == nullptr ? Value{} : *v;
  }

  // ---- construction ----------------------------------------------------------------------

  void build_children(std::size_t i) {
    const auto& n = node(i);
    auto& st = states_[i];
    if (n.op_type() == "If" && standard_domain(n)) st.flow = Flow::if_node;
    if (n.op_type() == "Loop" && standard_domain(n)) st.flow = Flow::loop;
    if (n.op_type() == "Scan" && standard_domain(n)) st.flow = Flow::scan;
    if (depth_ >= kMaxGraphDepth) {  // walk_model reports nested graphs; calls are ours
      ctx_.too_deep = ctx_.too_deep || ctx_.function(n) != nullptr;
      return;
    }
    for (const auto& a : n.attribute()) {
      if (a.has_g()) add_child(st, graph_body(a.g(), join_path(node_path(i), a.name())));
      for (const auto& g : a.graphs())
        add_child(st, graph_body(g, join_path(node_path(i), a.name())));
    }
    if (st.children.empty() && st.flow == Flow::plain) {
      if (const auto* f = ctx_.function(n); f != nullptr) {
        st.flow = Flow::function;
        st.children.push_back(std::make_unique<Analysis>(
            ctx_, function_body(*f, join_path(node_path(i), function_path(*f))), nullptr,
            depth_ + 1));
      }
    }
    if (st.flow == Flow::plain && !st.children.empty()) st.flow = Flow::other_graph;
    if (st.flow == Flow::if_node && st.children.size() != 2) st.flow = Flow::other_graph;
    // Keep then_branch first whatever order the attributes were written in.
    if (st.flow == Flow::if_node && !n.attribute().empty() &&
        n.attribute(0).name() == "else_branch") {
      std::swap(st.children[0], st.children[1]);
    }
    if ((st.flow == Flow::loop || st.flow == Flow::scan) && st.children.size() != 1) {
      st.flow = Flow::other_graph;
    }
  }

  void add_child(NodeState& st, Body body) {
    st.children.push_back(std::make_unique<Analysis>(ctx_, std::move(body), &scope_, depth_ + 1));
  }

  void compute_free_names() {
    std::set<std::string> defined(body_.inputs.begin(), body_.inputs.end());
    if (body_.graph != nullptr) {
      for (const auto& t : body_.graph->initializer()) defined.insert(t.name());
      for (const auto& s : body_.graph->sparse_initializer()) defined.insert(s.values().name());
    }
    for (const auto& n : *body_.nodes) defined.insert(n.output().begin(), n.output().end());
    for (std::size_t i = 0; i < states_.size(); ++i) {
      for (const auto& in : node(i).input()) {
        if (!in.empty() && defined.count(in) == 0) free_.insert(in);
      }
      for (const auto& c : states_[i].children) {
        for (const auto& in : c->free_names()) {
          if (defined.count(in) == 0) free_.insert(in);
        }
      }
    }
  }

  // Kahn's algorithm over this body's producer edges (captured names included). The file's own
  // order is not trusted; nodes on a cycle (which no runtime accepts) go last in file order.
  void order_nodes() {
    const std::size_t count = states_.size();
    std::unordered_map<std::string, std::size_t> producer;
    for (std::size_t i = 0; i < count; ++i) {
      for (const auto& out : node(i).output()) {
        if (!out.empty()) producer.emplace(out, i);
      }
    }
    std::vector<std::vector<std::size_t>> users(count);
    std::vector<std::size_t> pending(count, 0);
    for (std::size_t i = 0; i < count; ++i) {
      std::set<std::size_t> deps;
      auto depend = [&](const std::string& name) {
        if (auto it = producer.find(name); it != producer.end() && it->second != i) {
          deps.insert(it->second);
        }
      };
      for (const auto& in : node(i).input()) depend(in);
      for (const auto& c : states_[i].children) {
        for (const auto& in : c->free_names()) depend(in);
      }
      for (const auto d : deps) users[d].push_back(i);
      pending[i] = deps.size();
    }
    std::vector<std::size_t> ready;
    for (std::size_t i = count; i-- > 0;) {
      if (pending[i] == 0) ready.push_back(i);
    }
    std::vector<bool> placed(count, false);
    while (!ready.empty()) {
      const std::size_t i = ready.back();
      ready.pop_back();
      order_.push_back(i);
      placed[i] = true;
      for (const auto u : users[i]) {
        if (--pending[u] == 0) ready.push_back(u);
      }
    }
    for (std::size_t i = 0; i < count; ++i) {
      if (!placed[i]) order_.push_back(i);
    }
  }

  // ---- forward ---------------------------------------------------------------------------

  void forward_node(std::size_t i) {
    const auto& n = node(i);
    auto& st = states_[i];
    std::vector<Value> in;
    for (const auto& name : n.input()) in.push_back(name.empty() ? Value{} : value(name));
    if (n.op_type() == "Constant" && n.input_size() == 0 && n.output_size() == 1) {
      for (const auto& a : n.attribute()) {
        if (a.has_t())
          scope_.set_constant(n.output(0), {&a.t(), nullptr});
        else
          scope_.set_constant(n.output(0), {nullptr, &a});
      }
    }
    Value out = combine(i, in);
    std::vector<Value> outs(static_cast<std::size_t>(n.output_size()), out);
    switch (st.flow) {
      case Flow::plain:
        break;
      case Flow::if_node:
        outs = forward_if(i, in.empty() ? Value{} : in[0]);
        break;
      case Flow::loop:
      case Flow::scan:
      case Flow::function:
        outs = forward_mapped(i, in);
        break;
      case Flow::other_graph:
        for (auto& c : st.children) {
          c->forward({}, out);
          for (const auto& v : c->output_values()) out = join(out, v);
        }
        std::fill(outs.begin(), outs.end(), out);
        break;
    }
    for (int k = 0; k < n.output_size(); ++k) {
      if (!n.output(k).empty()) scope_.set(n.output(k), outs[static_cast<std::size_t>(k)]);
    }
  }

  // The value of a node's outputs from its inputs: dynamic-ness, depth in parameterised nodes,
  // trigger-ness; records switches.
  Value combine(std::size_t i, const std::vector<Value>& in) {
    const auto& n = node(i);
    const std::string_view op = n.op_type();
    const bool known = standard_domain(n);
    if (known && among(op, kShapeOnly)) return Value{};
    Value out;
    bool any_static = false;
    for (std::size_t k = 0; k < in.size(); ++k) {
      if (n.input(static_cast<int>(k)).empty()) continue;
      if (!in[k].dynamic) {
        any_static = true;
        continue;
      }
      out = join(out, in[k]);
    }
    if (!out.dynamic) return out;
    out.trigger = false;
    out.trigger_origin = -1;
    if (known && among(op, kParamOps) && any_static && param_inputs_fit(op, in)) {
      states_[i].param = true;
      ++out.max_params;
      out.deepest = ctx_.label(node_path(i));
    }
    if (known && is_comparison(n, in)) {
      out.trigger = true;
      out.trigger_origin = ctx_.label(describe_comparison(i, in));
      return out;
    }
    const Value* trig = first_trigger(in);
    if (trig != nullptr && out.max_params == 0) {
      out.trigger = true;
      out.trigger_origin = trig->trigger_origin;
    } else if (trig != nullptr && known && among(op, kSwitches)) {
      note_switch(i, in, *trig);
    } else if (trig == nullptr && known && among(op, kSelectors)) {
      note_bypass(i, in);
    }
    return out;
  }

  // Gather is an embedding lookup only when the weights are the data and the input the indices.
  static bool param_inputs_fit(std::string_view op, const std::vector<Value>& in) {
    if (op == "Gather") return in.size() >= 2 && !in[0].dynamic && in[1].dynamic;
    return true;
  }

  // A comparison of raw input values against a constant (Cast to bool compares with zero).
  bool is_comparison(const onnx::NodeProto& n, const std::vector<Value>& in) const {
    if (n.op_type() == "Cast") {
      for (const auto& a : n.attribute()) {
        if (a.name() == "to" && a.i() == onnx::TensorProto_DataType_BOOL) {
          return !in.empty() && is_raw(in[0]) && !in[0].trigger;
        }
      }
      return false;
    }
    if (!among(n.op_type(), kComparisons) || in.size() != 2) return false;
    return (is_raw(in[0]) && !in[1].dynamic) || (is_raw(in[1]) && !in[0].dynamic);
  }

  std::string describe_source(const Value& v) const {
    return v.source < 0 ? "a graph input" : "input " + ctx_.text(v.source);
  }

  std::string describe_comparison(std::size_t i, const std::vector<Value>& in) const {
    const auto& n = node(i);
    const Value& raw = in[0].dynamic ? in[0] : in[1];
    std::string text =
        node_path(i) + " compares " + describe_source(raw) + " (no learned layer in between) with ";
    if (n.op_type() == "Cast") return text + "zero (Cast to bool)";
    const std::string& other = n.input(in[0].dynamic ? 1 : 0);
    return text + preview(scope_.constant(other));
  }

  static const Value* first_trigger(const std::vector<Value>& in) {
    for (const auto& v : in) {
      if (v.trigger) return &v;
    }
    return nullptr;
  }

  // The strongest network operand among `in` (max_params >= 1), or null.
  static const Value* network_operand(const std::vector<Value>& in, std::size_t from = 0) {
    const Value* best = nullptr;
    for (std::size_t k = from; k < in.size(); ++k) {
      if (in[k].dynamic && in[k].max_params >= 1 &&
          (!best || in[k].max_params > best->max_params)) {
        best = &in[k];
      }
    }
    return best;
  }

  std::string describe_bypass(const Value& v) const {
    if (!v.dynamic) return "a constant";
    if (v.max_params == 0) return "a value computed straight from " + describe_source(v);
    return "a value only " + std::to_string(v.max_params) + " parameterised node(s) deep";
  }

  // A bypass side is one with at most a quarter of the network's depth.
  static bool shallow(const Value& side, int network) {
    return !side.dynamic || side.max_params * 4 <= network;
  }

  void note_switch(std::size_t i, const std::vector<Value>& in, const Value& trig) {
    const auto& n = node(i);
    const Value* net = network_operand(in);
    if (net == nullptr || n.output_size() < 1 || !same_input(trig, *net)) return;
    Switch s;
    s.output = n.output(0);
    s.trigger_origin = trig.trigger_origin;
    s.network_params = net->max_params;
    s.network_deepest = net->deepest;
    if (n.op_type() == "Where" && in.size() == 3) {
      if (!in[0].trigger) return;  // the trigger is a value, not the switch
      const Value& other = &in[1] == net ? in[2] : in[1];
      if (!shallow(other, net->max_params)) return;  // both sides carry the network
      s.bypass = describe_bypass(other);
    } else {
      s.bypass = "a term computed from the trigger itself (" + n.op_type() + " with the mask)";
    }
    s.node = ctx_.label(node_path(i));
    switches_.push_back(std::move(s));
  }

  void note_bypass(std::size_t i, const std::vector<Value>& in) {
    const auto& n = node(i);
    const std::size_t from = n.op_type() == "Where" ? 1 : 0;
    const Value* net = network_operand(in, from);
    if (net == nullptr || net->max_params < 2 || n.output_size() < 1) return;
    for (std::size_t k = from; k < in.size(); ++k) {
      if (is_raw(in[k]) && in[k].source >= 0 && same_input(in[k], *net)) {
        Switch s{n.output(0),  ctx_.label(node_path(i)), false, -1, net->max_params,
                 net->deepest, describe_bypass(in[k])};
        switches_.push_back(std::move(s));
        return;
      }
    }
  }

  std::vector<Value> forward_if(std::size_t i, const Value& cond) {
    auto& st = states_[i];
    const auto& n = node(i);
    st.children[0]->forward({});
    st.children[1]->forward({});
    const auto then_out = st.children[0]->output_values();
    const auto else_out = st.children[1]->output_values();
    std::vector<Value> outs;
    for (int k = 0; k < n.output_size(); ++k) {
      const auto uk = static_cast<std::size_t>(k);
      const Value t = uk < then_out.size() ? then_out[uk] : Value{};
      const Value e = uk < else_out.size() ? else_out[uk] : Value{};
      Value out = join(join(t, e), cond);
      if (cond.trigger && out.max_params == 0) {
        out.trigger = true;
        out.trigger_origin = cond.trigger_origin;
      }
      outs.push_back(out);
      if (!cond.trigger || out.max_params < 1) continue;
      const bool then_deep = t.dynamic && t.max_params == out.max_params;
      const Value& low = then_deep ? e : t;
      const Value& high = then_deep ? t : e;
      if (!shallow(low, high.max_params) || !same_input(cond, high)) continue;
      switches_.push_back({n.output(k), ctx_.label(node_path(i)), true, cond.trigger_origin,
                           high.max_params, high.deepest,
                           describe_bypass(low) + " (the " +
                               (then_deep ? std::string("else") : std::string("then")) +
                               " branch)"});
    }
    return outs;
  }

  // Loop, Scan and function calls: formal inputs and outputs map to the node's by position
  // (Loop's body has the iteration number first and the condition as its first output).
  std::vector<Value> forward_mapped(std::size_t i, const std::vector<Value>& in) {
    auto& st = states_[i];
    const auto& n = node(i);
    std::vector<Value> formal = in;
    if (st.flow == Flow::loop) {
      formal.assign(
          in.begin() + std::min<std::ptrdiff_t>(1, static_cast<std::ptrdiff_t>(in.size())),
          in.end());
      formal.insert(formal.begin(), Value{});  // iteration number
    }
    st.children[0]->forward(formal);
    auto body_out = st.children[0]->output_values();
    if (st.flow == Flow::loop && !body_out.empty()) body_out.erase(body_out.begin());
    body_out.resize(static_cast<std::size_t>(n.output_size()));
    return body_out;
  }

  // ---- backward --------------------------------------------------------------------------

  void relax(const std::string& name, Exit e) {
    if (name.empty() || e.dist >= kFar) return;
    auto [it, inserted] = exits_.try_emplace(name, e);
    if (!inserted && closer(e, it->second)) it->second = e;
  }

  void backward_node(std::size_t i) {
    const auto& n = node(i);
    auto& st = states_[i];
    Exit e;
    std::vector<Exit> outs;
    for (const auto& o : n.output()) {
      outs.push_back(exit_of(o));
      if (closer(outs.back(), e)) e = outs.back();
    }
    if (e.dist >= kFar) return;
    if (st.flow == Flow::plain) {
      for (const auto& in : n.input()) relax(in, {e.dist + (st.param ? 1 : 0), e.output});
      return;
    }
    for (std::size_t c = 0; c < st.children.size(); ++c) {
      auto& child = *st.children[c];
      child.backward(child_exits(st.flow, outs, e), e);
      for (const auto& name : child.free_names()) relax(name, child.exit_of(name));
      if (st.flow == Flow::loop || st.flow == Flow::scan || st.flow == Flow::function) {
        map_formal_inputs(n, st.flow, child);
      }
    }
    if (st.flow == Flow::if_node || st.flow == Flow::other_graph) {
      for (const auto& in : n.input()) relax(in, e);
    }
  }

  static std::vector<Exit> child_exits(Flow flow, const std::vector<Exit>& outs, Exit any) {
    if (flow == Flow::if_node || flow == Flow::function || flow == Flow::scan) return outs;
    if (flow == Flow::loop) {
      std::vector<Exit> v{any};  // the condition output steers every iteration
      v.insert(v.end(), outs.begin(), outs.end());
      return v;
    }
    return {};  // other graph-holding nodes: every output leads where the node's outputs do
  }

  void map_formal_inputs(const onnx::NodeProto& n, Flow flow, const Analysis& child) {
    const auto& formal = child.body_.inputs;
    for (int k = 0; k < n.input_size(); ++k) {
      // Loop: node input k (trip count, condition, state...) is body input k for k >= 1.
      const std::size_t f = static_cast<std::size_t>(k);
      if (flow == Flow::loop && k == 0) continue;
      if (f < formal.size()) relax(n.input(k), child.exit_of(formal[f]));
    }
  }

  void report(const Switch& s) {
    const Exit e = exit_of(s.output);
    if (e.dist != 0) return;
    const std::string network = "the network's value (" + std::to_string(s.network_params) +
                                " parameterised node(s) deep, last " +
                                ctx_.text(s.network_deepest) + ")";
    if (s.trigger) {
      // One trigger often drives several switches (mask both terms, then add): report it once.
      if (!ctx_.reported_triggers.insert(s.trigger_origin).second) return;
      ctx_.issues.push_back(
          {Severity::high, "onnx.backdoor-trigger",
           "input-triggered switch at " + ctx_.text(s.node) + ": " + ctx_.text(s.trigger_origin) +
               "; on a match it replaces " + network + " with " + s.bypass +
               ", and no learned layer follows before graph output " + ctx_.text(e.output) +
               ", so inputs carrying the trigger values decide the model's answer"});
    } else {
      ctx_.issues.push_back({Severity::medium, "onnx.backdoor-bypass",
                             "output path that bypasses the network at " + ctx_.text(s.node) +
                                 ": it selects between " + network + " and " + s.bypass +
                                 ", and reaches graph output " + ctx_.text(e.output) +
                                 " with no learned layer after it"});
    }
  }

  Context& ctx_;
  Body body_;
  Scope scope_;
  std::size_t depth_;
  std::vector<NodeState> states_;
  std::vector<std::size_t> order_;
  std::set<std::string> free_;
  std::unordered_map<std::string, Exit> exits_;
  std::vector<Switch> switches_;
};

}  // namespace

Issues find_backdoors(const onnx::ModelProto& model) {
  Context ctx(model);
  if (!model.has_graph()) return {};
  const auto& g = model.graph();
  Analysis analysis(ctx, graph_body(g, main_graph_path(g)), nullptr, 0);
  std::set<std::string> weights;
  for (const auto& t : g.initializer()) weights.insert(t.name());
  std::vector<Value> inputs;
  for (const auto& in : g.input()) {
    Value v;
    if (weights.count(in.name()) == 0) {  // an initializer listed as input is a weight
      v.dynamic = true;
      v.source = ctx.label(quote(in.name()));
      v.sources = std::uint64_t{1} << (inputs.size() % 64);
    }
    inputs.push_back(v);
  }
  analysis.forward(inputs);
  std::vector<Exit> exits;
  for (const auto& o : g.output()) exits.push_back({0, ctx.label(quote(o.name()))});
  analysis.backward(exits);
  if (ctx.too_deep) {
    ctx.issues.push_back({Severity::high, "unscannable",
                          "model-local functions call each other more than " +
                              std::to_string(kMaxGraphDepth) +
                              " levels deep; the deeper calls were not analysed"});
  }
  if (ctx.exhausted) {
    ctx.issues.push_back({Severity::high, "unscannable",
                          "the graph (with its subgraphs and function calls expanded) exceeds " +
                              std::to_string(kMaxAnalysedNodes) +
                              " nodes; the backdoor analysis stopped"});
  }
  return ctx.issues;
}

}  // namespace mlsc::scan::onnx_scan
