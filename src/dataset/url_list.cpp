// URL list readers: RFC 4180 CSV with a header row, and JSON Lines. Strict on purpose: a
// quote inside an unquoted field, an unterminated quote, a row with the wrong number of fields,
// a NUL byte or a repeated column name are errors, because two readers that resolve such rows
// differently would fetch and check different URLs.
#include "mlsc/dataset/url_list.hpp"

#include <algorithm>
#include <system_error>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/mapped_file.hpp"
#include "mlsc/core/text.hpp"
#include "mlsc/sign/bundle.hpp"
#include "mlsc/sign/manifest.hpp"

namespace mlsc::dataset {

namespace {

constexpr std::size_t kMaxRowBytes = 8 * 1024 * 1024;
constexpr std::size_t kMaxJsonDepth = 32;

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// Checks the three values of one row and appends it.
Expected<void> add_entry(UrlList& list, std::string url, std::string_view hash,
                         std::string_view path, std::uint64_t offset) {
  if (url.empty()) return Error::at(offset, "empty url");
  if (url.size() > kMaxUrlBytes) return Error::at(offset, "url longer than 64 KiB");
  if (has_control(url)) return Error::at(offset, "url contains control characters");
  if (!is_valid_utf8(url)) return Error::at(offset, "url is not valid UTF-8");
  UrlEntry e;
  e.url = std::move(url);
  e.offset = offset;
  if (!hash.empty()) {
    auto h = normalize_sha256_hex(hash);
    if (!h) return Error::at(offset, "sha256 value is not 64 hex digits");
    e.sha256 = std::move(*h);
  }
  if (!path.empty()) {
    auto p = sign::canonical_relative_path(path);
    if (!p || has_control(path) || !is_valid_utf8(path)) {
      return Error::at(offset, "path '" + std::string(path) +
                                   "' is not a relative path inside the fetch directory");
    }
    e.path = std::move(*p);
  }
  list.entries.push_back(std::move(e));
  return {};
}

// A cursor over CSV text that yields one row of fields at a time.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {
    if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;  // UTF-8 byte order mark
  }

  bool done() const { return pos_ >= text_.size(); }
  std::uint64_t offset() const { return pos_; }

  // The next non-empty row into `fields`; false at the end of the text.
  Expected<bool> next(std::vector<std::string>& fields) {
    while (!done() && (text_[pos_] == '\n' || text_.substr(pos_).starts_with("\r\n"))) {
      pos_ += text_[pos_] == '\n' ? 1 : 2;
    }
    if (done()) return false;
    fields.clear();
    const std::size_t row_start = pos_;
    for (;;) {
      if (fields.size() >= kMaxColumns) return Error::at(pos_, "more than 4096 columns");
      std::string field;
      const bool is_quoted = !done() && text_[pos_] == '"';
      auto ended = is_quoted ? quoted(field) : unquoted(field);
      if (!ended) return ended.error();
      fields.push_back(std::move(field));
      if (pos_ - row_start > kMaxRowBytes) return Error::at(row_start, "row longer than 8 MiB");
      if (!*ended) return true;  // end of row
    }
  }

 private:
  // After a field: true when a comma follows (more fields), false at the end of the row.
  Expected<bool> separator() {
    if (done()) return false;
    if (text_[pos_] == ',') {
      ++pos_;
      return true;
    }
    if (text_[pos_] == '\n') {
      ++pos_;
      return false;
    }
    if (text_.substr(pos_).starts_with("\r\n")) {
      pos_ += 2;
      return false;
    }
    return Error::at(pos_, "unexpected character after a field");
  }

  Expected<bool> unquoted(std::string& field) {
    const std::size_t start = pos_;
    while (!done() && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r') {
      const char c = text_[pos_];
      if (c == '"') return Error::at(pos_, "quote inside an unquoted field");
      if (c == '\0') return Error::at(pos_, "NUL byte in a field");
      if (pos_ - start >= kMaxFieldBytes) return Error::at(start, "field longer than 1 MiB");
      ++pos_;
    }
    if (!done() && text_[pos_] == '\r' && !text_.substr(pos_).starts_with("\r\n")) {
      return Error::at(pos_, "carriage return outside quotes not followed by a line feed");
    }
    field.assign(text_.substr(start, pos_ - start));
    return separator();
  }

  Expected<bool> quoted(std::string& field) {
    const std::size_t start = pos_++;
    for (;;) {
      if (done()) return Error::at(start, "unterminated quoted field");
      const char c = text_[pos_];
      if (c == '\0') return Error::at(pos_, "NUL byte in a field");
      if (field.size() >= kMaxFieldBytes) return Error::at(start, "field longer than 1 MiB");
      if (c != '"') {
        field.push_back(c);
        ++pos_;
        continue;
      }
      if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
        field.push_back('"');
        pos_ += 2;
        continue;
      }
      ++pos_;  // the closing quote
      return separator();
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

struct Columns {
  std::optional<std::size_t> url, hash, path;
};

Expected<std::optional<std::size_t>> column_index(const std::vector<std::string>& header,
                                                  const std::string& name) {
  if (name.empty()) return std::optional<std::size_t>();
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] != name) continue;
    if (found) return Error::at(0, "column '" + name + "' appears more than once in the header");
    found = i;
  }
  return found;
}

