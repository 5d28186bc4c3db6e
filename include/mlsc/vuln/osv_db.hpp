// An offline OSV database: every record under a folder (recursively) or inside a zip/tar export
// (osv.dev's `all.zip`), in JSON or YAML, kept for one ecosystem (PyPI) and indexed by the
// PEP 503 normalised package name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mlsc/core/expected.hpp"
#include "mlsc/vuln/osv.hpp"

namespace mlsc::vuln {

struct OsvLoadOptions {
  std::string ecosystem = "PyPI";
  std::uint64_t max_record_bytes = 16U << 20;  // a single record larger than this is skipped
  std::uint64_t max_total_bytes = 8ULL << 30;  // all records together (zip bombs, huge trees)
  std::size_t jobs = 0;                        // parse workers; 0 = all cores
};

struct OsvLoadStats {
  std::size_t files = 0;            // record files seen (.json, .yaml, .yml)
  std::size_t records = 0;          // kept: not withdrawn, with an entry for the ecosystem
  std::size_t withdrawn = 0;        // skipped
  std::size_t other_ecosystem = 0;  // skipped: no affected entry for the ecosystem
  std::size_t duplicates = 0;       // same id seen again; the later `modified` wins
  std::size_t errors = 0;           // unreadable or malformed records, skipped
  std::size_t ignored_ranges = 0;   // GIT or unknown-type ranges
  std::uint64_t bytes = 0;
  double seconds = 0;
  std::vector<std::string> error_samples;  // the first few "path: message"
};

class OsvDatabase {
 public:
  // A folder, a zip or tar(.gz) export, or a single record file.
  static Expected<OsvDatabase> load(const std::string& path, const OsvLoadOptions& options = {});

  // Adds a record (later `modified` replaces an earlier one with the same id).
  void add(OsvRecord record);

  struct Match {
    const OsvRecord* record = nullptr;
    const OsvAffected* affected = nullptr;
    std::optional<std::string> fixed;  // lowest fixed version above the queried one
    SeverityAssessment severity;
  };
  // Records that affect `name` (any spelling) at `version`, ordered by id.
  std::vector<Match> query(std::string_view name, const Version& version) const;
  // Whether the database has any record for the package.
  bool knows(std::string_view name) const;

  std::size_t size() const { return records_.size(); }
  const std::vector<OsvRecord>& records() const { return records_; }
  const OsvLoadStats& stats() const { return stats_; }

 private:
  bool insert(OsvRecord record);  // false when the id was already there
  void reindex();

  std::vector<OsvRecord> records_;
  std::unordered_map<std::string, std::size_t> by_id_;
  // normalised name -> (record, affected entry) pairs
  std::unordered_map<std::string, std::vector<std::pair<std::uint32_t, std::uint32_t>>> index_;
  OsvLoadStats stats_;
};

}  // namespace mlsc::vuln
