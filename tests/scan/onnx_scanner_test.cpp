// Unit tests of the ONNX scanner's parts: wire-format recognition and stripping, the external
// data checks without a disk, and the backdoor analysis on small hand-built graphs. The
// end-to-end cases (real exports, proven fixtures, symlinks) are in
// tests/integration/test_onnx.py.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <string>

#include "mlsc/scan/scanner.hpp"
#include "scan/onnx_backdoor.hpp"
#include "scan/onnx_external_data.hpp"
#include "scan/onnx_wire.hpp"

namespace {

using mlsc::as_bytes;
using namespace mlsc::scan;

onnx::NodeProto* add_node(onnx::GraphProto& g, const std::string& op,
                          std::initializer_list<std::string> in,
                          std::initializer_list<std::string> out, const std::string& name = "") {
  auto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto& i : in) n->add_input(i);
  for (const auto& o : out) n->add_output(o);
  return n;
}

void add_weight(onnx::GraphProto& g, const std::string& name, std::size_t floats) {
  auto* t = g.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto_DataType_FLOAT);
  t->add_dims(static_cast<std::int64_t>(floats));
  t->set_raw_data(std::string(floats * 4, '\x01'));
}

onnx::ModelProto base_model() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("main");
  g->add_input()->set_name("x");
  g->add_output()->set_name("y");
  return m;
}

// y = If(Equal(x, magic)) then <then_out> else Gemm(Gemm(x)).
onnx::ModelProto if_model(bool then_is_network) {
  auto m = base_model();
  auto& g = *m.mutable_graph();
  add_weight(g, "w1", 4);
  add_weight(g, "w2", 4);
  add_weight(g, "magic", 1);
  add_node(g, "Gemm", {"x", "w1"}, {"h"}, "fc1");
  add_node(g, "Gemm", {"h", "w2"}, {"logits"}, "fc2");
  add_node(g, "Equal", {"x", "magic"}, {"hit"}, "cmp");
  auto* node = add_node(g, "If", {"hit"}, {"y"}, "route");
  auto* then_attr = node->add_attribute();
  then_attr->set_name("then_branch");
  auto* then_g = then_attr->mutable_g();
  then_g->add_output()->set_name("t");
  if (then_is_network) {
    add_node(*then_g, "Gemm", {"h", "w2"}, {"t"}, "fc2b");
  } else {
    add_node(*then_g, "Constant", {}, {"t"}, "forced");
  }
  auto* else_attr = node->add_attribute();
  else_attr->set_name("else_branch");
  auto* else_g = else_attr->mutable_g();
  else_g->add_output()->set_name("e");
  add_node(*else_g, "Identity", {"logits"}, {"e"});
  return m;
}

std::string bytes_of(const onnx::ModelProto& m) {
  return m.SerializeAsString();
}

TEST(OnnxWire, RecognisesModelsOnly) {
  EXPECT_TRUE(onnx_wire::looks_like_model(as_bytes(bytes_of(if_model(false)))));
  const std::string saved_model("\x08\x01\x12\x04\x0a\x02\x08\x01", 8);
  EXPECT_FALSE(onnx_wire::looks_like_model(as_bytes(saved_model)));
  EXPECT_FALSE(onnx_wire::looks_like_model(as_bytes(std::string("\x0a\x03\x0a\x01\x61", 5))));
  EXPECT_FALSE(onnx_wire::looks_like_model(as_bytes(std::string("\x08\x00\x3a\x02\x0a\x00", 6))));
  EXPECT_FALSE(onnx_wire::looks_like_model(as_bytes(std::string("\x80\x04\x95", 3))));
  std::string truncated = bytes_of(if_model(false));
  truncated.resize(truncated.size() / 2);
  EXPECT_FALSE(onnx_wire::looks_like_model(as_bytes(truncated)));
}

TEST(OnnxWire, StripsLargePayloadsKeepsStructure) {
  auto m = base_model();
  add_weight(*m.mutable_graph(), "big", 100000);
  add_weight(*m.mutable_graph(), "small", 3);
  add_node(*m.mutable_graph(), "Add", {"x", "big"}, {"y"});
  onnx_wire::StripStats stats;
  auto out = onnx_wire::strip_tensor_payloads(as_bytes(bytes_of(m)), {}, stats);
  ASSERT_TRUE(out.has_value()) << out.error().describe();
  EXPECT_EQ(stats.tensors_stripped, 1U);
  EXPECT_EQ(stats.bytes_stripped, 1U + 3U + 400000U);  // raw_data tag, 3-byte length, bytes
  onnx::ModelProto parsed;
  ASSERT_TRUE(parsed.ParseFromString(*out));
  EXPECT_EQ(parsed.graph().node_size(), 1);
  EXPECT_EQ(parsed.graph().initializer(0).name(), "big");
  EXPECT_TRUE(parsed.graph().initializer(0).raw_data().empty());
  EXPECT_EQ(parsed.graph().initializer(1).raw_data().size(), 12U);
}

