#include "scan/tf_graph.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "scan/protobuf_wire.hpp"

namespace mlsc::scan::tf {
namespace {

// A minimal protobuf encoder for building SavedModels by field number.
std::string varint(std::uint64_t v) {
  std::string s;
  do {
    std::uint8_t b = v & 0x7F;
    v >>= 7;
    s += static_cast<char>(v ? (b | 0x80) : b);
  } while (v);
  return s;
}
std::string len(int field, const std::string& payload) {
  return varint(static_cast<std::uint64_t>(field) << 3 | 2) + varint(payload.size()) + payload;
}
std::string vint(int field, std::uint64_t v) {
  return varint(static_cast<std::uint64_t>(field) << 3) + varint(v);
}

std::string attr_s(const std::string& key, const std::string& s) {
  return len(5, len(1, key) + len(2, len(2, s)));
}
std::string attr_const(const std::string& value) {  // AttrValue.tensor.string_val
  return len(5, len(1, "value") + len(2, len(8, len(8, value))));
}
std::string node(const std::string& name, const std::string& op,
                 std::initializer_list<std::string> inputs = {}, const std::string& attrs = "") {
  std::string n = len(1, name) + len(2, op);
  for (const auto& i : inputs) n += len(3, i);
  return len(1, n + attrs);  // GraphDef.node / FunctionDef.node_def use 1 and 3: see fn()
}
std::string fn(const std::string& name, const std::string& nodes_as_graph_nodes) {
  // Re-tag GraphDef.node (1) entries as FunctionDef.node_def (3).
  std::string body = len(1, len(1, name));
  pb::Reader r(as_bytes(nodes_as_graph_nodes));
  pb::Field f;
  while (*r.next(f)) body += len(3, std::string(as_chars(f.bytes)));
  return len(1, body);
}
std::string saved_model(const std::string& graph, const std::string& meta_extra = "",
                        const std::string& saver = "saver_filename:0") {
  const std::string mg =
      len(1, len(4, "serve")) + len(2, graph) + len(3, len(1, saver)) + meta_extra;
  return vint(1, 1) + len(2, mg);
}

const Issue* find(const Analysis& a, const std::string& rule) {
  for (const auto& i : a.issues) {
    if (i.rule == rule) return &i;
  }
  return nullptr;
}

Analysis run(const std::string& bytes) {
  auto m = parse_saved_model(as_bytes(bytes));
  EXPECT_TRUE(m) << m.error().describe();
  return m ? analyse(*m) : Analysis{};
}

TEST(TfGraph, PyFuncInTheGraphIsCritical) {
  const auto a = run(saved_model(node("x", "Placeholder") + node("bad", "PyFunc", {"x"})));
  const Issue* i = find(a, "tensorflow.python-callback");
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->severity, Severity::critical);
  EXPECT_EQ(i->location, "graph/bad");
  EXPECT_EQ(a.nodes, 2U);
}

TEST(TfGraph, FileOpsInLibraryFunctionsQuoteTheirConstantPath) {
  const std::string body = node("p", "Const", {}, attr_const("/home/u/.bashrc")) +
                           node("w", "WriteFile", {"p:output:0", "c:output:0"});
  const auto a = run(saved_model(node("x", "Placeholder") + len(2, fn("__inference_f_1", body))));
  const Issue* i = find(a, "tensorflow.file-write");
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->severity, Severity::critical);
  EXPECT_EQ(i->location, "function/__inference_f_1/w");
  EXPECT_NE(i->message.find("/home/u/.bashrc"), std::string::npos);
  EXPECT_EQ(a.functions, 1U);
}

TEST(TfGraph, StandardSaverIsInfoAndOtherCheckpointOpsAreNot) {
  const std::string tf1 = node("save/Const", "Const", {}, attr_const("model")) +
                          node("save/SaveV2", "SaveV2", {"save/Const"}) +
                          node("save/RestoreV2", "RestoreV2", {"save/Const"});
  const auto a = run(saved_model(tf1, "", "save/Const:0"));
  ASSERT_EQ(a.issues.size(), 1U);
  EXPECT_EQ(a.issues[0].severity, Severity::info);
  EXPECT_TRUE(a.restores_variables);

  const std::string tf2 =
      node("saver_filename", "Placeholder") +
      len(2, fn("__inference__traced_save_9", node("s", "SaveV2", {"file_prefix"})) +
                 fn("__inference_serve_3", node("evil", "SaveV2", {"k:output:0"}) +
                                               node("k", "Const", {}, attr_const("/tmp/x"))));
  const auto b = run(saved_model(tf2));
  int info = 0, high = 0;
  for (const auto& i : b.issues) {
    info += i.severity == Severity::info;
    high += i.severity == Severity::high && i.location == "function/__inference_serve_3/evil";
  }
  EXPECT_EQ(info, 1);
  EXPECT_EQ(high, 1);
}

