// What `mlsc bom` found on disk, independent of the output format: models, datasets they
// name, Python and conda packages, native ML runtime pieces. The collectors in src/bom/ fill
// it; the CycloneDX and SPDX writers read it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlsc::bom {

// A digest as the BOM carries it: algorithm in CycloneDX spelling ("SHA-256", "SHA-384",
// "SHA-512", "SHA-1", "MD5") and lowercase hex.
struct Hash {
  std::string alg;
  std::string hex;
  friend bool operator==(const Hash&, const Hash&) = default;
};

// Turns "sha256" / "sha-256" / "SHA256" into "SHA-256"; empty when the algorithm is not one a
// BOM can carry.
std::string canonical_hash_alg(std::string_view name);
// A digest from a lock or requirements file ("sha256:HEX", "sha256=HEX"); nullopt when the
// algorithm is unknown or the hex does not have the algorithm's length.
std::optional<Hash> parse_prefixed_hash(std::string_view text);

struct ModelFileEntry {
  std::string path;  // POSIX path relative to the model folder
  std::uint64_t size = 0;
  std::string sha256;  // lowercase hex
};

struct Metric {
  std::string type;     // "accuracy", "f1", ...
  std::string value;    // as written in the card
  std::string name;     // display name, when given
  std::string dataset;  // dataset id or name the value was measured on
  std::string task;     // task type of the result
};

// What the README front matter (Hugging Face model card metadata) says.
struct ModelCard {
  std::string license;
  std::string license_name;  // for "license: other" with license_name
  std::vector<std::string> base_models;
  std::vector<std::string> datasets;
  std::vector<std::string> languages;
  std::vector<std::string> tags;
  std::string pipeline_tag;
  std::string library_name;
  std::string model_name;  // model-index[0].name
  std::vector<Metric> metrics;
  std::vector<std::string> eval_datasets;  // datasets named in model-index results
  // Free text from README sections, bounded in length.
  std::string intended_uses;
  std::string limitations;
  std::string ethical_considerations;
};

// One tensor file's header summary (safetensors or GGUF).
struct WeightsSummary {
  std::string format;  // "safetensors", "gguf"
  std::uint64_t parameters = 0;
  std::vector<std::string> dtypes;  // sorted, unique
  std::string architecture;         // GGUF general.architecture
  std::string name;                 // GGUF general.name
};

struct Model {
  std::string name;                   // folder name, or the hub repo id
  std::string hub_id;                 // "org/name" when known (hub cache, or card/config)
  std::string revision;               // hub-cache snapshot commit
  std::string location;               // path on disk as given
  std::vector<ModelFileEntry> files;  // sorted by path
  std::vector<std::string> formats;   // "safetensors", "gguf", "pytorch", "onnx", ...
  std::optional<std::uint64_t> parameters;
  std::vector<std::string> dtypes;
  std::vector<std::string> architectures;  // config.json "architectures"
  std::string model_type;                  // config.json "model_type"
  std::string task;                        // card pipeline_tag, else config task hints
  ModelCard card;
  std::vector<std::string> notes;  // what could not be read, and why
};

enum class PackageScope : std::uint8_t { required, optional, dev, constraint, build };
std::string_view to_string(PackageScope s);

struct Package {
  std::string ecosystem = "pypi";  // "pypi" or "conda"
  std::string name;                // as written; purls normalise it
  std::string version;             // exact version when pinned or installed, else empty
  std::string specifier;           // version specifier when not pinned (">=1.2,<2")
  std::vector<std::string> extras;
  std::string marker;        // PEP 508 environment marker
  std::string url;           // direct reference or VCS URL
  std::string vcs_commit;    // resolved commit for VCS references, when known
  std::vector<Hash> hashes;  // of the distribution files the lock/requirements allow
  std::string license;
  std::string summary;
  std::string homepage;
  std::string source;  // file the package was read from
  PackageScope scope = PackageScope::required;
  // conda
  std::string channel;
  std::string subdir;
  std::string build;
  // installed packages: the RECORD file and its SHA-256, which pins every installed file
  std::string record_path;
  std::string record_sha256;
  std::size_t record_entries = 0;
  std::vector<std::string> requires_names;  // unconditional dependencies (names as written)
};

// A Python project (pyproject.toml [project] or [tool.poetry]).
struct Project {
  std::string name;
  std::string version;
  std::string source;
  std::vector<std::string> direct_dependencies;  // names as written
};

// CUDA, cuDNN, NCCL and friends, found in package metadata or shared-library names.
struct RuntimePiece {
  std::string name;      // "cuda-runtime", "cudnn", "nccl", "cublas", "cuda-driver", ...
  std::string version;   // as precise as the evidence allows ("11.7", "8", "2.14.3")
  std::string evidence;  // file or package that shows it
  bool driver = false;   // a kernel/user-mode driver rather than a library
};

struct Inventory {
  std::vector<Model> models;
  std::vector<Package> packages;
  std::vector<Project> projects;
  std::vector<RuntimePiece> runtime;
  std::vector<std::string> index_urls;  // --index-url / --extra-index-url / sources seen
  std::vector<std::string> notes;       // problems that did not stop collection
};

}  // namespace mlsc::bom
