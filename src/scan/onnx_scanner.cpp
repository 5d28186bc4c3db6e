// ONNX models (onnx.ModelProto). Recognised by content (see onnx_wire::looks_like_model); the
// weights are cut away on the wire, the structure is parsed with libonnx's generated classes under
// explicit protobuf limits, and four checks run over every graph, subgraph, model-local function
// and training graph:
//   onnx.external-data-*            tensors whose bytes come from outside the model folder, or
//                                   from missing, special or too-short files
//   onnx.custom-op-domain (and the extension / runtime-contrib variants)
//                                   operators that need native code the model does not carry
//   onnx.function-in-standard-domain
//                                   a model-local function posing as a standard operator
//   onnx.backdoor-trigger, onnx.backdoor-bypass
//                                   architectural backdoors (onnx_backdoor.hpp)
#include <google/protobuf/io/coded_stream.h>

#include <map>
#include <set>

#include "capped_report.hpp"
#include "mlsc/scan/scanners.hpp"
#include "onnx_backdoor.hpp"
#include "onnx_external_data.hpp"
#include "onnx_model.hpp"
#include "onnx_wire.hpp"

namespace mlsc::scan {

namespace {

using namespace onnx_scan;

// Nested messages protobuf may enter. The stripper already bounds the graph-carrying messages;
// this also bounds type descriptions (a sequence of a sequence of ...).
constexpr int kProtobufRecursionLimit = 100;
constexpr std::size_t kOpsListed = 5;

struct DomainUse {
  std::size_t nodes = 0;
  std::string first;          // path of the first node
  std::set<std::string> ops;  // operator names, for the message
};

// Operator domains and model-local functions.
class OperatorCheck final : public ModelVisitor {
 public:
  explicit OperatorCheck(const onnx::ModelProto& model) {
    for (const auto& f : model.functions()) local_.insert(f.domain() + '\n' + f.name());
  }

  void graph(const onnx::GraphProto& /*g*/, const std::string& /*path*/,
             std::size_t /*depth*/) override {
    ++graphs;
  }

  void node(const onnx::NodeProto& n, const std::string& path) override {
    ++nodes;
    const DomainKind kind = classify_domain(n.domain());
    if (kind == DomainKind::standard) return;
    if (local_.count(n.domain() + '\n' + n.op_type()) != 0) return;  // a function call
    auto& use = uses_[n.domain()];
    if (use.nodes++ == 0) use.first = path;
    if (use.ops.size() < kOpsListed) use.ops.insert(n.op_type());
  }

  void tensor(const onnx::TensorProto& t, const std::string& /*path*/) override {
    if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL) ++external_tensors;
  }

  Issues issues(const onnx::ModelProto& model) const {
    Issues out;
    for (const auto& [domain, use] : uses_) out.push_back(domain_issue(domain, use));
    for (const auto& f : model.functions()) {
      if (classify_domain(f.domain()) != DomainKind::standard) continue;
      out.push_back({Severity::medium, "onnx.function-in-standard-domain",
                     "model-local " + function_path(f) +
                         " is declared in a standard ONNX domain: nodes that name this operator "
                         "run the standard kernel in some runtimes and the function's own body in "
                         "tools that inline local functions"});
    }
    return out;
  }

  std::size_t graphs = 0;
  std::size_t nodes = 0;
  std::size_t external_tensors = 0;

 private:
  static Issue domain_issue(const std::string& domain, const DomainUse& use) {
    std::string ops;
    for (const auto& op : use.ops) ops += (ops.empty() ? "" : ", ") + quote(op);
    if (use.nodes > use.ops.size()) ops += ", ...";
    const std::string what = std::to_string(use.nodes) + " node(s) use operators of the " +
                             std::string(describe(classify_domain(domain))) + " domain " +
                             quote(domain) + " (" + ops + "; first at " + use.first + ")";
    switch (classify_domain(domain)) {
      case DomainKind::runtime_builtin:
        return {Severity::info, "onnx.runtime-contrib-ops",
                what + ": kernels built into ONNX Runtime; other runtimes cannot run the model"};
      case DomainKind::extension:
        return {Severity::low, "onnx.extension-op-domain",
                what + ": the runtime must load that extension's native library"};
      default:
        return {Severity::medium, "onnx.custom-op-domain",
                what +
                    ": no standard runtime implements them, so whoever deploys the model must "
                    "load a custom-operator library (native code) from its publisher"};
    }
  }

  std::set<std::string> local_;
  std::map<std::string, DomainUse> uses_;
};

std::string opsets(const onnx::ModelProto& model) {
  std::string s;
  for (const auto& o : model.opset_import()) {
    s += (s.empty() ? "" : ", ") +
         (o.domain().empty() ? std::string("ai.onnx") : quote(o.domain())) + " " +
         std::to_string(o.version());
  }
  return s.empty() ? "none" : s;
}

class OnnxScanner final : public Scanner {
 public:
  std::string_view format() const override { return "onnx"; }
  bool matches(ByteView data) const override { return onnx_wire::looks_like_model(data); }

  void scan(ByteView data, ScanContext& ctx) const override {
    onnx_wire::StripStats stripped;
    auto skeleton = onnx_wire::strip_tensor_payloads(data, onnx_wire::StripLimits{}, stripped);
    if (!skeleton) {
      ctx.add(Severity::high, "unscannable",
              "ONNX protobuf structure unreadable: " + skeleton.error().message,
              skeleton.error().offset);
      return;
    }
    onnx::ModelProto model;
    if (!parse(*skeleton, model)) {
      ctx.add(Severity::high, "unscannable",
              "ONNX model does not parse as onnx.ModelProto (nesting over " +
                  std::to_string(kProtobufRecursionLimit) + " messages, or invalid fields)");
      return;
    }
    CappedReport report(ctx);
    Issues issues;
    OperatorCheck operators(model);
    walk_model(model, operators, issues);
    append(issues, operators.issues(model));
    append(issues, check_external_data(model, ctx.member().empty() ? ctx.file_path() : ""));
    append(issues, find_backdoors(model));
    for (auto& i : issues) report.add(i.severity, i.rule, std::move(i.message));
    report.flush();
    ctx.add(Severity::info, "onnx.summary", summary(model, operators, stripped));
  }

 private:
  static bool parse(const std::string& bytes, onnx::ModelProto& model) {
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                              static_cast<int>(bytes.size()));
    in.SetTotalBytesLimit(static_cast<int>(bytes.size()));
    in.SetRecursionLimit(kProtobufRecursionLimit);
    return model.MergePartialFromCodedStream(&in) && in.ConsumedEntireMessage();
  }

  static void append(Issues& to, Issues from) {
    for (auto& i : from) to.push_back(std::move(i));
  }

  static std::string summary(const onnx::ModelProto& model, const OperatorCheck& ops,
                             const onnx_wire::StripStats& stripped) {
    return "ONNX IR version " + std::to_string(model.ir_version()) + " from " +
           quote(model.producer_name() + " " + model.producer_version()) + ", opsets " +
           opsets(model) + "; " + std::to_string(ops.nodes) + " nodes in " +
           std::to_string(ops.graphs) + " graph(s), " + std::to_string(model.functions_size()) +
           " local function(s), " + std::to_string(ops.external_tensors) + " external tensor(s); " +
           std::to_string(stripped.bytes_stripped) + " bytes of tensor data in " +
           std::to_string(stripped.tensors_stripped) + " tensors skipped";
  }
};

}  // namespace

std::unique_ptr<Scanner> make_onnx_scanner() {
  return std::make_unique<OnnxScanner>();
}

}  // namespace mlsc::scan
