// Legacy (pre-1.6, `_use_new_zipfile_serialization=False`) PyTorch checkpoints: five pickles
// in a row (magic number, protocol version, sys info, the object, storage keys) followed by raw
// storage bytes. torch.load unpickles exactly those five, so we scan exactly those five and
// never touch the tensor bytes behind them.
#include <array>

#include "mlsc/scan/pickle.hpp"
#include "mlsc/scan/scanners.hpp"

namespace mlsc::scan {

namespace {

// LONG1 opcode, 10 bytes, then 0x1950a86a20f9469cfc6c little-endian: torch's MAGIC_NUMBER.
constexpr std::array<std::uint8_t, 12> kMagicLong = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                                     0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr std::size_t kLegacyPickles = 5;

class TorchLegacyScanner final : public Scanner {
 public:
  std::string_view format() const override { return "pytorch-legacy"; }

  bool matches(ByteView data) const override {
    // PROTO n, then the magic number as the first value.
    if (data.size() < 2 + kMagicLong.size() || data[0] != 0x80) return false;
    for (std::size_t i = 0; i < kMagicLong.size(); ++i) {
      if (data[2 + i] != kMagicLong[i]) return false;
    }
    return true;
  }

  void scan(ByteView data, ScanContext& ctx) const override {
    pickle::StreamOptions options;
    options.vm.torch_persistent_ids = true;
    options.vm.max_values = ctx.options().limits.max_pickle_values;
    options.max_pickles = kLegacyPickles;
    const auto summary = pickle::scan_stream(data, ctx, options);
    if (summary.pickles < kLegacyPickles) {
      ctx.add(Severity::medium, "pytorch.legacy-structure",
              "legacy PyTorch file holds " + std::to_string(summary.pickles) +
                  " complete pickles where torch.load expects 5; the loader would fail",
              summary.consumed);
    }
  }
};

}  // namespace

std::unique_ptr<Scanner> make_torch_legacy_scanner() {
  return std::make_unique<TorchLegacyScanner>();
}

}  // namespace mlsc::scan
