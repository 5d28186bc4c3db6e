#include "scan/keras_config.hpp"

#include <gtest/gtest.h>

#include <string>

#include "scan/keras_code.hpp"

namespace mlsc::scan::keras {
namespace {

// base64(marshal.dumps((lambda x: (__import__('os').system('id'), x)[1]).__code__)), CPython 3.11,
// as keras.src.utils.python_utils.func_dump writes it (newline every 76 characters).
constexpr const char* kSystemLambdaB64 =
    "4wEAAAAAAAAAAAAAAAMAAAADAAAA81YAAACXAHQBAAAAAAAAAAAAAGQBpgEAAKsBAAAAAAAAAACg\\n"
    "AQAAAAAAAAAAAAAAAAAAAAAAAAAAZAKmAQAAqwEAAAAAAAAAAHwAZgJkAxkAAAAAAAAAAABTACkE\\n"
    "TtoCb3PaAmlk6QEAAAApAtoKX19pbXBvcnRfX9oGc3lzdGVtqQHaAXhzAQAAACD6CDxzdHJpbmc+\\n"
    "+gg8bGFtYmRhPnIKAAAAAwAAAHMmAAAAgACNepgk0Q8f1A8f1w8m0g8moHTRDyzUDyyoYdAOMLAR\\n"
    "1A4zgADzAAAAAA==\\n";

const ImportPolicy& policy() {
  static const ImportPolicy p = ImportPolicy::builtin();
  return p;
}

const Issue* find(const Report& r, const std::string& rule) {
  for (const auto& i : r.issues) {
    if (i.rule == rule) return &i;
  }
  return nullptr;
}

std::string k2_lambda(const std::string& code) {
  return R"({"class_name": "Sequential", "config": {"name": "seq", "layers": [
    {"class_name": "Dense", "config": {"name": "dense", "units": 3}},
    {"class_name": "Functional", "config": {"name": "encoder", "layers": [
      {"class_name": "Lambda", "name": "lambda_3", "config": {"name": "lambda_3",
       "function": [")" +
         code + R"(", null, null], "function_type": "lambda",
       "module": "__main__", "output_shape": null, "output_shape_type": "raw"}}]}}]}})";
}

TEST(KerasConfig, LambdaBytecodeWithOsSystemIsCriticalAtItsLayerPath) {
  const Report r = analyse_config(k2_lambda(kSystemLambdaB64), policy());
  ASSERT_TRUE(r.parsed);
  const Issue* i = find(r, "keras.lambda-dangerous-code");
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->severity, Severity::critical);
  EXPECT_EQ(i->path, "seq/encoder/lambda_3");
  EXPECT_NE(i->message.find("seq/encoder/lambda_3"), std::string::npos);
  EXPECT_NE(i->message.find("system"), std::string::npos);
  EXPECT_EQ(r.lambdas, 1U);
  EXPECT_EQ(r.root_class, "Sequential");
}

TEST(KerasConfig, HarmlessLookingLambdaIsStillHigh) {
  // marshal of (lambda x: x * 2.0).__code__, CPython 3.11
  const Report r = analyse_config(
      k2_lambda("4wEAAAAAAAAAAAAAAAIAAAADAAAA8wwAAACXAHwAZAF6BQAAUwApAk7nAAAAAAAAAECpAKkB2gF4cwEA"
                "AAAg+gg8c3RyaW5nPvoIPGxhbWJkYT5yBwAAAAYAAABzCgAAAIAAiGGQI4lngADzAAAAAA=="),
      policy());
  const Issue* i = find(r, "keras.lambda-layer");
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->severity, Severity::high);
  EXPECT_EQ(find(r, "keras.lambda-dangerous-code"), nullptr);
}

