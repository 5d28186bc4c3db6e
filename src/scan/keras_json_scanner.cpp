// Keras JSON documents: a Keras 3 `.keras` archive's config.json and metadata.json (the zip
// scanner hands them over as members) and Keras 2 `model.to_json()` files. Recognised by their
// top-level keys only, so Hugging Face config.json and other JSON files are left to others.
#include "keras_config.hpp"
#include "keras_emit.hpp"
#include "mlsc/scan/scanners.hpp"

namespace mlsc::scan {

namespace {

class KerasJsonScanner final : public Scanner {
 public:
  std::string_view format() const override { return "keras-config"; }

  bool matches(ByteView data) const override {
    return keras::classify_json(data) != keras::JsonKind::none;
  }

  void scan(ByteView data, ScanContext& ctx) const override {
    if (keras::classify_json(data) == keras::JsonKind::metadata) {
      // keras_version and date_saved: nothing runs from it.
      ctx.set_format("keras-metadata");
      return;
    }
    keras::emit(keras::analyse_config(as_chars(data), ctx.policy()), ctx);
  }
};

}  // namespace

std::unique_ptr<Scanner> make_keras_json_scanner() {
  return std::make_unique<KerasJsonScanner>();
}

}  // namespace mlsc::scan
