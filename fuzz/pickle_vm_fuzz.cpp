// libFuzzer target: the symbolic pickle VM over the whole input, pickle after pickle as a
// concatenated stream is read (each run starts where the previous STOP ended), with and
// without the joblib and torch reading modes, plus the recognition test.
#include <cstddef>
#include <cstdint>

#include "mlsc/scan/pickle.hpp"

namespace {

const mlsc::scan::ImportPolicy& policy() {
  static const mlsc::scan::ImportPolicy p = mlsc::scan::ImportPolicy::builtin();
  return p;
}

void run_stream(mlsc::ByteView data, const mlsc::scan::pickle::Options& options) {
  std::uint64_t pos = 0;
  for (int i = 0; i < 64 && pos < data.size(); ++i) {
    const auto r = mlsc::scan::pickle::run(data, pos, policy(), options);
    if (!r.reached_stop || r.end <= pos) break;
    pos = r.end;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const mlsc::ByteView data(bytes, size);
  mlsc::scan::pickle::Options options;
  options.max_values = 1U << 16;
  run_stream(data, options);
  // The first byte picks a second reading mode, so both get coverage from one corpus.
  if (size > 0) {
    options.joblib_arrays = (bytes[0] & 1) != 0;
    options.torch_persistent_ids = (bytes[0] & 2) != 0;
    run_stream(data.subspan(1), options);
  }
  (void)mlsc::scan::pickle::looks_like_pickle(data);
  return 0;
}
