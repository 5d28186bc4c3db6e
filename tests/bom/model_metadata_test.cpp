#include <gtest/gtest.h>

#include <cstring>

#include "mlsc/bom/inventory.hpp"
#include "mlsc/bom/purl.hpp"
#include "mlsc/bom/sources.hpp"

namespace mlsc::bom {
namespace {

TEST(ModelCard, FrontMatterAndSections) {
  const char* readme =
      "---\r\nlicense: apache-2.0\r\nbase_model:\r\n- org/base-a\r\n- org/base-b\r\ndatasets: "
      "imdb\r\n"
      "language: [en, de]\r\npipeline_tag: text-classification\r\nmodel-index:\r\n- name: m\r\n  "
      "results:\r\n"
      "  - task: {type: text-classification}\r\n    dataset: {name: GLUE, type: glue}\r\n"
      "    metrics:\r\n    - {type: accuracy, value: 0.91}\r\n    - {type: f1}\r\n---\r\n"
      "# Model\n## Intended uses & limitations\nShort reviews.\n### How to use\nCall it.\n"
      "## Limitations\nEnglish only.\n## Other\nnot taken\n";
  auto card = parse_model_card(readme);
  ASSERT_TRUE(card) << card.error().describe();
  EXPECT_EQ(card->license, "apache-2.0");
  EXPECT_EQ(card->base_models, (std::vector<std::string>{"org/base-a", "org/base-b"}));
  EXPECT_EQ(card->datasets, std::vector<std::string>{"imdb"});
  EXPECT_EQ(card->languages, (std::vector<std::string>{"en", "de"}));
  EXPECT_EQ(card->pipeline_tag, "text-classification");
  EXPECT_EQ(card->model_name, "m");
  ASSERT_EQ(card->metrics.size(), 1U);  // the f1 entry has no value
  EXPECT_EQ(card->metrics[0].value, "0.91");
  EXPECT_EQ(card->metrics[0].dataset, "glue");
  EXPECT_EQ(card->eval_datasets, std::vector<std::string>{"glue"});
  EXPECT_EQ(card->intended_uses, "Short reviews. Call it.");
  EXPECT_EQ(card->limitations, "English only.");
}

TEST(ModelCard, NoFrontMatterIsFineBrokenIsNot) {
  auto plain = parse_model_card("# Just a readme\n");
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->license.empty());
  EXPECT_FALSE(parse_model_card("---\nlicense: mit\n"));          // never closed
  EXPECT_FALSE(parse_model_card("---\n[unclosed: flow\n---\n"));  // YAML error
  EXPECT_FALSE(parse_model_card("---\n- a list\n---\n"));         // not a mapping
  EXPECT_FALSE(parse_model_card("---\nx: " + std::string(500, '[') + "\n---\n"));
}

TEST(ModelConfig, ArchitecturesAndType) {
  Model m;
  ASSERT_TRUE(parse_model_config(
      R"({"architectures": ["BertForSequenceClassification", 3], "model_type": "bert"})", m));
  EXPECT_EQ(m.architectures, std::vector<std::string>{"BertForSequenceClassification"});
  EXPECT_EQ(m.model_type, "bert");
  EXPECT_FALSE(parse_model_config("[1]", m));
  EXPECT_FALSE(parse_model_config("{", m));
}

std::string safetensors(const std::string& header, std::size_t data_bytes) {
  std::string out(8, '\0');
  const std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + header + std::string(data_bytes, '\0');
}

TEST(Safetensors, CountsParametersAndChecksRanges) {
  const auto file = safetensors(
      R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]},"__metadata__":{"format":"pt"}})",
      32);
  auto w = read_safetensors_header(as_bytes(file), file.size());
  ASSERT_TRUE(w) << w.error().describe();
  EXPECT_EQ(w->parameters, 10U);
  EXPECT_EQ(w->dtypes, (std::vector<std::string>{"BF16", "F32"}));
  const auto wrong_size =
      safetensors(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", 24);
  EXPECT_FALSE(read_safetensors_header(as_bytes(wrong_size), wrong_size.size()));
  const auto past_end =
      safetensors(R"({"a":{"dtype":"U8","shape":[100],"data_offsets":[0,100]}})", 10);
  EXPECT_FALSE(read_safetensors_header(as_bytes(past_end), past_end.size()));
  const auto overflow = safetensors(
      R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}})", 0);
  EXPECT_FALSE(read_safetensors_header(as_bytes(overflow), overflow.size()));
  const auto negative =
      safetensors(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})", 0);
  EXPECT_FALSE(read_safetensors_header(as_bytes(negative), negative.size()));
  std::string huge(8, '\xff');
  EXPECT_FALSE(read_safetensors_header(as_bytes(huge), huge.size()));
  EXPECT_FALSE(read_safetensors_header(as_bytes(std::string("\x01\x00", 2)), 2));
}

