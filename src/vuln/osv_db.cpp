// Loading an OSV database from disk. Files are read sequentially (a folder walk or one pass
// through the archive) and parsed in parallel in batches, so memory stays bounded by the batch
// and the YAML parser's cost (the bulk of the load time) is spread over the cores.
#include "mlsc/vuln/osv_db.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>

#include "mlsc/vuln/package_name.hpp"

namespace mlsc::vuln {

namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kBatchBytes = 64U << 20;
constexpr std::size_t kErrorSamples = 20;

enum class RecordSyntax : std::uint8_t { json, yaml, none };

RecordSyntax syntax_of(std::string_view name) {
  auto ends_with = [name](std::string_view suffix) {
    if (name.size() < suffix.size()) return false;
    for (std::size_t i = 0; i < suffix.size(); ++i) {
      char c = name[name.size() - suffix.size() + i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      if (c != suffix[i]) return false;
    }
    return true;
  };
  if (ends_with(".json")) return RecordSyntax::json;
  if (ends_with(".yaml") || ends_with(".yml")) return RecordSyntax::yaml;
  return RecordSyntax::none;
}

struct PendingRecord {
  std::string origin;  // file path or archive member
  RecordSyntax syntax = RecordSyntax::none;
  std::string text;
};

class Loader {
 public:
  Loader(std::vector<OsvRecord>& out, OsvLoadStats& stats, const OsvLoadOptions& options)
      : out_(out), stats_(stats), options_(options) {}

  // Queues a record; parses the batch when it is full. False once the byte budget is spent.
  bool push(PendingRecord record) {
    ++stats_.files;
    if (record.text.size() > options_.max_record_bytes) {
      error(record.origin,
            "record larger than " + std::to_string(options_.max_record_bytes) + " bytes, skipped");
      return true;
    }
    stats_.bytes += record.text.size();
    if (stats_.bytes > options_.max_total_bytes) {
      error(record.origin, "database larger than the byte budget; the rest is not loaded");
      return false;
    }
    batch_bytes_ += record.text.size();
    batch_.push_back(std::move(record));
    if (batch_bytes_ >= kBatchBytes) flush();
    return true;
  }

  void error(const std::string& origin, const std::string& message) {
    ++stats_.errors;
    if (stats_.error_samples.size() < kErrorSamples) {
      stats_.error_samples.push_back(origin + ": " + message);
    }
  }

  void flush() {
    std::vector<std::optional<Expected<OsvRecord>>> parsed(batch_.size());
    OsvParseOptions parse_options;
    parse_options.ecosystem = options_.ecosystem;
    tbb::parallel_for(std::size_t{0}, batch_.size(), [&](std::size_t i) {
      const auto& r = batch_[i];
      parsed[i] = r.syntax == RecordSyntax::json ? parse_osv_json(r.text, parse_options)
                                                 : parse_osv_yaml(r.text, parse_options);
    });
    for (std::size_t i = 0; i < batch_.size(); ++i) {
      auto& result = *parsed[i];
      if (!result) {
        error(batch_[i].origin, result.error().describe());
        continue;
      }
      OsvRecord& record = *result;
      if (!record.withdrawn.empty()) {
        ++stats_.withdrawn;
        continue;
      }
      if (record.affected.empty()) {
        ++stats_.other_ecosystem;
        continue;
      }
      stats_.ignored_ranges += record.notes.size();
      out_.push_back(std::move(record));
    }
    batch_.clear();
    batch_bytes_ = 0;
  }

 private:
  std::vector<OsvRecord>& out_;
  OsvLoadStats& stats_;
  const OsvLoadOptions& options_;
  std::vector<PendingRecord> batch_;
  std::uint64_t batch_bytes_ = 0;
};

Expected<std::string> read_file(const fs::path& path, std::uint64_t limit) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return Error("cannot stat: " + ec.message());
  if (size > limit) return Error("record larger than " + std::to_string(limit) + " bytes, skipped");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error("cannot open");
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::uint64_t>(in.gcount()) != size) return Error("short read");
  return text;
}

void load_folder(const fs::path& root, Loader& loader, const OsvLoadOptions& options) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) &&
        syntax_of(it->path().filename().string()) != RecordSyntax::none) {
      files.push_back(it->path());
    }
  }
  if (ec) loader.error(root.string(), "folder walk stopped: " + ec.message());
  std::sort(files.begin(), files.end());  // deterministic duplicate resolution and errors
  for (const auto& file : files) {
    auto text = read_file(file, options.max_record_bytes);
    if (!text) {
      loader.error(file.string(), text.error().message);
      continue;
    }
    const RecordSyntax syntax = syntax_of(file.filename().string());
    if (!loader.push({file.string(), syntax, std::move(*text)})) break;
  }
}

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

