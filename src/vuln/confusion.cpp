// Dependency confusion checks. See confusion.hpp and docs/deps.md for the rules.
#include "mlsc/vuln/confusion.hpp"

#include <yaml-cpp/yaml.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "mlsc/core/text.hpp"
#include "mlsc/vuln/package_name.hpp"

namespace mlsc::vuln {

namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kMaxNamesBytes = 512ULL << 20;
constexpr std::string_view kPyPI = "https://pypi.org/simple";

std::string strip_slashes(std::string_view url) {
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  return std::string(url);
}

// "https://user:token@host:443/path" -> "host"; credentials never reach a message.
std::string url_host(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  if (const std::size_t at = url.rfind('@'); at != std::string_view::npos)
    url.remove_prefix(at + 1);
  if (!url.empty() && url.front() == '[') return ascii_lower(url.substr(0, url.find(']') + 1));
  return ascii_lower(url.substr(0, url.find(':')));
}

// A URL as it may be shown: without user, password or token.
std::string redact(std::string_view url) {
  const std::size_t scheme = url.find("://");
  const std::size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const std::size_t path = url.find_first_of("/?#", start);
  const std::size_t at = url.substr(0, path).rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(url.substr(0, 300));
  return std::string(url.substr(0, start)) + "***@" + std::string(url.substr(at + 1, 300));
}

Expected<std::string> read_limited(const fs::path& path, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(path.string() + ": cannot open");
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  std::string text(ec ? limit + 1 : std::min<std::uintmax_t>(size, limit + 1), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > limit) return Error(path.string() + ": larger than the file limit");
  return text;
}

void add_urls(std::vector<IndexOption>& out, IndexOption::Kind kind, std::string_view value,
              std::size_t line) {
  std::size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t' || value[i] == '\n')) ++i;
    const std::size_t start = i;
    while (i < value.size() && value[i] != ' ' && value[i] != '\t' && value[i] != '\n') ++i;
    if (i > start) out.push_back({kind, std::string(value.substr(start, i - start)), line});
  }
}

// pip's option names: "--index-url", "index_url", "INDEX-URL" are the same key.
std::string pip_key(std::string_view key) {
  std::string k = ascii_lower(trim(key));
  while (!k.empty() && k.front() == '-') k.erase(0, 1);
  std::replace(k.begin(), k.end(), '_', '-');
  return k;
}

void add_option(std::vector<IndexOption>& out, const std::string& key, std::string_view value,
                std::size_t line) {
  if (key == "index-url" || key == "i") add_urls(out, IndexOption::Kind::index_url, value, line);
  if (key == "extra-index-url") add_urls(out, IndexOption::Kind::extra_index_url, value, line);
  if (key == "find-links" || key == "f") add_urls(out, IndexOption::Kind::find_links, value, line);
  if (key == "no-index") {
    const std::string v = ascii_lower(trim(value));
    if (v == "1" || v == "true" || v == "yes" || v == "on") {
      out.push_back({IndexOption::Kind::no_index, "", line});
    }
  }
}

struct Setup {
  std::string path;
  std::vector<IndexOption> options;
};

// The indexes pip consults with these options (in order: primary, then extras).
std::vector<std::pair<std::string, std::size_t>> consulted(const std::vector<IndexOption>& own,
                                                           const std::vector<Setup>& global) {
  std::string primary = std::string(kPyPI);
  std::size_t primary_line = 0;
  bool no_index = false;
  std::vector<std::pair<std::string, std::size_t>> extras;
  auto apply = [&](const std::vector<IndexOption>& options) {
    for (const auto& o : options) {
      if (o.kind == IndexOption::Kind::index_url) {
        primary = o.url;
        primary_line = o.line;
      }
      if (o.kind == IndexOption::Kind::extra_index_url) extras.emplace_back(o.url, o.line);
      if (o.kind == IndexOption::Kind::no_index) no_index = true;
    }
  };
  for (const auto& g : global) apply(g.options);
  apply(own);  // a requirements file's own --index-url overrides the configuration's
  std::vector<std::pair<std::string, std::size_t>> out;
  if (!no_index) out.emplace_back(primary, primary_line);
  out.insert(out.end(), extras.begin(), extras.end());
  return out;
}

struct MixedVerdict {
  bool mixed = false;
  bool with_public = false;
  std::string description;  // "https://pypi.org/simple (public) + https://*** (private)"
};

MixedVerdict judge(const std::vector<std::pair<std::string, std::size_t>>& indexes,
                   const ConfusionConfig& config) {
  MixedVerdict v;
  if (indexes.size() < 2) return v;
  bool any_private = false;
  for (const auto& [url, line] : indexes) {
    const bool is_public = classify_index(url, config) == IndexKind::public_index;
    v.with_public = v.with_public || is_public;
    any_private = any_private || !is_public;
    if (!v.description.empty()) v.description += " + ";
    v.description += redact(url) + (is_public ? " (public)" : " (private)");
  }
  v.mixed = any_private;
  return v;
}

