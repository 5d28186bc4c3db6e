// Parsers for every file `mlsc bom` reads. Each takes the file's bytes (already read, bounded
// by the caller) and returns what the BOM needs, or an Error naming the offset or line. They
// touch no filesystem, so tests and fuzzers call them directly; src/bom/collect.cpp does the
// walking.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/bom/inventory.hpp"
#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"

namespace mlsc::bom {

// Largest text file (lock, card, metadata) a parser accepts; larger is an error, not a
// partial read.
inline constexpr std::size_t kMaxTextFile = 32U << 20;

// ---- PEP 508 dependency specifiers (requirements.cpp) -----------------------------------
struct Requirement {
  std::string name;
  std::vector<std::string> extras;
  std::string specifier;  // ">=1.0,<2", "==1.2.3"; empty when none
  std::string url;        // "name @ URL"
  std::string marker;     // text after ';'
};
Expected<Requirement> parse_pep508(std::string_view text);
// "==1.2.3" or "===1.2.3" without wildcard: the exact version; else empty.
std::string pinned_version(std::string_view specifier);

// ---- requirements*.txt (requirements.cpp) -------------------------------------------------
struct RequirementsInclude {
  std::string path;  // as written after -r / -c
  bool constraint = false;
};
struct RequirementsFile {
  std::vector<Package> packages;
  std::vector<RequirementsInclude> includes;
  std::vector<std::string> index_urls;  // -i / --index-url / --extra-index-url / --find-links
  std::vector<std::string> notes;       // lines that were skipped, with their line number
};
// One file's text; includes are listed, not followed (collect.cpp follows them, bounded).
Expected<RequirementsFile> parse_requirements(std::string_view text, const std::string& source);

// ---- pyproject.toml (pyproject.cpp), poetry.lock, uv.lock (TOML), Pipfile.lock (JSON) -----
struct PyProject {
  Project project;
  std::vector<Package> packages;  // declared dependencies (unpinned unless "==")
};
Expected<PyProject> parse_pyproject(std::string_view text, const std::string& source);
Expected<std::vector<Package>> parse_poetry_lock(std::string_view text, const std::string& source);
Expected<std::vector<Package>> parse_uv_lock(std::string_view text, const std::string& source);
Expected<std::vector<Package>> parse_pipfile_lock(std::string_view text, const std::string& source);

// ---- installed packages (dist_info.cpp, conda_meta.cpp) ------------------------------------
// Core metadata (METADATA of a .dist-info, PKG-INFO of an .egg-info): RFC 822 style headers.
Expected<Package> parse_core_metadata(std::string_view text, const std::string& source);
// RECORD: CSV of path,hash,size. Returns the number of entries that carry a hash; an error
// when a line is malformed or a hash is not "sha256=<urlsafe base64 of 32 bytes>" and alike.
Expected<std::size_t> parse_record(std::string_view text);
// requires.txt of an .egg-info: the unconditional requirement names (lines before the first
// "[extra]" or "[:marker]" section).
std::vector<std::string> parse_egg_requires(std::string_view text);
// conda-meta/<name>-<version>-<build>.json
Expected<Package> parse_conda_meta(std::string_view text, const std::string& source);

// ---- model metadata (model_card.cpp, model_folder.cpp) -------------------------------------
// README.md: YAML front matter between leading '---' lines, plus a few prose sections.
Expected<ModelCard> parse_model_card(std::string_view readme);
// config.json: architectures, model_type, task hints. Fills the matching fields of `model`.
Expected<void> parse_model_config(std::string_view json, Model& model);

// ---- weight file headers (safetensors_header.cpp, gguf_header.cpp) ------------------------
// `head` is the start of the file (at least the header), `file_size` its full size, used to
// check that the tensors the header describes fit in the file.
Expected<WeightsSummary> read_safetensors_header(ByteView head, std::uint64_t file_size);
Expected<WeightsSummary> read_gguf_header(ByteView head, std::uint64_t file_size);
// How many leading bytes of the file the readers above need at most.
inline constexpr std::size_t kSafetensorsMaxHeader = 100U << 20;  // the format's own limit
inline constexpr std::size_t kGgufMaxHeader = 64U << 20;

// ---- native ML runtime (native_runtime.cpp) -----------------------------------------------
// "libcudart.so.11.0", "libcudnn.so.8.5.0", "libnccl-3f4a1b2c.so.2" (auditwheel renames).
std::optional<RuntimePiece> runtime_from_library_name(std::string_view file_name,
                                                      const std::string& evidence);
// nvidia-cudnn-cu11 8.5.0.96, cudatoolkit (conda) 11.7.0, ...
std::optional<RuntimePiece> runtime_from_package(const Package& package);
// torch/version.py: `cuda = '11.7'`, `hip = ...`; every runtime it names.
std::vector<RuntimePiece> runtime_from_torch_version(std::string_view text,
                                                     const std::string& evidence);

}  // namespace mlsc::bom