Expected<void> load_archive(const std::string& path, Loader& loader,
                            const OsvLoadOptions& options) {
  std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
  archive_read_support_format_zip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_xz(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return Error(path + ": not a readable zip or tar archive: " + archive_error_string(a.get()));
  }
  archive_entry* entry = nullptr;
  int rc = ARCHIVE_OK;
  while ((rc = archive_read_next_header(a.get(), &entry)) >= ARCHIVE_WARN) {
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    const std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
    const RecordSyntax syntax = syntax_of(name);
    if (syntax == RecordSyntax::none) continue;
    const std::string origin = path + ":" + name;
    std::string text;
    char buffer[1 << 16];
    la_ssize_t n = 0;
    bool too_big = false;
    while ((n = archive_read_data(a.get(), buffer, sizeof buffer)) > 0) {
      if (text.size() + static_cast<std::size_t>(n) > options.max_record_bytes) {
        too_big = true;
        break;
      }
      text.append(buffer, static_cast<std::size_t>(n));
    }
    if (n < 0) {
      loader.error(origin, std::string("cannot decompress: ") + archive_error_string(a.get()));
      continue;
    }
    if (too_big) {
      loader.error(origin, "record larger than the per-record limit, skipped");
      continue;
    }
    if (!loader.push({origin, syntax, std::move(text)})) break;
  }
  if (rc == ARCHIVE_FATAL) {
    loader.error(path, std::string("archive damaged: ") + archive_error_string(a.get()));
  }
  return {};
}

bool looks_like_archive(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char magic[6] = {};
  in.read(reinterpret_cast<char*>(magic), sizeof magic);
  const auto got = in.gcount();
  if (got >= 4 && magic[0] == 'P' && magic[1] == 'K') return true;    // zip
  if (got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) return true;  // gzip (tar.gz)
  if (got >= 6 && magic[0] == 0xfd && magic[1] == '7' && magic[2] == 'z') return true;  // xz
  const auto name = fs::path(path).filename().string();
  return name.size() > 4 && name.substr(name.size() - 4) == ".tar";
}

}  // namespace

Expected<OsvDatabase> OsvDatabase::load(const std::string& path, const OsvLoadOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<OsvRecord> loaded;
  OsvLoadStats stats;
  Loader loader(loaded, stats, options);
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return Error(path + ": no such file or folder");
  std::optional<tbb::global_control> limit;
  if (options.jobs > 0) {
    limit.emplace(tbb::global_control::max_allowed_parallelism, options.jobs);
  }
  if (fs::is_directory(status)) {
    load_folder(path, loader, options);
  } else if (syntax_of(path) != RecordSyntax::none) {
    auto text = read_file(path, options.max_record_bytes);
    if (!text) return Error(path + ": " + text.error().message);
    if (!loader.push({path, syntax_of(path), std::move(*text)})) return Error(path + ": too large");
  } else if (looks_like_archive(path)) {
    if (auto r = load_archive(path, loader, options); !r) return r.error();
  } else {
    return Error(path + ": not a folder, an archive or a .json/.yaml record");
  }
  loader.flush();
  OsvDatabase db;
  for (auto& record : loaded) {
    if (!db.insert(std::move(record))) ++stats.duplicates;
  }
  stats.records = db.records_.size();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  db.stats_ = std::move(stats);
  db.reindex();
  return db;
}

void OsvDatabase::add(OsvRecord record) {
  if (!insert(std::move(record))) ++stats_.duplicates;
  stats_.records = records_.size();
  reindex();
}

bool OsvDatabase::insert(OsvRecord record) {
  const auto it = by_id_.find(record.id);
  if (it == by_id_.end()) {
    by_id_.emplace(record.id, records_.size());
    records_.push_back(std::move(record));
    return true;
  }
  OsvRecord& existing = records_[it->second];
  if (record.modified > existing.modified) existing = std::move(record);  // RFC 3339 sorts
  return false;
}

void OsvDatabase::reindex() {
  index_.clear();
  for (std::uint32_t r = 0; r < records_.size(); ++r) {
    for (std::uint32_t a = 0; a < records_[r].affected.size(); ++a) {
      index_[records_[r].affected[a].normalized_name].emplace_back(r, a);
    }
  }
}

std::vector<OsvDatabase::Match> OsvDatabase::query(std::string_view name,
                                                   const Version& version) const {
  std::vector<Match> out;
  const auto it = index_.find(normalize_name(name));
  if (it == index_.end()) return out;
  for (const auto& [r, a] : it->second) {
    const OsvRecord& record = records_[r];
    const OsvAffected& affected = record.affected[a];
    if (!affects(affected, version)) continue;
    // One record may list the package in several entries; report it once.
    if (!out.empty() && out.back().record == &record) continue;
    out.push_back({&record, &affected, lowest_fix_above(affected, version),
                   assess_severity(record, affected)});
  }
  std::sort(out.begin(), out.end(),
            [](const Match& x, const Match& y) { return x.record->id < y.record->id; });
  return out;
}

bool OsvDatabase::knows(std::string_view name) const {
  return index_.count(normalize_name(name)) > 0;
}

}  // namespace mlsc::vuln
