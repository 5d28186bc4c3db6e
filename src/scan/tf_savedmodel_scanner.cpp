// TensorFlow SavedModel (saved_model.pb) and its Keras metadata (keras_metadata.pb). Judging
// is in tf_graph.cpp (op policy as data: data/tensorflow/op_policy.txt, standard op names:
// data/tensorflow/standard_ops.txt); Keras metadata JSON goes to the Keras config walker.
#include <filesystem>
#include <string>
#include <system_error>

#include "keras_config.hpp"
#include "keras_emit.hpp"
#include "mlsc/scan/scanners.hpp"
#include "tf_graph.hpp"

namespace mlsc::scan {

namespace {

namespace fs = std::filesystem;

void keras_metadata(const std::vector<tf::KerasMetadata>& list, ScanContext& ctx) {
  for (const auto& k : list) {
    // Only JSON that is a Keras object description; other user-object metadata is skipped.
    if (k.json.empty() || k.json[0] != '{') continue;
    keras::emit(keras::analyse_config(k.json, ctx.policy(), k.where), ctx);
  }
}

// variables/ and assets/ beside saved_model.pb: what the loader will read next.
void neighbours(const tf::Analysis& a, ScanContext& ctx) {
  if (ctx.file_path().empty()) {
    if (a.restores_variables || !a.asset_files.empty()) {
      ctx.add(Severity::info, "tensorflow.neighbours-unchecked",
              "scanned from memory: the variables/ and assets/ folders beside this SavedModel "
              "were not checked");
    }
    return;
  }
  std::error_code ec;
  const fs::path dir = fs::path(ctx.file_path()).parent_path();
  if (a.restores_variables && !fs::exists(dir / "variables" / "variables.index", ec)) {
    ctx.add(Severity::info, "tensorflow.missing-variables",
            "the graph restores variables but " + (dir / "variables").string() +
                "/variables.index is missing: the model will not load as found");
  }
  for (const auto& [name, offset] : a.asset_files) {
    if (name.empty() || name[0] == '/' || name.find("..") != std::string::npos) continue;
    if (!fs::exists(dir / "assets" / name, ec)) {
      ctx.add(Severity::info, "tensorflow.missing-asset",
              "asset '" + name + "' named by the graph is not in " + (dir / "assets").string(),
              offset);
    }
  }
}

class SavedModelScanner final : public Scanner {
 public:
  std::string_view format() const override { return "tensorflow-savedmodel"; }
  bool matches(ByteView data) const override { return tf::looks_like_saved_model(data); }

  void scan(ByteView data, ScanContext& ctx) const override {
    auto model = tf::parse_saved_model(data);
    if (!model) {
      ctx.add(Severity::high, "unscannable",
              "SavedModel protobuf unreadable: " + model.error().message + "; not analysed",
              model.error().offset);
      return;
    }
    const tf::Analysis a = tf::analyse(*model);
    for (const auto& issue : a.issues) {
      ctx.add_in(issue.location, issue.severity, issue.rule, issue.message, issue.offset);
    }
    keras_metadata(a.keras, ctx);
    neighbours(a, ctx);
  }
};

class KerasMetadataScanner final : public Scanner {
 public:
  std::string_view format() const override { return "keras-savedmodel-metadata"; }
  bool matches(ByteView data) const override { return tf::looks_like_keras_metadata(data); }

  void scan(ByteView data, ScanContext& ctx) const override {
    auto list = tf::parse_keras_metadata(data);
    if (!list) {
      ctx.add(Severity::high, "unscannable",
              "Keras metadata protobuf unreadable: " + list.error().message + "; not analysed",
              list.error().offset);
      return;
    }
    keras_metadata(*list, ctx);
  }
};

}  // namespace

std::unique_ptr<Scanner> make_tf_savedmodel_scanner() {
  return std::make_unique<SavedModelScanner>();
}

std::unique_ptr<Scanner> make_keras_metadata_scanner() {
  return std::make_unique<KerasMetadataScanner>();
}

}  // namespace mlsc::scan