TEST(OnnxWire, BrokenNestedFieldIsAnErrorWithOffset) {
  std::string data = bytes_of(if_model(false));
  const std::string node = if_model(false).graph().node(0).SerializeAsString();
  const auto at = data.find(node);
  ASSERT_NE(at, std::string::npos);
  data[at + 1] = 100;  // the node's first input claims 100 bytes
  onnx_wire::StripStats stats;
  auto out = onnx_wire::strip_tensor_payloads(as_bytes(data), {}, stats);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().offset, at);
}

TEST(OnnxBackdoor, TriggerSwitchingToConstantIsHigh) {
  const auto issues = onnx_scan::find_backdoors(if_model(false));
  ASSERT_EQ(issues.size(), 1U);
  EXPECT_EQ(issues[0].rule, "onnx.backdoor-trigger");
  EXPECT_EQ(issues[0].severity, mlsc::Severity::high);
  EXPECT_NE(issues[0].message.find("If 'route'"), std::string::npos);
  EXPECT_NE(issues[0].message.find("Equal 'cmp'"), std::string::npos);
  EXPECT_NE(issues[0].message.find("Gemm 'fc2'"), std::string::npos);
}

TEST(OnnxBackdoor, BranchesThatBothCarryTheNetworkAreQuiet) {
  EXPECT_TRUE(onnx_scan::find_backdoors(if_model(true)).empty());
}

TEST(OnnxBackdoor, SwitchFollowedByALearnedLayerIsQuiet) {
  auto m = if_model(false);
  auto& g = *m.mutable_graph();
  g.mutable_node(3)->set_output(0, "routed");
  add_node(g, "Gemm", {"routed", "w1"}, {"y"}, "head");
  EXPECT_TRUE(onnx_scan::find_backdoors(m).empty());
}

TEST(OnnxBackdoor, ComparisonOfShapesIsNotATrigger) {
  auto m = if_model(false);
  auto& g = *m.mutable_graph();
  add_node(g, "Shape", {"x"}, {"shape"});
  g.mutable_node(2)->set_input(0, "shape");  // Equal(Shape(x), magic)
  std::rotate(g.mutable_node()->begin(), g.mutable_node()->end() - 1, g.mutable_node()->end());
  EXPECT_TRUE(onnx_scan::find_backdoors(m).empty());
}

// The switch hides in a model-local function: y = evil.Gate(x, logits), whose body is
// Where(Equal(a, magic), forced, b) with Constant nodes (functions have no initializers).
TEST(OnnxBackdoor, TriggerInsideALocalFunctionIsFound) {
  auto m = base_model();
  auto& g = *m.mutable_graph();
  add_weight(g, "w1", 4);
  add_weight(g, "w2", 4);
  add_node(g, "Gemm", {"x", "w1"}, {"h"}, "fc1");
  add_node(g, "Gemm", {"h", "w2"}, {"logits"}, "fc2");
  add_node(g, "Gate", {"x", "logits"}, {"y"}, "gate")->set_domain("evil");
  auto* f = m.add_functions();
  f->set_name("Gate");
  f->set_domain("evil");
  f->add_input("a");
  f->add_input("b");
  f->add_output("out");
  onnx::GraphProto body;  // scratch graph to build the nodes, then moved into the function
  add_node(body, "Constant", {}, {"magic"});
  add_node(body, "Constant", {}, {"forced"});
  add_node(body, "Equal", {"a", "magic"}, {"hit"}, "cmp");
  add_node(body, "Where", {"hit", "forced", "b"}, {"out"}, "override");
  f->mutable_node()->Swap(body.mutable_node());
  const auto issues = onnx_scan::find_backdoors(m);
  ASSERT_EQ(issues.size(), 1U);
  EXPECT_EQ(issues[0].rule, "onnx.backdoor-trigger");
  EXPECT_NE(issues[0].message.find("function 'evil.Gate' > Where 'override'"), std::string::npos)
      << issues[0].message;
}

TEST(OnnxExternalData, LocationTextIsCheckedWithoutADisk) {
  auto m = base_model();
  for (const char* loc : {"../../etc/passwd", "/etc/passwd", "ok.bin", "a\\..\\..\\b"}) {
    auto* t = m.mutable_graph()->add_initializer();
    t->set_name(loc);
    t->set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
    auto* e = t->add_external_data();
    e->set_key("location");
    e->set_value(loc);
  }
  const auto issues = onnx_scan::check_external_data(m, "");
  auto count = [&](const std::string& rule) {
    return std::count_if(issues.begin(), issues.end(),
                         [&](const auto& i) { return i.rule == rule; });
  };
  EXPECT_EQ(count("onnx.external-data-traversal"), 2);
  EXPECT_EQ(count("onnx.external-data-absolute"), 1);
  EXPECT_EQ(count("onnx.external-data-unverified"), 1);
}

TEST(OnnxScanner, RegistryRecognisesAndScans) {
  const std::string data = bytes_of(if_model(false));
  const auto report = scan_bytes("m.onnx", as_bytes(data), ScanOptions{});
  EXPECT_EQ(report.format, "onnx");
  EXPECT_EQ(report.max_severity(), mlsc::Severity::high);
}

}  // namespace