bool is_requirements_name(const fs::path& path) {
  const std::string name = ascii_lower(path.filename().string());
  const bool txt = name.ends_with(".txt");
  const bool in = name.ends_with(".in");
  if (!txt && !in) return false;
  if (name.find("requirements") != std::string::npos || name.starts_with("constraints")) {
    return true;
  }
  return ascii_lower(path.parent_path().filename().string()) == "requirements";
}

bool is_env_name(const fs::path& path) {
  const std::string name = ascii_lower(path.filename().string());
  return name == ".env" || name.starts_with(".env.") || name.ends_with(".env");
}

bool is_pip_conf_name(const fs::path& path) {
  const std::string name = ascii_lower(path.filename().string());
  return name == "pip.conf" || name == "pip.ini";
}

std::vector<fs::path> discover(const std::string& root, const ConfusionOptions& options) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return {fs::path(root)};
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  for (const fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_directory(ec)) {
      if (name == ".git" || name == "node_modules" || name == "site-packages" ||
          name == "__pycache__" || static_cast<std::size_t>(it.depth()) + 1 >= options.max_depth) {
        it.disable_recursion_pending();
      }
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    if (is_requirements_name(it->path()) || is_env_name(it->path()) ||
        is_pip_conf_name(it->path())) {
      files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string requirement_text(const Requirement& r) {
  return r.name + r.specifier.str();
}

class Checker {
 public:
  Checker(const ConfusionConfig& config, const PublicIndex* index, const ConfusionOptions& options)
      : config_(config), index_(index), options_(options) {}

  void check_internal_names(const std::string& config_path) {
    auto report = [&]() -> FileReport& { return file(config_path); };
    for (const auto& name : config_.internal_names) {
      if (index_ == nullptr) break;
      if (index_->contains(name)) {
        report().findings.push_back(
            {Severity::high, "vuln.internal-name-public",
             "internal package '" + name +
                 "' also exists on the public index: with more than one index configured pip may "
                 "install the public one",
             name, std::nullopt});
      } else {
        report().findings.push_back(
            {Severity::info, "vuln.internal-name-unclaimed",
             "internal package '" + name +
                 "' is not on the public index; anyone can register it there (consider a "
                 "placeholder project)",
             name, std::nullopt});
      }
    }
    for (const auto& prefix : config_.internal_prefixes) {
      if (index_ == nullptr) break;
      std::size_t total = 0;
      const auto examples = index_->with_prefix(prefix, options_.prefix_examples, &total);
      if (total == 0) continue;
      std::string list;
      for (const auto& e : examples) list += (list.empty() ? "" : ", ") + e;
      if (total > examples.size()) list += ", ...";
      report().findings.push_back({Severity::high, "vuln.internal-name-public",
                                   std::to_string(total) +
                                       " public project(s) match the internal "
                                       "prefix '" +
                                       prefix + "*': " + list,
                                   prefix + "*", std::nullopt});
    }
  }

  void check_setup_file(const Setup& setup, const std::vector<Setup>& global_for_it) {
    const auto indexes = consulted(setup.options, global_for_it);
    const MixedVerdict verdict = judge(indexes, config_);
    if (!verdict.mixed) return;
    for (const auto& o : setup.options) {
      if (o.kind != IndexOption::Kind::extra_index_url) continue;
      file(setup.path)
          .findings.push_back({verdict.with_public ? Severity::high : Severity::medium,
                               "vuln.mixed-index",
                               "line " + std::to_string(o.line) + ": extra index " + redact(o.url) +
                                   " makes pip choose among " + verdict.description +
                                   " by highest version, whichever index serves it",
                               "", std::nullopt});
    }
  }

  void check_requirements(const fs::path& path, const RequirementsFile& reqs,
                          const std::vector<Setup>& global) {
    const Setup own{path.string(), reqs.index_options};
    check_setup_file(own, global);
    const auto indexes = consulted(reqs.index_options, global);
    const MixedVerdict verdict = judge(indexes, config_);
    if (!verdict.mixed) return;
    for (const auto& r : reqs.requirements) {
      if (r.name.empty() || !r.url.empty()) continue;  // direct URLs bypass the indexes
      const bool pinned = r.pinned_version().has_value();
      const bool hashed = !r.hashes.empty();
      if (pinned && hashed) continue;
      const bool internal = config_.is_internal(r.normalized);
      std::string why = !pinned && !hashed ? "neither pinned nor hashed"
                        : !pinned          ? "not pinned to one version"
                                           : "pinned but without --hash";
      std::string message = "line " + std::to_string(r.line) + ": " + requirement_text(r) + " is " +
                            why + " while pip consults " + verdict.description;
      if (internal) {
        message += "; it is an internal package, so a public upload with a higher version " +
                   std::string("(or the same version, without a hash) can replace it");
      }
      file(path.string())
          .findings.push_back({internal ? Severity::critical : Severity::high,
                               "vuln.unpinned-in-mixed-index", std::move(message), r.name,
                               std::nullopt});
    }
  }

  FileReport& file(const std::string& path) {
    auto [it, inserted] = reports_.try_emplace(path);
    if (inserted) {
      it->second.path = path;
      it->second.format = "pip-configuration";
    }
    return it->second;
  }

  std::vector<FileReport> take() {
    std::vector<FileReport> out;
    for (auto& [path, report] : reports_) {
      if (!report.findings.empty() || !report.io_error.empty()) out.push_back(std::move(report));
    }
    return out;
  }

 private:
  const ConfusionConfig& config_;
  const PublicIndex* index_;
  const ConfusionOptions& options_;
  std::map<std::string, FileReport> reports_;
};

}  // namespace

IndexKind classify_index(std::string_view url, const ConfusionConfig& config) {
  const std::string u = strip_slashes(url);
  for (const auto& p : config.private_indexes) {
    if (!p.empty() && u.substr(0, p.size()) == p) return IndexKind::private_index;
  }
  const std::string host = url_host(url);
  for (const std::string_view pub :
       {"pypi.org", "pypi.python.org", "files.pythonhosted.org", "test.pypi.org", "www.pypi.org"}) {
    if (host == pub) return IndexKind::public_index;
  }
  return IndexKind::private_index;
}

bool ConfusionConfig::is_internal(std::string_view normalized_name) const {
  if (std::find(internal_names.begin(), internal_names.end(), normalized_name) !=
      internal_names.end()) {
    return true;
  }
  return std::any_of(
      internal_prefixes.begin(), internal_prefixes.end(),
      [normalized_name](const std::string& p) { return normalized_name.substr(0, p.size()) == p; });
}

Expected<ConfusionConfig> ConfusionConfig::parse_yaml(std::string_view text) {
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Error::at(e.mark.pos < 0 ? 0 : static_cast<std::uint64_t>(e.mark.pos),
                     std::string("invalid YAML: ") + e.msg);
  }
  if (!doc.IsMap()) return Error("confusion config must be a map with 'internal:'");
  ConfusionConfig config;
  const YAML::Node internal = doc["internal"];
  if (!internal || !internal.IsSequence()) return Error("'internal' must be a list of names");
  for (const auto& item : internal) {
    if (!item.IsScalar()) return Error("'internal' entries must be names");
    std::string name = item.Scalar();
    if (!name.empty() && name.back() == '*') {
      name.pop_back();
      config.internal_prefixes.push_back(normalize_name(name));
    } else {
      if (!is_valid_name(name)) return Error("'" + name + "' is not a package name");
      config.internal_names.push_back(normalize_name(name));
    }
  }
  const YAML::Node index = doc["private_index"];
  if (index && index.IsScalar()) config.private_indexes.push_back(strip_slashes(index.Scalar()));
  if (index && index.IsSequence()) {
    for (const auto& item : index) {
      if (item.IsScalar()) config.private_indexes.push_back(strip_slashes(item.Scalar()));
    }
  }
  return config;
}

