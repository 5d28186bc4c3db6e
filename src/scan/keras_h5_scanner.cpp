// HDF5 files, and Keras models saved in them (`model.save("m.h5")`, tf.keras and Keras 2, and
// the `model.weights.h5` inside a Keras 3 archive). The model lives in the root attributes
// `model_config` and `training_config` (JSON); the Keras config walker judges those. libhdf5
// reads the file only inside a sandboxed child process (hdf5_probe.hpp).
#include <string>

#include "hdf5_probe.hpp"
#include "keras_config.hpp"
#include "keras_emit.hpp"
#include "mlsc/scan/scanners.hpp"

namespace mlsc::scan {

namespace {

bool is_keras_attribute(const hdf5::Attribute& a) {
  return a.name == "model_config" || a.name == "training_config" ||
         (a.object == "/" && (a.name == "keras_version" || a.name == "backend"));
}

// "training_config" for the root attribute, "group/sub:model_config" for a nested one; the
// model config at the root is the model itself and adds nothing to the layer path.
std::string config_root(const hdf5::Attribute& a) {
  if (a.object == "/") return a.name == "model_config" ? std::string() : a.name;
  return a.object.substr(1) + ":" + a.name;
}

class KerasH5Scan {
 public:
  KerasH5Scan(ByteView data, ScanContext& ctx) : data_(data), ctx_(ctx) {}

  void run() {
    auto sb = hdf5::check_superblock(data_);
    if (!sb) {
      ctx_.add(Severity::high, "unscannable",
               "HDF5 structure unreadable: " + sb.error().message + "; not analysed",
               sb.error().offset);
      return;
    }
    outside(*sb);
    auto probe = hdf5::probe(data_);
    if (!probe) {
      ctx_.add(Severity::high, "unscannable",
               probe.error().message +
                   "; the file is malformed (possibly on purpose) and was "
                   "not analysed");
      return;
    }
    if (!probe->open_error.empty()) {
      ctx_.add(Severity::high, "unscannable", probe->open_error + "; not analysed");
      return;
    }
    attributes(*probe);
    if (probe->objects_truncated) {
      ctx_.add(Severity::medium, "hdf5.too-many-objects",
               "more than " + std::to_string(probe->objects - 1) +
                   " groups and datasets; nested model configs past that were not looked for");
    }
  }

 private:
  // A user block in front and bytes after the end address are invisible to libhdf5 but not to
  // other readers: scan them like a zip's prepended and trailing data.
  void outside(const hdf5::Superblock& sb) {
    if (sb.offset > 0) {
      ctx_.add(Severity::info, "hdf5.user-block",
               "HDF5 user block of " + std::to_string(sb.offset) + " bytes before the superblock",
               0);
      ctx_.scan_member("<userblock>", data_.first(static_cast<std::size_t>(sb.offset)));
    }
    if (sb.end < data_.size()) {
      ctx_.add(Severity::low, "hdf5.trailing-data",
               std::to_string(data_.size() - sb.end) +
                   " bytes after the HDF5 end-of-file address; libhdf5 ignores them",
               sb.end);
      ctx_.scan_member("<trailing>", data_.subspan(static_cast<std::size_t>(sb.end)));
    }
  }

  void attributes(const hdf5::Probe& probe) {
    for (const auto& a : probe.attributes) {
      if (!is_keras_attribute(a)) continue;
      ctx_.set_format("keras-h5");
      if (a.name != "model_config" && a.name != "training_config") continue;
      if (a.truncated) {
        ctx_.add_in(config_root(a), Severity::high, "unscannable",
                    "attribute " + a.name + " is larger than the " +
                        std::to_string(hdf5::ProbeLimits{}.max_attribute_bytes >> 20) +
                        " MiB mlsc reads; not analysed");
        continue;
      }
      keras::emit(keras::analyse_config(a.value, ctx_.policy(), config_root(a)), ctx_);
    }
  }

  ByteView data_;
  ScanContext& ctx_;
};

// Two registrations of one scanner: an HDF5 signature at offset 0 is unambiguous and goes
// first; one after a user block goes after the other magic-based scanners, so that a zip that
// stores an .h5 member at a power-of-two offset stays a zip (its member is scanned as HDF5).
class KerasH5Scanner final : public Scanner {
 public:
  explicit KerasH5Scanner(bool after_user_block) : after_user_block_(after_user_block) {}
  std::string_view format() const override { return "hdf5"; }
  bool matches(ByteView data) const override {
    const auto at = hdf5::find_signature(data);
    return at.has_value() && (*at == 0) != after_user_block_;
  }
  void scan(ByteView data, ScanContext& ctx) const override { KerasH5Scan(data, ctx).run(); }

 private:
  bool after_user_block_;
};

}  // namespace

std::unique_ptr<Scanner> make_keras_h5_scanner() {
  return std::make_unique<KerasH5Scanner>(false);
}

std::unique_ptr<Scanner> make_hdf5_user_block_scanner() {
  return std::make_unique<KerasH5Scanner>(true);
}

}  // namespace mlsc::scan
