// Dependency confusion: an organisation's internal package names that also exist (or could be
// registered) on the public index, and pip configurations that let pip choose between a
// private index and another one (--extra-index-url), where the highest version wins whichever
// index it came from.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "mlsc/core/finding.hpp"
#include "mlsc/vuln/requirements.hpp"

namespace mlsc::vuln {

// YAML:
//   internal: [acme-utils, "acme-*", "acme_ml.*"]   # names, or prefixes ending in '*'
//   private_index: https://pypi.acme.internal/simple  # or a list of URLs
struct ConfusionConfig {
  std::vector<std::string> internal_names;     // normalised
  std::vector<std::string> internal_prefixes;  // normalised, without the '*'
  std::vector<std::string> private_indexes;    // as written, trailing '/' removed

  static Expected<ConfusionConfig> parse_yaml(std::string_view text);
  static Expected<ConfusionConfig> load(const std::string& path);
  bool is_internal(std::string_view normalized_name) const;
};

// Every project name on the public index, normalised and sorted (binary search for names,
// ranges for prefixes). Loaded from a text file with one name per line, gzip-compressed or not.
class PublicIndex {
 public:
  static Expected<PublicIndex> load(const std::string& path);
  static PublicIndex from_names(std::vector<std::string> names);

  bool contains(std::string_view name) const;  // any spelling; normalised here
  // Up to `limit` names starting with the normalised prefix, and how many there are in all.
  std::vector<std::string> with_prefix(std::string_view prefix, std::size_t limit,
                                       std::size_t* total = nullptr) const;
  std::size_t size() const { return names_.size(); }

 private:
  void finish();
  std::string arena_;                    // the normalised names, '\n'-separated
  std::vector<std::string_view> names_;  // views into arena_, sorted
};

// Where pip would look for packages, as one configuration source states it.
enum class IndexKind : std::uint8_t { public_index, private_index };
IndexKind classify_index(std::string_view url, const ConfusionConfig& config);

struct ConfusionOptions {
  std::size_t max_depth = 8;
  std::size_t max_file_bytes = 16U << 20;
  std::size_t prefix_examples = 10;  // public names listed per internal prefix
};

// Checks the internal names against the public index (findings on the config file), then
// walks PATH (a file or folder) for requirements*.txt / *.in / constraints*.txt, pip.conf,
// pip.ini and .env files. One FileReport per file with findings.
std::vector<FileReport> check_confusion(const std::string& path, const std::string& config_path,
                                        const ConfusionConfig& config, const PublicIndex* index,
                                        const ConfusionOptions& options = {});

// Index options from pip's INI configuration ([global]/[install] index-url, extra-index-url,
// find-links, no-index) and from environment files (PIP_INDEX_URL, PIP_EXTRA_INDEX_URL).
std::vector<IndexOption> parse_pip_conf(std::string_view text);
std::vector<IndexOption> parse_env_file(std::string_view text);

}  // namespace mlsc::vuln