Expected<ConfusionConfig> ConfusionConfig::load(const std::string& path) {
  auto text = read_limited(path, 1U << 20);
  if (!text) return text.error();
  auto config = parse_yaml(*text);
  if (!config) return Error(path + ": " + config.error().describe());
  return config;
}

Expected<PublicIndex> PublicIndex::load(const std::string& path) {
  // gzread reads gzip and passes plain text through unchanged.
  std::unique_ptr<gzFile_s, int (*)(gzFile)> gz(gzopen(path.c_str(), "rb"), gzclose);
  if (!gz) return Error(path + ": cannot open");
  gzbuffer(gz.get(), 1 << 17);
  PublicIndex index;
  std::string raw;
  std::vector<char> buffer(1 << 20);
  while (true) {
    const int n = gzread(gz.get(), buffer.data(), static_cast<unsigned>(buffer.size()));
    if (n < 0) return Error(path + ": damaged gzip stream");
    if (n == 0) break;
    if (raw.size() + static_cast<std::size_t>(n) > kMaxNamesBytes) {
      return Error(path + ": more than 512 MiB of names");
    }
    raw.append(buffer.data(), static_cast<std::size_t>(n));
  }
  // Normalising never makes a name longer, so the arena never reallocates below.
  index.arena_.reserve(raw.size() + 1);
  std::size_t start = 0;
  while (start < raw.size()) {
    const std::size_t end = std::min(raw.find('\n', start), raw.size());
    const std::string_view line = trim(std::string_view(raw).substr(start, end - start));
    start = end + 1;
    if (line.empty()) continue;
    index.arena_ += normalize_name(line);
    index.arena_ += '\n';
  }
  index.finish();
  return index;
}