TEST(KerasConfig, SourceTextLambdaIsHighAndNamesEval) {
  const Report r = analyse_config(
      R"J({"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda",
          "config": {"function": "lambda x: eval('1')"}}]}})J",
      policy());
  const Issue* i = find(r, "keras.lambda-layer");
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->severity, Severity::high);
  EXPECT_NE(i->message.find("eval"), std::string::npos);
}

TEST(KerasConfig, PlainDenseModelHasNoIssues) {
  const Report r = analyse_config(
      R"({"module": "keras", "class_name": "Sequential", "registered_name": null, "config": {
          "name": "s", "layers": [{"module": "keras.layers", "class_name": "Dense",
          "registered_name": null, "config": {"name": "d", "units": 2,
          "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
          "config": {"seed": null}, "registered_name": null}}}]}})",
      policy());
  EXPECT_TRUE(r.issues.empty()) << r.issues.front().message;
  EXPECT_EQ(r.objects, 3U);
}

TEST(KerasConfig, ModuleImportOfOsSystemIsCve20251550) {
  const Report r = analyse_config(
      R"({"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [
          {"module": "keras.layers", "class_name": "Lambda", "config": {"name": "run",
           "function": {"module": "os", "class_name": "function", "config": "system",
                        "registered_name": "function"}}}]}})",
      policy());
  const Issue* i = find(r, "keras.unsafe-module-import");
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->severity, Severity::critical);
  EXPECT_EQ(i->path, "s/run");
  EXPECT_NE(i->message.find("CVE-2025-1550"), std::string::npos);
}

TEST(KerasConfig, BuiltinsEvalThroughFunctionConfigIsCritical) {
  const Report r = analyse_config(
      R"({"module": "keras", "class_name": "Model", "config": {"name": "m", "activation":
          {"module": "builtins", "class_name": "function", "config": "exec"}}})",
      policy());
  const Issue* i = find(r, "keras.unsafe-module-import");
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->severity, Severity::critical);
}

TEST(KerasConfig, GadgetsFromPublishedBypassesAreCritical) {
  for (const char* g :
       {R"("keras.utils", "class_name": "function", "config": "get_file")",
        R"("keras.config", "class_name": "function", "config": "enable_unsafe_deserialization")",
        R"("keras.models", "class_name": "function", "config": "load_model")",
        R"("keras.layers", "class_name": "TorchModuleWrapper", "config": {"name": "t"})"}) {
    const Report r = analyse_config(
        std::string(R"({"module": "keras", "class_name": "Sequential", "config": {"name": "s",
          "layers": [{"module": )") +
            g + "}]}}",
        policy());
    const Issue* i = find(r, "keras.unsafe-function");
    ASSERT_NE(i, nullptr) << g;
    EXPECT_EQ(i->severity, Severity::critical) << g;
  }
}

TEST(KerasConfig, TorchModuleWrapperPayloadIsHandedOver) {
  const Report r = analyse_config(
      R"({"module": "keras.layers", "class_name": "TorchModuleWrapper", "config": {"name": "t",
          "module": "UEsDBAoAAAAAAAAAIQAAAAAAAAAAAAAAAAAAAAA="}})",
      policy());
  ASSERT_EQ(r.payloads.size(), 1U);
  EXPECT_EQ(r.payloads[0].path, "t");
  EXPECT_EQ(r.payloads[0].bytes.substr(0, 4), "PK\x03\x04");
}

TEST(KerasConfig, CustomObjectsOutsideKerasAreReportedOnce) {
  const Report r = analyse_config(
      R"({"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [
          {"module": "my_pkg.layers", "class_name": "Mine", "registered_name": "my_pkg>Mine",
           "config": {"name": "a"}},
          {"module": "my_pkg.layers", "class_name": "Mine", "config": {"name": "b"}},
          {"class_name": "LegacyCustom", "config": {"name": "c"}}]}})",
      policy());
  int custom = 0;
  for (const auto& i : r.issues) custom += i.rule == "keras.custom-object";
  EXPECT_EQ(custom, 2);  // my_pkg.layers.Mine once (medium), LegacyCustom (low)
  const Issue* i = find(r, "keras.custom-object");
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->severity, Severity::medium);
  EXPECT_EQ(i->path, "s/a");
}

