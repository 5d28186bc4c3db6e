#include "onnx_external_data.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <system_error>

namespace mlsc::scan::onnx_scan {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxLocationsListed = 5;

struct Reference {
  std::string tensor;  // path of the tensor in the model
  std::string offset;  // as written; empty when absent
  std::string length;
  std::optional<std::uint64_t> expected_bytes;  // from dims and data_type, when known
};

// Bytes per element times two (4-bit types take half a byte); 0 when unknown.
std::uint64_t element_half_bytes(int data_type) {
  switch (data_type) {
    case 2:
    case 3:
    case 9:
    case 17:
    case 18:
    case 19:
    case 20:  // 8-bit types and bool
      return 2;
    case 4:
    case 5:
    case 10:
    case 16:  // 16-bit
      return 4;
    case 1:
    case 6:
    case 12:  // 32-bit
      return 8;
    case 7:
    case 11:
    case 13:
    case 14:  // 64-bit, complex64
      return 16;
    case 15:  // complex128
      return 32;
    case 21:
    case 22:
    case 23:  // uint4, int4, float4e2m1
      return 1;
    default:
      return 0;
  }
}

std::optional<std::uint64_t> expected_bytes(const onnx::TensorProto& t) {
  const std::uint64_t half = element_half_bytes(t.data_type());
  if (half == 0) return std::nullopt;
  std::uint64_t count = 1;
  for (const auto d : t.dims()) {
    if (d < 0) return std::nullopt;
    const auto u = static_cast<std::uint64_t>(d);
    if (u != 0 && count > UINT64_MAX / 64 / u) return std::nullopt;
    count *= u;
  }
  return (count * half + 1) / 2;
}

std::optional<std::uint64_t> parse_u64(const std::string& s) {
  std::uint64_t v = 0;
  const auto* end = s.data() + s.size();
  const auto r = std::from_chars(s.data(), end, v);
  if (s.empty() || r.ec != std::errc{} || r.ptr != end) return std::nullopt;
  return v;
}

class Collector final : public ModelVisitor {
 public:
  void tensor(const onnx::TensorProto& t, const std::string& path) override {
    if (t.data_location() != onnx::TensorProto_DataLocation_EXTERNAL &&
        t.external_data_size() == 0) {
      return;
    }
    Reference ref{path, {}, {}, expected_bytes(t)};
    std::optional<std::string> location;
    for (const auto& entry : t.external_data()) {
      if (entry.key() == "location") location = entry.value();
      if (entry.key() == "offset") ref.offset = entry.value();
      if (entry.key() == "length") ref.length = entry.value();
    }
    if (!location || location->empty()) {
      without_location.push_back(path);
      return;
    }
    by_location[*location].push_back(std::move(ref));
  }