Expected<Columns> columns_of(const std::vector<std::string>& header, const UrlListOptions& o) {
  Columns c;
  for (auto [name, dest] : {std::pair{&o.url_column, &c.url}, std::pair{&o.hash_column, &c.hash},
                            std::pair{&o.path_column, &c.path}}) {
    auto i = column_index(header, *name);
    if (!i) return i.error();
    *dest = *i;
  }
  if (!c.url) return Error::at(0, "no '" + o.url_column + "' column in the header");
  if (!o.path_column.empty() && !c.path)
    return Error::at(0, "no '" + o.path_column + "' column in the header");
  return c;
}

std::string_view field_or_empty(const std::vector<std::string>& row, std::optional<std::size_t> i) {
  return i ? std::string_view(row[*i]) : std::string_view();
}

// Top-level keys of one JSON object line; a repeated key makes the line ambiguous.
struct KeyTracker {
  std::unordered_set<std::string> seen;
  bool duplicate = false;
};

Expected<std::string> json_text(const nlohmann::json& row, const std::string& key,
                                std::uint64_t offset) {
  if (key.empty()) return std::string();
  auto it = row.find(key);
  if (it == row.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Error::at(offset, "'" + key + "' is not a string");
  return it->get<std::string>();
}

Expected<void> parse_json_line(std::string_view line, std::uint64_t offset, const UrlListOptions& o,
                               UrlList& list) {
  if (line.size() > kMaxRowBytes) return Error::at(offset, "line longer than 8 MiB");
  if (sign::json_nesting_exceeds(line, kMaxJsonDepth)) {
    return Error::at(offset, "JSON nested deeper than 32 levels");
  }
  KeyTracker keys;
  auto callback = [&keys](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 && parsed.is_string() &&
        !keys.seen.insert(parsed.get<std::string>()).second) {
      keys.duplicate = true;
    }
    return true;
  };
  const nlohmann::json row = nlohmann::json::parse(line, callback, false);
  if (row.is_discarded()) return Error::at(offset, "not valid JSON");
  if (!row.is_object()) return Error::at(offset, "line is not a JSON object");
  if (keys.duplicate) return Error::at(offset, "a key appears twice in one object");
  auto url = json_text(row, o.url_column, offset);
  if (!url) return url.error();
  if (!row.contains(o.url_column)) return Error::at(offset, "no '" + o.url_column + "' key");
  auto hash = json_text(row, o.hash_column, offset);
  if (!hash) return hash.error();
  auto path = json_text(row, o.path_column, offset);
  if (!path) return path.error();
  if (!o.path_column.empty() && path->empty())
    return Error::at(offset, "no '" + o.path_column + "' value");
  if (!o.hash_column.empty() && row.contains(o.hash_column)) list.has_hash_column = true;
  return add_entry(list, std::move(*url), *hash, *path, offset);
}

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

}  // namespace

std::optional<std::string> normalize_sha256_hex(std::string_view text) {
  if (text.size() != 64) return std::nullopt;
  std::string out(text);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  return out;
}

std::optional<UrlListFormat> url_list_format(const std::filesystem::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".csv") return UrlListFormat::csv;
  if (ext == ".jsonl" || ext == ".ndjson") return UrlListFormat::jsonl;
  return std::nullopt;
}

Expected<UrlList> parse_url_list_csv(std::string_view text, const UrlListOptions& options) {
  CsvReader reader(text);
  std::vector<std::string> header;
  auto got = reader.next(header);
  if (!got) return got.error();
  if (!*got) return Error{"the CSV list is empty (no header row)"};
  auto columns = columns_of(header, options);
  if (!columns) return columns.error();
  UrlList list;
  list.has_hash_column = columns->hash.has_value();
  std::vector<std::string> row;
  for (;;) {
    const std::uint64_t offset = reader.offset();
    got = reader.next(row);
    if (!got) return got.error();
    if (!*got) break;
    if (row.size() != header.size()) {
      return Error::at(offset, "row has " + std::to_string(row.size()) + " fields, the header " +
                                   std::to_string(header.size()));
    }
    auto ok = add_entry(list, row[*columns->url], field_or_empty(row, columns->hash),
                        field_or_empty(row, columns->path), offset);
    if (!ok) return ok.error();
    if (columns->path && row[*columns->path].empty()) {
      return Error::at(offset, "empty '" + options.path_column + "' value");
    }
  }
  return list;
}

Expected<UrlList> parse_url_list_jsonl(std::string_view text, const UrlListOptions& options) {
  UrlList list;
  std::size_t pos = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    if (!blank(line)) {
      auto ok = parse_json_line(line, pos, options, list);
      if (!ok) return ok.error();
    }
    pos = end + 1;
  }
  return list;
}

Expected<UrlList> read_url_list(const std::filesystem::path& file, const UrlListOptions& options) {
  if (file.extension() == ".parquet") {
    return Error{file.string() +
                 ": Parquet URL lists are not read by mlsc (no Arrow/Parquet library in "
                 "Debian); convert the list to CSV or JSON Lines first"};
  }
  const auto format = url_list_format(file);
  if (!format)
    return Error{file.string() + ": unknown URL list format (expected .csv, .jsonl or .ndjson)"};
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    return Error{file.string() + ": not a regular file"};
  if (std::filesystem::file_size(file, ec) > kMaxListBytes)
    return Error{file.string() + ": larger than 16 GiB"};
  auto mapped = MappedFile::open(file.string());
  if (!mapped) return mapped.error();
  const std::string_view text = as_chars(mapped->bytes());
  auto list = *format == UrlListFormat::csv ? parse_url_list_csv(text, options)
                                            : parse_url_list_jsonl(text, options);
  if (!list) return Error{file.string() + ": " + list.error().message, list.error().offset};
  return list;
}

}  // namespace mlsc::dataset