PublicIndex PublicIndex::from_names(std::vector<std::string> names) {
  PublicIndex index;
  std::size_t total = 0;
  for (const auto& n : names) total += n.size() + 1;
  index.arena_.reserve(total);
  for (const auto& n : names) {
    index.arena_ += normalize_name(n);
    index.arena_ += '\n';
  }
  index.finish();
  return index;
}

void PublicIndex::finish() {
  names_.clear();
  std::size_t start = 0;
  const std::string_view arena = arena_;
  while (start < arena.size()) {
    const std::size_t end = arena.find('\n', start);
    names_.push_back(arena.substr(start, end - start));
    start = end + 1;
  }
  // The published list is sorted already; only sort when it is not.
  if (!std::is_sorted(names_.begin(), names_.end())) std::sort(names_.begin(), names_.end());
  names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
}

bool PublicIndex::contains(std::string_view name) const {
  const std::string n = normalize_name(name);
  return std::binary_search(names_.begin(), names_.end(), std::string_view(n));
}

std::vector<std::string> PublicIndex::with_prefix(std::string_view prefix, std::size_t limit,
                                                  std::size_t* total) const {
  const std::string p = normalize_name(prefix);
  auto it = std::lower_bound(names_.begin(), names_.end(), std::string_view(p));
  std::vector<std::string> out;
  std::size_t count = 0;
  for (; it != names_.end() && it->substr(0, p.size()) == p; ++it, ++count) {
    if (out.size() < limit) out.emplace_back(*it);
  }
  if (total != nullptr) *total = count;
  return out;
}

std::vector<IndexOption> parse_pip_conf(std::string_view text) {
  std::vector<IndexOption> out;
  std::string section;
  std::string key;
  std::string value;
  std::size_t key_line = 0;
  auto flush = [&] {
    if (!key.empty() && (section == "global" || section == "install" || section == "download")) {
      add_option(out, key, value, key_line);
    }
    key.clear();
    value.clear();
  };
  std::size_t start = 0;
  std::size_t number = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view raw = text.substr(start, end - start);
    start = end + 1;
    ++number;
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    // configparser: an indented line continues the previous value.
    if ((raw.front() == ' ' || raw.front() == '\t') && !key.empty()) {
      value += '\n';
      value += line;
      continue;
    }
    flush();
    if (line.front() == '[' && line.back() == ']') {
      section = ascii_lower(trim(line.substr(1, line.size() - 2)));
      continue;
    }
    const std::size_t eq = line.find_first_of("=:");
    if (eq == std::string_view::npos) continue;
    key = pip_key(line.substr(0, eq));
    value = std::string(trim(line.substr(eq + 1)));
    key_line = number;
  }
  flush();
  return out;
}

std::vector<IndexOption> parse_env_file(std::string_view text) {
  std::vector<IndexOption> out;
  std::size_t start = 0;
  std::size_t number = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line = trim(text.substr(start, end - start));
    start = end + 1;
    ++number;
    if (line.empty() || line.front() == '#') continue;
    if (line.substr(0, 7) == "export ") line = trim(line.substr(7));
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    if (name.substr(0, 4) != "PIP_") continue;
    add_option(out, pip_key(name.substr(4)), value, number);
  }
  return out;
}

std::vector<FileReport> check_confusion(const std::string& path, const std::string& config_path,
                                        const ConfusionConfig& config, const PublicIndex* index,
                                        const ConfusionOptions& options) {
  Checker checker(config, index, options);
  checker.check_internal_names(config_path);
  std::vector<Setup> global;
  std::vector<std::pair<fs::path, RequirementsFile>> requirement_files;
  for (const auto& file : discover(path, options)) {
    auto text = read_limited(file, options.max_file_bytes);
    if (!text) {
      checker.file(file.string()).io_error = text.error().message;
      continue;
    }
    if (is_pip_conf_name(file)) {
      global.push_back({file.string(), parse_pip_conf(*text)});
    } else if (is_env_name(file)) {
      global.push_back({file.string(), parse_env_file(*text)});
    } else {
      requirement_files.emplace_back(file, parse_requirements(*text));
    }
  }
  // A pip.conf or .env in the tree applies to every requirements file installed with it.
  for (const auto& setup : global) checker.check_setup_file(setup, {});
  for (const auto& [file, reqs] : requirement_files) {
    checker.check_requirements(file, reqs, global);
  }
  return checker.take();
}

}  // namespace mlsc::vuln
