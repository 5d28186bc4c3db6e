// libFuzzer target: the container scanners (zip, 7z/tar, single compressed streams) through
// scan_bytes, with small limits. Members that are not containers end at the probe below, so
// this exercises container parsing and recursion, not the pickle VM (it has its own target).
#include <cstddef>
#include <cstdint>
#include <memory>

#include "mlsc/scan/scanner.hpp"
#include "mlsc/scan/scanners.hpp"

namespace {

class Sink final : public mlsc::scan::Scanner {
 public:
  std::string_view format() const override { return "sink"; }
  bool matches(mlsc::ByteView) const override { return true; }
  void scan(mlsc::ByteView, mlsc::scan::ScanContext&) const override {}
};

const mlsc::scan::Registry& containers() {
  static const mlsc::scan::Registry registry = [] {
    mlsc::scan::Registry r;
    r.add(mlsc::scan::make_zip_scanner());
    r.add(mlsc::scan::make_archive_scanner());
    r.add(mlsc::scan::make_compressed_scanner());
    r.add(std::make_unique<Sink>());
    return r;
  }();
  return registry;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const mlsc::scan::ScanOptions options = [] {
    mlsc::scan::ScanOptions o;
    o.limits.max_depth = 4;
    o.limits.max_member_bytes = 1U << 20;
    o.limits.max_inflated_per_file = 8U << 20;
    return o;
  }();
  (void)mlsc::scan::scan_bytes("fuzz", mlsc::ByteView(data, size), options, containers());
  return 0;
}
