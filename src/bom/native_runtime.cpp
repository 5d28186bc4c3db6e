// Native ML runtime pieces — CUDA runtime and libraries, cuDNN, NCCL, the driver, ROCm —
// recognised from NVIDIA's PyPI/conda packages, shared-library file names (including
// auditwheel's hashed copies inside wheels) and torch/version.py.
#include <algorithm>
#include <array>

#include "mlsc/bom/sources.hpp"
#include "mlsc/core/text.hpp"
#include "text_util.hpp"

namespace mlsc::bom {

namespace {

struct LibraryName {
  std::string_view soname_stem;  // "libcudart"
  std::string_view component;    // "cuda-runtime"
  bool driver;
};

constexpr std::array<LibraryName, 14> kLibraries = {{
    {"libcudart", "cuda-runtime", false},
    {"libcudnn", "cudnn", false},
    {"libnccl", "nccl", false},
    {"libcublas", "cublas", false},
    {"libcublasLt", "cublas", false},
    {"libcufft", "cufft", false},
    {"libcurand", "curand", false},
    {"libcusparse", "cusparse", false},
    {"libcusolver", "cusolver", false},
    {"libnvrtc", "nvrtc", false},
    {"libcupti", "cupti", false},
    {"libnvToolsExt", "nvtx", false},
    {"libcuda", "cuda-driver", true},
    {"libamdhip64", "rocm-hip", false},
}};

struct PackagePrefix {
  std::string_view prefix;  // PyPI: "nvidia-cudnn-cu" (then the CUDA major); conda: exact name
  std::string_view component;
  bool exact;
};

constexpr std::array<PackagePrefix, 16> kPackages = {{
    {"nvidia-cuda-runtime-cu", "cuda-runtime", false},
    {"nvidia-cudnn-cu", "cudnn", false},
    {"nvidia-nccl-cu", "nccl", false},
    {"nvidia-cublas-cu", "cublas", false},
    {"nvidia-cufft-cu", "cufft", false},
    {"nvidia-curand-cu", "curand", false},
    {"nvidia-cusparse-cu", "cusparse", false},
    {"nvidia-cusolver-cu", "cusolver", false},
    {"nvidia-cuda-nvrtc-cu", "nvrtc", false},
    {"nvidia-cuda-cupti-cu", "cupti", false},
    {"nvidia-nvtx-cu", "nvtx", false},
    {"cudatoolkit", "cuda-runtime", true},
    {"cuda-cudart", "cuda-runtime", true},
    {"cudnn", "cudnn", true},
    {"nccl", "nccl", true},
    {"libcublas", "cublas", true},
}};

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "11.0", "8.5.0.96", "2": dot-separated numbers.
bool is_numeric_version(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (const auto part : detail::split(s, '.')) {
    if (!all_digits(part)) return false;
  }
  return true;
}

}  // namespace

std::optional<RuntimePiece> runtime_from_library_name(std::string_view file_name,
                                                      const std::string& evidence) {
  const auto so = file_name.find(".so");
  if (so == std::string_view::npos) return std::nullopt;
  auto stem = file_name.substr(0, so);
  // auditwheel copies: libcudart-e409450e.so.11.0 (an 8-hex-digit hash after the name)
  if (const auto dash = stem.rfind('-');
      dash != std::string_view::npos && stem.size() - dash == 9) {
    const auto hash = stem.substr(dash + 1);
    if (std::all_of(hash.begin(), hash.end(),
                    [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }))
      stem = stem.substr(0, dash);
  }
  const auto* match = std::find_if(kLibraries.begin(), kLibraries.end(),
                                   [&](const LibraryName& l) { return l.soname_stem == stem; });
  if (match == kLibraries.end()) return std::nullopt;
  auto version = file_name.substr(so + 3);
  if (!version.empty() && version.front() == '.') version.remove_prefix(1);
  if (!version.empty() && !is_numeric_version(version)) return std::nullopt;
  RuntimePiece piece;
  piece.name = std::string(match->component);
  piece.version = std::string(version);  // empty for a bare "libcudnn.so" development link
  piece.evidence = evidence;
  piece.driver = match->driver;
  return piece;
}

std::optional<RuntimePiece> runtime_from_package(const Package& package) {
  const auto name = ascii_lower(package.name);
  for (const auto& entry : kPackages) {
    const bool hit = entry.exact
                         ? name == entry.prefix
                         : name.size() > entry.prefix.size() && name.rfind(entry.prefix, 0) == 0 &&
                               all_digits(std::string_view(name).substr(entry.prefix.size()));
    if (!hit) continue;
    RuntimePiece piece;
    piece.name = std::string(entry.component);
    piece.version = package.version;
    piece.evidence = package.ecosystem + " package " + package.name + " " + package.version;
    return piece;
  }
  return std::nullopt;
}

std::vector<RuntimePiece> runtime_from_torch_version(std::string_view text,
                                                     const std::string& evidence) {
  std::vector<RuntimePiece> out;
  for (const auto line : detail::lines(text.substr(0, 64U << 10))) {
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const auto key = detail::trim(line.substr(0, eq));
    auto value = detail::trim(line.substr(eq + 1));
    if (value.size() < 2 || (value.front() != '\'' && value.front() != '"') ||
        value.back() != value.front())
      continue;  // None, or not a string literal
    value = value.substr(1, value.size() - 2);
    if (!is_numeric_version(value)) continue;
    if (key == "cuda") out.push_back({"cuda-runtime", std::string(value), evidence, false});
    if (key == "hip") out.push_back({"rocm-hip", std::string(value), evidence, false});
  }
  return out;
}

}  // namespace mlsc::bom