TEST(TfGraph, UnknownOpsNeedACustomKernelButFunctionCallsDoNot) {
  const std::string g = node("a", "MyOwnKernel") + node("b", "MyOwnKernel") +
                        node("c", "__inference_helper_1") + node("d", "MatMul") +
                        len(2, fn("__inference_helper_1", node("e", "Relu")));
  const auto a = run(saved_model(g));
  int custom = 0;
  for (const auto& i : a.issues) custom += i.rule == "tensorflow.custom-op";
  EXPECT_EQ(custom, 1);
  const Issue* i = find(a, "tensorflow.custom-op");
  ASSERT_NE(i, nullptr);
  EXPECT_NE(i->message.find("2 node(s)"), std::string::npos);
}

TEST(TfGraph, PrintV2IsOnlyAFindingWhenItWritesAFile) {
  const auto quiet = run(saved_model(node("p", "PrintV2", {}, attr_s("output_stream", "stderr"))));
  EXPECT_TRUE(quiet.issues.empty());
  const auto loud =
      run(saved_model(node("p", "PrintV2", {}, attr_s("output_stream", "file:///tmp/log"))));
  const Issue* i = find(loud, "tensorflow.file-write");
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->severity, Severity::high);
  EXPECT_NE(i->message.find("file:///tmp/log"), std::string::npos);
}

TEST(TfGraph, AssetNamesThatLeaveAssetsAreHigh) {
  const auto a = run(saved_model(node("x", "Placeholder"),
                                 len(6, len(2, "../../etc/passwd")) + len(6, len(2, "vocab.txt"))));
  int n = 0;
  for (const auto& i : a.issues) n += i.rule == "tensorflow.asset-path";
  EXPECT_EQ(n, 1);
  EXPECT_EQ(a.asset_files.size(), 2U);
}

TEST(TfGraph, KerasUserObjectMetadataIsCollected) {
  const std::string object_graph = len(7, len(1, len(4, len(1, "_tf_keras_layer") + len(3, "{}"))));
  const auto a = run(saved_model(node("x", "Placeholder"), object_graph));
  ASSERT_EQ(a.keras.size(), 1U);
  EXPECT_EQ(a.keras[0].where, "_tf_keras_layer");
}

TEST(TfGraph, RecognitionIsByMessageShape) {
  EXPECT_TRUE(looks_like_saved_model(as_bytes(saved_model(node("x", "Const")))));
  // The modelaudit sample shape: no schema version, one meta graph with a graph.
  EXPECT_TRUE(looks_like_saved_model(as_bytes(len(2, len(2, node("c", "Const"))))));
  EXPECT_FALSE(looks_like_saved_model(as_bytes(std::string("\x80\x04K."))));
  EXPECT_FALSE(looks_like_saved_model({}));
  // An ONNX-like prefix: ir_version then producer_name then more fields.
  EXPECT_FALSE(looks_like_saved_model(as_bytes(vint(1, 7) + len(2, "pytorch") + len(3, "1.13"))));
  const std::string md =
      len(1, vint(2, 1) + len(3, "root") + len(4, "_tf_keras_model") + len(5, "{}"));
  EXPECT_TRUE(looks_like_keras_metadata(as_bytes(md)));
  EXPECT_FALSE(looks_like_keras_metadata(as_bytes(len(1, len(4, "other")))));
  EXPECT_FALSE(looks_like_saved_model(as_bytes(md)));
}

TEST(TfGraph, TruncatedAndLyingLengthsNameAnOffset) {
  const std::string good = saved_model(node("x", "PyFunc"));
  for (std::size_t cut = 1; cut < good.size(); cut += 3) {
    auto m = parse_saved_model(as_bytes(std::string_view(good).substr(0, cut)));
    if (!m) {
      EXPECT_TRUE(m.error().offset.has_value());
      EXPECT_LE(*m.error().offset, cut);
    }
  }
  const std::string lie = std::string("\x12\xff\xff\xff\xff\x0f", 6) + "abc";
  auto m = parse_saved_model(as_bytes(lie));
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("declares"), std::string::npos);
}

TEST(ProtobufWire, RejectsGroupsAndOverlongVarints) {
  pb::Field f;
  const std::string group("\x0b", 1);
  const std::string overlong("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12);
  const std::string zero("\x00\x01", 2);
  for (const auto* bad : {&group, &overlong, &zero}) {
    pb::Reader r(as_bytes(*bad));
    EXPECT_FALSE(r.next(f)) << bad->size();
  }
}

}  // namespace
}  // namespace mlsc::scan::tf

namespace mlsc::scan::tf {
namespace {

std::string slurp(const std::string& rel) {
  std::ifstream in(std::string(MLSC_SOURCE_DIR) + "/" + rel);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every category the op policy can put in a rule id has a catalogue entry.
TEST(TfOpPolicy, EveryCategoryHasARuleEntry) {
  const std::string policy = slurp("data/tensorflow/op_policy.txt");
  const std::string rules = slurp("data/rules/tensorflow.yaml");
  ASSERT_FALSE(policy.empty());
  std::istringstream lines(policy);
  std::string line;
  int ops = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string op, severity, category;
    words >> op >> severity >> category;
    ++ops;
    EXPECT_NE(rules.find("- id: tensorflow." + category + "\n"), std::string::npos) << line;
    EXPECT_TRUE(severity == "critical" || severity == "high" || severity == "medium" ||
                severity == "low" || severity == "info")
        << line;
  }
  EXPECT_GT(ops, 50);
}

}  // namespace
}  // namespace mlsc::scan::tf
