// The readers for what users hand `mlsc attest`: hyperparameters, metrics, dataset and
// base-model pairs.
#include "mlsc/provenance/step_inputs.hpp"

#include <gtest/gtest.h>

namespace mlsc::provenance {
namespace {

TEST(ParamAssignment, TypesScalarsAndKeepsEverythingElseAsText) {
  auto lr = parse_param_assignment("lr=0.001");
  ASSERT_TRUE(lr);
  EXPECT_EQ(lr->first, "lr");
  EXPECT_TRUE(lr->second.is_number_float());
  EXPECT_DOUBLE_EQ(lr->second.get<double>(), 0.001);
  EXPECT_TRUE(parse_param_assignment("epochs=3")->second.is_number_integer());
  EXPECT_EQ(parse_param_assignment("amp=true")->second, true);
  EXPECT_EQ(parse_param_assignment("opt=adamw")->second, "adamw");
  // Arrays and objects stay strings: a --param is one value, not a document.
  EXPECT_EQ(parse_param_assignment("layers=[1,2]")->second, "[1,2]");
  EXPECT_EQ(parse_param_assignment("x=a=b")->second, "a=b");
  EXPECT_EQ(parse_param_assignment("empty=")->second, "");
  EXPECT_EQ(parse_param_assignment("big=1e999")->second, "1e999");  // not finite: text
}

TEST(ParamAssignment, RefusesMissingOrBadKeys) {
  EXPECT_FALSE(parse_param_assignment("novalue"));
  EXPECT_FALSE(parse_param_assignment("=3"));
  EXPECT_FALSE(parse_param_assignment(std::string("a\nb=3")));
  EXPECT_FALSE(parse_param_assignment(std::string(300, 'k') + "=1"));
}

TEST(ParamsText, AcceptsAnObjectOnly) {
  auto p = parse_params_text(R"({"lr": 0.1, "sched": {"warmup": 100}})");
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)["sched"]["warmup"], 100);
  EXPECT_FALSE(parse_params_text("[1, 2]"));
  EXPECT_FALSE(parse_params_text("{\"a\": "));
  const std::string deep = std::string(40, '[') + std::string(40, ']');
  auto too_deep = parse_params_text("{\"a\": " + deep + "}");
  ASSERT_FALSE(too_deep);
  EXPECT_NE(too_deep.error().message.find("nested"), std::string::npos);
}

TEST(MetricsText, FlattensNestedObjectsToDottedNames) {
  auto m = parse_metrics_text(
      R"({"accuracy": 0.91, "eval": {"loss": 0.3, "split": "test"}, "ok": true})");
  ASSERT_TRUE(m) << m.error().describe();
  EXPECT_EQ(m->size(), 4u);
  EXPECT_DOUBLE_EQ((*m)["eval.loss"].get<double>(), 0.3);
  EXPECT_EQ((*m)["eval.split"], "test");
  EXPECT_EQ(m->begin().key(), "accuracy");  // file order kept
}

TEST(MetricsText, RefusesWhatIsNotOneValue) {
  EXPECT_FALSE(parse_metrics_text(R"({"curve": [0.1, 0.2]})"));
  EXPECT_FALSE(parse_metrics_text(R"({"x": null})"));
  EXPECT_FALSE(parse_metrics_text(R"({"": 1})"));
  // "a.b" given twice: once nested, once flat.
  auto dup = parse_metrics_text(R"({"a": {"b": 1}, "a.b": 2})");
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message.find("twice"), std::string::npos);
}

TEST(DatasetSpec, SplitsNamePathAndOptionalWeight) {
  auto a = parse_dataset_spec("wiki=data/wiki.manifest.sig:0.7");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->name, "wiki");
  EXPECT_EQ(a->manifest_bundle, "data/wiki.manifest.sig");
  ASSERT_TRUE(a->weight);
  EXPECT_DOUBLE_EQ(*a->weight, 0.7);
  auto b = parse_dataset_spec("code=/mnt/c:d/code.sig");  // a colon in the path is not a weight
  ASSERT_TRUE(b);
  EXPECT_EQ(b->manifest_bundle, "/mnt/c:d/code.sig");
  EXPECT_FALSE(b->weight);
  auto c = parse_dataset_spec("x=m.sig:-1");  // negative: part of the path
  ASSERT_TRUE(c);
  EXPECT_EQ(c->manifest_bundle, "m.sig:-1");
  EXPECT_FALSE(parse_dataset_spec("noequals"));
  EXPECT_FALSE(parse_dataset_spec("=m.sig"));
  EXPECT_FALSE(parse_dataset_spec("x=:0.5"));
}

TEST(BaseModelSpec, SplitsAtTheLastEquals) {
  auto s = parse_base_model_spec("models/a=b=models/a.sig");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->model, "models/a=b");
  EXPECT_EQ(s->signature, "models/a.sig");
  EXPECT_FALSE(parse_base_model_spec("models/a"));
  EXPECT_FALSE(parse_base_model_spec("models/a="));
}

}  // namespace
}  // namespace mlsc::provenance