TEST(KerasConfig, VocabularyPathOutsideTheModelIsHigh) {
  const Report r = analyse_config(
      R"({"module": "keras.layers", "class_name": "StringLookup", "config": {"name": "lookup",
          "vocabulary": "/etc/passwd"}})",
      policy());
  const Issue* i = find(r, "keras.external-file");
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->severity, Severity::high);
}

TEST(KerasConfig, MalformedAndDeepConfigsAreReportedNotCrashed) {
  const Report bad = analyse_config("{\"class_name\": ", policy());
  EXPECT_FALSE(bad.parsed);
  ASSERT_NE(find(bad, "keras.malformed-config"), nullptr);
  std::string deep = "{\"class_name\": \"X\", \"config\": ";
  for (int i = 0; i < 100000; ++i) deep += '[';
  for (int i = 0; i < 100000; ++i) deep += ']';
  deep += '}';
  const Report d = analyse_config(deep, policy());
  const Issue* u = find(d, "unscannable");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->severity, Severity::high);
}

TEST(KerasConfig, ManyLambdasAreCappedWithASummary) {
  std::string layers;
  for (int i = 0; i < 200; ++i) {
    layers += std::string(i ? "," : "") + R"({"class_name": "Lambda", "config": {"name": "l)" +
              std::to_string(i) + R"(", "function": "x"}})";
  }
  const Report r = analyse_config(
      R"({"class_name": "Sequential", "config": {"name": "s", "layers": [)" + layers + "]}}",
      policy());
  EXPECT_EQ(r.lambdas, 200U);
  EXPECT_LE(r.issues.size(), 66U);
  EXPECT_NE(r.issues.back().message.find("more keras.lambda-layer"), std::string::npos);
}

TEST(KerasJson, RecognisesKerasDocumentsByTopLevelKeysOnly) {
  const auto kind = [](std::string_view s) { return classify_json(as_bytes(s)); };
  EXPECT_EQ(kind(R"({"module": "keras", "class_name": "Sequential", "config": {}})"),
            JsonKind::model_config);
  EXPECT_EQ(kind(R"(  {"class_name": "Sequential", "config": {"a": "}"}, "keras_version": "2"})"),
            JsonKind::model_config);
  EXPECT_EQ(kind(R"({"keras_version": "3.5.0", "date_saved": "2024"})"), JsonKind::metadata);
  // Hugging Face config.json, a bare class_name/config pair, nested markers, non-JSON.
  EXPECT_EQ(kind(R"({"architectures": ["Bert"], "model_type": "bert"})"), JsonKind::none);
  EXPECT_EQ(kind(R"({"class_name": "X", "config": {}})"), JsonKind::none);
  EXPECT_EQ(kind(R"({"outer": {"module": "m", "class_name": "X", "config": {}}})"), JsonKind::none);
  EXPECT_EQ(kind(R"({"module": "keras", "class_name": "X", "config": {)"), JsonKind::none);
  EXPECT_EQ(kind("\x80\x04K."), JsonKind::none);
  EXPECT_EQ(kind(""), JsonKind::none);
}

TEST(KerasCode, Base64DecodingFollowsBinascii) {
  EXPECT_EQ(decode_base64_lenient("aGVsbG8=").value(), "hello");
  EXPECT_EQ(decode_base64_lenient("aGVs\nbG8=\n").value(), "hello");
  EXPECT_EQ(decode_base64_lenient("aGVsbA==junk").value(), "hell");
  EXPECT_FALSE(decode_base64_lenient("aGVsbG8").has_value());  // incomplete quantum
  EXPECT_EQ(decode_base64_lenient("").value(), "");
}

}  // namespace
}  // namespace mlsc::scan::keras