  std::map<std::string, std::vector<Reference>> by_location;
  std::vector<std::string> without_location;
};

std::string who(const std::vector<Reference>& refs) {
  std::string s = "tensor at " + refs.front().tensor;
  if (refs.size() > 1) s += " (and " + std::to_string(refs.size() - 1) + " more tensors)";
  return s;
}

// How far above its starting folder a relative path climbs, reading both '/' and '\' as
// separators (Windows loaders do). 0 when it stays inside.
int climbs_out(const std::string& location) {
  int depth = 0;
  int lowest = 0;
  std::size_t start = 0;
  while (start <= location.size()) {
    std::size_t end = location.find_first_of("/\\", start);
    if (end == std::string::npos) end = location.size();
    const std::string_view part(location.data() + start, end - start);
    if (part == "..") {
      lowest = std::min(lowest, --depth);
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
    start = end + 1;
  }
  return -lowest;
}

bool is_absolute_anywhere(const std::string& location) {
  if (location.front() == '/' || location.front() == '\\') return true;
  const auto c = static_cast<unsigned char>(location[0]);
  return location.size() >= 2 && location[1] == ':' && std::isalpha(c) != 0;  // C:\ or C:x
}

bool inside(const fs::path& target, const fs::path& folder) {
  auto t = target.begin();
  for (auto f = folder.begin(); f != folder.end(); ++f, ++t) {
    if (f->empty()) continue;  // a trailing separator
    if (t == target.end() || *t != *f) return false;
  }
  return true;
}

class Checker {
 public:
  Checker(Issues& issues, const std::string& model_path) : issues_(issues) {
    if (model_path.empty()) return;
    std::error_code ec;
    const fs::path model = fs::absolute(model_path, ec);
    if (ec) return;
    // The loader joins locations to the folder the model was opened from. When the model file
    // is itself a symlink (a Hugging Face cache snapshot points into blobs/), the folder of the
    // file it resolves to holds its data too.
    folders_.push_back(fs::weakly_canonical(model.parent_path(), ec));
    if (ec) folders_.clear();
    const fs::path real = fs::weakly_canonical(model, ec);
    if (!ec && !folders_.empty() && real.parent_path() != folders_.front()) {
      folders_.push_back(real.parent_path());
    }
  }

  bool on_disk() const { return !folders_.empty(); }

  void check(const std::string& location, const std::vector<Reference>& refs) {
    const bool lexical_escape = check_text(location, refs);
    if (!on_disk() || location.find('\0') != std::string::npos) return;
    std::error_code ec;
    const fs::path target = fs::weakly_canonical(folders_.front() / fs::path(location), ec);
    if (ec) return;
    const bool contained = std::any_of(folders_.begin(), folders_.end(),
                                       [&](const fs::path& f) { return inside(target, f); });
    if (!contained && !lexical_escape) {
      add(Severity::high, "onnx.external-data-symlink-escape",
          who(refs) + " reads external data from " + quote(location) + ", which resolves to " +
              quote(target.string()) + " outside the model folder (through a symlink)");
    }
    // Files outside the folder are not the model's to describe; what matters is reported.
    if (contained && !lexical_escape) check_file(target, location, refs);
  }

 private:
  // The location text itself; true when it leaves the model folder.
  bool check_text(const std::string& location, const std::vector<Reference>& refs) {
    if (location.find('\0') != std::string::npos) {
      add(Severity::high, "onnx.external-data-traversal",
          who(refs) + " names external data with a NUL byte (" + quote(location) +
              "): C-level file APIs read only the part before it");
      return true;
    }
    if (is_absolute_anywhere(location)) {
      add(Severity::high, "onnx.external-data-absolute",
          who(refs) + " reads external data from the absolute path " + quote(location) +
              "; loaders that join paths as given read any file on the machine");
      return true;
    }
    if (const int up = climbs_out(location); up > 0) {
      add(Severity::high, "onnx.external-data-traversal",
          who(refs) + " reads external data from " + quote(location) + ", which climbs " +
              std::to_string(up) + " folder level(s) out of the model folder");
      return true;
    }
    return false;
  }

  void check_file(const fs::path& target, const std::string& location,
                  const std::vector<Reference>& refs) {
    std::error_code ec;
    const auto status = fs::status(target, ec);
    if (ec || !fs::exists(status)) {
      add(Severity::medium, "onnx.external-data-missing",
          who(refs) + " reads external data from " + quote(location) +
              ", which does not exist; the model cannot load as shipped");
      return;
    }
    if (!fs::is_regular_file(status)) {
      add(Severity::medium, "onnx.external-data-not-a-file",
          who(refs) + " reads external data from " + quote(location) +
              ", which is not a regular file (a device, FIFO or folder can hang or exhaust the "
              "loader)");
      return;
    }
    const std::uint64_t size = fs::file_size(target, ec);
    if (ec) return;
    for (const auto& ref : refs) check_range(ref, location, size);
  }

  void check_range(const Reference& ref, const std::string& location, std::uint64_t size) {
    const auto offset =
        ref.offset.empty() ? std::optional<std::uint64_t>(0) : parse_u64(ref.offset);
    const auto length = ref.length.empty() ? std::optional<std::uint64_t>() : parse_u64(ref.length);
    if (!offset || (!ref.length.empty() && !length)) {
      add(Severity::medium, "onnx.external-data-malformed",
          "tensor at " + ref.tensor + " has a non-numeric external-data offset or length (" +
              quote(ref.offset) + ", " + quote(ref.length) + ")");
      return;
    }
    const std::uint64_t want = length.value_or(0);
    if (*offset > size || want > size - *offset) {
      add(Severity::medium, "onnx.external-data-out-of-bounds",
          "tensor at " + ref.tensor + " reads bytes " + std::to_string(*offset) + ".." +
              std::to_string(*offset + want) + " of " + quote(location) + ", which has " +
              std::to_string(size) + " bytes");
      return;
    }
    const std::uint64_t available = length ? *length : size - *offset;
    if (ref.expected_bytes && *ref.expected_bytes != available) {
      add(Severity::low, "onnx.external-data-size-mismatch",
          "tensor at " + ref.tensor + " takes " + std::to_string(available) + " bytes from " +
              quote(location) + " but its shape and type need " +
              std::to_string(*ref.expected_bytes));
    }
  }

  void add(Severity s, std::string rule, std::string message) {
    issues_.push_back({s, std::move(rule), std::move(message)});
  }

  Issues& issues_;
  std::vector<fs::path> folders_;
};

}  // namespace

Issues check_external_data(const onnx::ModelProto& model, const std::string& model_path) {
  Issues issues;
  Collector collector;
  walk_model(model, collector, issues);
  issues.clear();  // depth problems are reported by the graph checks
  for (const auto& path : collector.without_location) {
    issues.push_back({Severity::medium, "onnx.external-data-malformed",
                      "tensor at " + path + " is marked external but names no location"});
  }
  Checker checker(issues, model_path);
  for (const auto& [location, refs] : collector.by_location) checker.check(location, refs);
  if (!checker.on_disk() && !collector.by_location.empty()) {
    std::string names;
    std::size_t listed = 0;
    for (const auto& [location, refs] : collector.by_location) {
      if (listed++ == kMaxLocationsListed) {
        names += ", ...";
        break;
      }
      names += (names.empty() ? "" : ", ") + quote(location);
    }
    issues.push_back({Severity::low, "onnx.external-data-unverified",
                      "the model keeps tensor data in " +
                          std::to_string(collector.by_location.size()) + " external file(s) (" +
                          names +
                          "); scanned from memory or inside a container, so mlsc could not check "
                          "that they exist, stay inside the model folder and are large enough"});
  }
  return issues;
}

}  // namespace mlsc::scan::onnx_scan