void put_u32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put_u64(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put_str(std::string& s, const std::string& v) {
  put_u64(s, v.size());
  s += v;
}

std::string gguf(std::uint64_t dim) {
  std::string s = "GGUF";
  put_u32(s, 3);
  put_u64(s, 1);  // tensors
  put_u64(s, 2);  // kv
  put_str(s, "general.architecture");
  put_u32(s, 8);
  put_str(s, "llama");
  put_str(s, "tokens");
  put_u32(s, 9);
  put_u32(s, 8);
  put_u64(s, 2);
  put_str(s, "a");
  put_str(s, "bc");
  put_str(s, "w");
  put_u32(s, 2);
  put_u64(s, dim);
  put_u64(s, 3);
  put_u32(s, 12);  // Q4_K
  put_u64(s, 0);
  return s;
}

TEST(Gguf, CountsParametersAndReadsArchitecture) {
  const auto file = gguf(5);
  auto w = read_gguf_header(as_bytes(file), file.size());
  ASSERT_TRUE(w) << w.error().describe();
  EXPECT_EQ(w->parameters, 15U);
  EXPECT_EQ(w->architecture, "llama");
  EXPECT_EQ(w->dtypes, std::vector<std::string>{"Q4_K"});
}

TEST(Gguf, RejectsTruncatedAndHostile) {
  const auto file = gguf(5);
  for (std::size_t cut = 0; cut < file.size(); ++cut) {
    EXPECT_FALSE(read_gguf_header(as_bytes(file).first(cut), cut)) << cut;
  }
  const auto overflow = gguf(1ULL << 63);  // 3 * 2^63 elements
  EXPECT_FALSE(read_gguf_header(as_bytes(overflow), overflow.size()));
  std::string huge_string = "GGUF";
  put_u32(huge_string, 3);
  put_u64(huge_string, 0);
  put_u64(huge_string, 1);
  put_u64(huge_string, ~0ULL);  // key length
  EXPECT_FALSE(read_gguf_header(as_bytes(huge_string), huge_string.size()));
  std::string bad_version = "GGUF";
  put_u32(bad_version, 7);
  EXPECT_FALSE(read_gguf_header(as_bytes(bad_version), bad_version.size()));
}

TEST(NativeRuntime, LibraryNamesPackagesTorchVersion) {
  auto cudart = runtime_from_library_name("libcudart.so.11.0", "e");
  ASSERT_TRUE(cudart);
  EXPECT_EQ(cudart->name, "cuda-runtime");
  EXPECT_EQ(cudart->version, "11.0");
  auto hashed = runtime_from_library_name("libcudnn-3f4a1b2c.so.8", "e");
  ASSERT_TRUE(hashed);
  EXPECT_EQ(hashed->name, "cudnn");
  EXPECT_EQ(hashed->version, "8");
  EXPECT_TRUE(runtime_from_library_name("libcuda.so.535.104.05", "e")->driver);
  EXPECT_FALSE(runtime_from_library_name("libcudart.so.11.0.bak", "e"));
  EXPECT_FALSE(runtime_from_library_name("libfoo.so.1", "e"));
  EXPECT_FALSE(runtime_from_library_name("libcudart.a", "e"));
  Package p;
  p.name = "nvidia-cudnn-cu11";
  p.version = "8.5.0.96";
  EXPECT_EQ(runtime_from_package(p)->name, "cudnn");
  p.name = "nvidia-cudnn-cuXX";
  EXPECT_FALSE(runtime_from_package(p));
  p.name = "cudatoolkit";
  p.ecosystem = "conda";
  p.version = "11.7.0";
  EXPECT_EQ(runtime_from_package(p)->name, "cuda-runtime");
  const auto torch =
      runtime_from_torch_version("__version__ = '1.13.1'\ncuda = '11.7'\nhip = None\n", "v");
  ASSERT_EQ(torch.size(), 1U);
  EXPECT_EQ(torch[0].version, "11.7");
  EXPECT_TRUE(runtime_from_torch_version("cuda = None\n", "v").empty());
}

TEST(Purl, PypiCondaHuggingface) {
  EXPECT_EQ(normalize_pypi_name("Foo.Bar__baz--Qux"), "foo-bar-baz-qux");
  EXPECT_EQ(pypi_purl("PyYAML", "6.0"), "pkg:pypi/pyyaml@6.0");
  EXPECT_EQ(pypi_purl("torch", "1.13.1+cu117"), "pkg:pypi/torch@1.13.1%2Bcu117");
  EXPECT_EQ(pypi_purl("x", ""), "pkg:pypi/x");
  EXPECT_EQ(conda_purl("PyTorch", "2.0.1", "py3_0", "pytorch", "linux-64"),
            "pkg:conda/pytorch@2.0.1?build=py3_0&channel=pytorch&subdir=linux-64");
  EXPECT_EQ(huggingface_purl("acme/tiny", "ABCDEF"), "pkg:huggingface/acme/tiny@abcdef");
  EXPECT_EQ(huggingface_purl("gpt2", ""), "pkg:huggingface/gpt2");
  EXPECT_EQ(huggingface_purl("../etc", ""), "");
  EXPECT_FALSE(is_hub_repo_id("a/b/c"));
  EXPECT_FALSE(is_hub_repo_id("has space/x"));
}

}  // namespace
}  // namespace mlsc::bom
