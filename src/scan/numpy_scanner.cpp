// NumPy .npy files. A numeric array is inert bytes; an object-dtype array is a pickle that
// numpy.load(allow_pickle=True) runs, so its payload is handed to the pickle scanner.
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>

#include "mlsc/scan/pickle.hpp"
#include "mlsc/scan/scanners.hpp"
#include "python_literal.hpp"

namespace mlsc::scan {

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr std::uint64_t kNumpyMaxHeader = 10000;  // numpy.load's default max_header_size

struct DType {
  bool has_object = false;
  std::optional<std::uint64_t> itemsize;  // nullopt when we can't tell
};

std::optional<std::uint64_t> mul(std::optional<std::uint64_t> a, std::uint64_t b) {
  if (!a || (b != 0 && *a > UINT64_MAX / b)) return std::nullopt;
  return *a * b;
}

std::optional<std::uint64_t> shape_count(const PyLiteral& shape) {
  if (shape.kind != PyLiteral::Kind::tuple && shape.kind != PyLiteral::Kind::list) {
    return std::nullopt;
  }
  std::optional<std::uint64_t> n = 1;
  for (const auto& d : shape.items) {
    if (d.kind != PyLiteral::Kind::integer || d.integer < 0 || d.integer_overflow) {
      return std::nullopt;
    }
    n = mul(n, static_cast<std::uint64_t>(d.integer));
  }
  return n;
}

DType simple_dtype(std::string_view s) {
  if (!s.empty() && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=')) s.remove_prefix(1);
  DType t;
  if (s.empty()) return t;
  const char kind = s[0];
  t.has_object = kind == 'O';
  if (kind == '?') return {false, 1};
  if (kind == 'O') return {true, 8};
  std::uint64_t n = 0;
  std::size_t i = 1;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && n < (1ULL << 40); ++i) {
    n = n * 10 + static_cast<std::uint64_t>(s[i] - '0');
  }
  if (i == 1) return t;
  if (kind == 'U') return {false, n * 4};
  if (std::string_view("biufcSVMm").find(kind) != std::string_view::npos) return {false, n};
  return t;
}

DType parse_dtype(const PyLiteral& descr, int depth = 0) {
  if (descr.kind == PyLiteral::Kind::string) return simple_dtype(descr.string);
  DType total{false, 0};
  if (descr.kind != PyLiteral::Kind::list || depth > 16) return {false, std::nullopt};
  for (const auto& field : descr.items) {
    if (field.kind != PyLiteral::Kind::tuple || field.items.size() < 2)
      return {false, std::nullopt};
    DType sub = parse_dtype(field.items[1], depth + 1);
    if (field.items.size() > 2) {
      auto count = shape_count(field.items[2]);
      sub.itemsize = count ? mul(sub.itemsize, *count) : std::nullopt;
    }
    total.has_object = total.has_object || sub.has_object;
    if (total.itemsize && sub.itemsize) {
      *total.itemsize += *sub.itemsize;
    } else {
      total.itemsize = std::nullopt;
    }
  }
  return total;
}

class NumpyScanner final : public Scanner {
 public:
  std::string_view format() const override { return "numpy"; }
  bool matches(ByteView data) const override { return starts_with(data, kMagic); }

  void scan(ByteView data, ScanContext& ctx) const override {
    const auto major = load_le<std::uint8_t>(data, 6);
    if (!major || *major < 1 || *major > 3) {
      ctx.add(Severity::medium, "numpy.malformed", "unsupported .npy format version", 6);
      return;
    }
    const std::uint64_t len_size = *major == 1 ? 2 : 4;
    const auto header_len = len_size == 2
                                ? std::optional<std::uint64_t>(load_le<std::uint16_t>(data, 8))
                                : std::optional<std::uint64_t>(load_le<std::uint32_t>(data, 8));
    const std::uint64_t header_start = 8 + len_size;
    const auto header = header_len ? slice(data, header_start, *header_len) : std::nullopt;
    if (!header) {
      ctx.add(Severity::medium, "numpy.malformed", ".npy header runs past the end of the file", 8);
      return;
    }
    if (*header_len > kNumpyMaxHeader) {
      ctx.add(Severity::low, "numpy.large-header",
              ".npy header is " + std::to_string(*header_len) +
                  " bytes; numpy.load refuses headers over 10000 bytes unless allow_pickle=True",
              8);
    }
    auto literal = parse_py_literal(as_chars(*header));
    const PyLiteral* descr = literal ? literal->find("descr") : nullptr;
    const PyLiteral* shape = literal ? literal->find("shape") : nullptr;
    if (!descr || !shape) {
      const auto off = literal ? header_start : header_start + literal.error().offset.value_or(0);
      ctx.add(Severity::medium, "numpy.malformed",
              ".npy header is not the dict numpy.load expects (descr, fortran_order, shape)", off);
      return;
    }
    const std::uint64_t data_start = header_start + *header_len;
    const DType dtype = parse_dtype(*descr);
    if (dtype.has_object) {
      scan_object_payload(data.subspan(static_cast<std::size_t>(data_start)), ctx, data_start);
      return;
    }
    check_size(dtype, *shape, data.size() - data_start, ctx, data_start);
  }

 private:
  static void scan_object_payload(ByteView payload, ScanContext& ctx, std::uint64_t offset) {
    ctx.add(Severity::low, "numpy.object-array",
            "object-dtype array: numpy.load needs allow_pickle=True and then runs the pickle "
            "that follows the header",
            offset);
    // The pickle's offsets are reported relative to the payload; name it as a member.
    const auto format =
        ctx.scan_member("<object-array-pickle@" + std::to_string(offset) + ">", payload);
    if (format != "pickle" && format != "joblib") {
      ctx.add(Severity::high, "unscannable",
              "object-array payload is not a pickle we can read; numpy.load would still try",
              offset);
    }
  }

  static void check_size(const DType& dtype, const PyLiteral& shape, std::uint64_t available,
                         ScanContext& ctx, std::uint64_t offset) {
    const auto count = shape_count(shape);
    const auto expected = count ? mul(dtype.itemsize, *count) : std::nullopt;
    if (!expected) return;
    if (available < *expected) {
      ctx.add(Severity::low, "numpy.truncated",
              "array data is " + std::to_string(available) + " bytes; the header declares " +
                  std::to_string(*expected),
              offset);
    } else if (available > *expected) {
      ctx.add(Severity::low, "numpy.trailing-data",
              std::to_string(available - *expected) +
                  " bytes follow the array data; numpy.load ignores them",
              offset + *expected);
    }
  }
};

}  // namespace

std::unique_ptr<Scanner> make_numpy_scanner() {
  return std::make_unique<NumpyScanner>();
}

}  // namespace mlsc::scan
