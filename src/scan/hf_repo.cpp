#include "hf_repo.hpp"

#include <algorithm>
#include <cctype>
#include <deque>
#include <fstream>
#include <set>
#include <system_error>

#include "python_source.hpp"

namespace mlsc::scan::hf {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxCodeFiles = 64;
constexpr std::uintmax_t kMaxCodeBytes = 8U << 20;

void add_ref(std::vector<CodeRef>& out, std::string key, const json& v) {
  if (!v.is_string()) return;
  CodeRef ref;
  ref.key = std::move(key);
  ref.reference = v.get<std::string>();
  std::string local = ref.reference;
  if (const auto sep = local.find("--"); sep != std::string::npos) {
    ref.repo = local.substr(0, sep);
    local = local.substr(sep + 2);
  }
  const auto dot = local.rfind('.');
  ref.module = dot == std::string::npos ? local : local.substr(0, dot);
  out.push_back(std::move(ref));
}

// A module name transformers can turn into a file inside the repository.
bool plain_module(const std::string& m) {
  if (m.empty() || m.front() == '.' || m.back() == '.' || m.find("..") != std::string::npos)
    return false;
  return std::all_of(m.begin(), m.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.' || c == '-';
  });
}

std::string module_file(const std::string& module) {
  std::string f = module;
  std::replace(f.begin(), f.end(), '.', '/');
  return f + ".py";
}

std::string rule_for(python::Category c) {
  switch (c) {
    case python::Category::process:
      return "hf.remote-code-process";
    case python::Category::exec:
      return "hf.remote-code-exec";
    case python::Category::network:
      return "hf.remote-code-network";
    case python::Category::native:
      return "hf.remote-code-native";
    case python::Category::deserialize:
      return "hf.remote-code-deserialize";
    case python::Category::file_write:
      return "hf.remote-code-file-write";
    case python::Category::file_read:
      return "hf.remote-code-file-read";
    case python::Category::environment:
      return "hf.remote-code-environment";
  }
  return "hf.remote-code-exec";
}

bool within(const fs::path& p, const fs::path& root) {
  auto r = root.begin();
  auto q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (q == p.end() || *q != *r) return false;
  }
  return true;
}

bool in_cache_blobs(const fs::path& file) {
  const fs::path parent = file.lexically_normal().parent_path();
  return parent.filename() == "blobs" &&
         parent.parent_path().filename().string().rfind("models--", 0) == 0;
}

// Walks the module files of one repository: reads each (inside the root only), reports what it
// does, and follows its relative imports, as transformers' dynamic module loader does.
class CodeWalk {
 public:
  CodeWalk(ScanContext& ctx, fs::path dir, fs::path root)
      : ctx_(ctx), dir_(std::move(dir)), root_(std::move(root)) {}

  void add(const std::string& rel) {
    const auto norm = fs::path(rel).lexically_normal().generic_string();
    if (norm.rfind("..", 0) == 0) {
      ctx_.add(Severity::high, "hf.remote-code-path",
               "remote code imports " + norm + ", which climbs out of the repository");
      return;
    }
    if (seen_.insert(norm).second) queue_.push_back(norm);
  }

  void run() {
    while (!queue_.empty()) {
      const std::string rel = queue_.front();
      queue_.pop_front();
      if (++files_ > kMaxCodeFiles) {
        ctx_.add(Severity::high, "unscannable",
                 "remote code imports more than " + std::to_string(kMaxCodeFiles) +
                     " files; the rest are not checked");
        return;
      }
      visit(rel);
    }
  }

 private:
  void visit(const std::string& rel) {
    const fs::path path = dir_ / rel;
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(path, ec))) {
      ctx_.add(Severity::medium, "hf.remote-code-missing",
               rel +
                   " is imported by the remote code but is not in the repository; transformers "
                   "would fetch it from the Hub, so it cannot be checked here");
      return;
    }
    if (!resolves_inside(path, root_)) {
      ctx_.add(Severity::high, "hf.symlink-escape",
               rel + " resolves outside the repository (" +
                   fs::weakly_canonical(path, ec).string() + "); it was not read");
      return;
    }
    const auto size = fs::file_size(path, ec);
    if (ec || size > kMaxCodeBytes) {
      ctx_.add(Severity::high, "unscannable",
               rel + (ec ? " could not be read" : " is over 8 MiB") + "; remote code not checked");
      return;
    }
    std::ifstream in(path, std::ios::binary);
    std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto a = python::analyse(source);
    for (const auto& use : a.uses) {
      ctx_.add(python::category_severity(use.category), rule_for(use.category),
               rel + ":" + std::to_string(use.line) + ": remote code uses " + use.what + " (" +
                   std::string(python::category_name(use.category)) + ")");
    }
    if (a.truncated) {
      ctx_.add(Severity::medium, "hf.remote-code-exec", rel + ": more primitives than listed");
    }
    const fs::path here = fs::path(rel).parent_path();
    for (const auto& imp : a.relative_imports) {
      std::error_code dec;
      const fs::path target = here / imp;
      const bool package = fs::is_directory(dir_ / target, dec);
      add(package ? (target / "__init__.py").generic_string() : target.generic_string() + ".py");
    }
  }

  ScanContext& ctx_;
  fs::path dir_;
  fs::path root_;
  std::deque<std::string> queue_;
  std::set<std::string> seen_;
  std::size_t files_ = 0;
};

std::string join_files(const std::vector<CodeRef>& refs) {
  std::set<std::string> files;
  for (const auto& r : refs) {
    if (r.repo.empty()) files.insert(module_file(r.module));
  }
  std::string out;
  for (const auto& f : files) out += (out.empty() ? "" : ", ") + f;
  return out;
}

}  // namespace

std::vector<CodeRef> code_references(const json& members) {
  std::vector<CodeRef> out;
  if (auto it = members.find("auto_map"); it != members.end() && it->is_object()) {
    for (const auto& [cls, v] : it->items()) {
      if (v.is_array()) {
        for (const auto& e : v) add_ref(out, "auto_map." + cls, e);
      } else {
        add_ref(out, "auto_map." + cls, v);
      }
    }
  }
  if (auto it = members.find("custom_pipelines"); it != members.end() && it->is_object()) {
    for (const auto& [task, v] : it->items()) {
      if (v.is_object() && v.contains("impl"))
        add_ref(out, "custom_pipelines." + task + ".impl", v["impl"]);
    }
  }
  return out;
}

void check_remote_code(ScanContext& ctx, const json& members) {
  const auto refs = code_references(members);
  if (refs.empty()) return;
  const std::string files = join_files(refs);
  ctx.add(Severity::high, "hf.trust-remote-code",
          "loading this model needs trust_remote_code=True: " + refs.front().key + " names " +
              refs.front().reference + (files.empty() ? "" : "; it imports " + files) +
              " and runs it on load");
  for (const auto& r : refs) {
    if (!r.repo.empty()) {
      ctx.add(Severity::high, "hf.remote-code-other-repo",
              r.key + " loads " + r.reference + ": code from the repository '" + r.repo +
                  "', which is not here to be checked");
    } else if (!plain_module(r.module)) {
      ctx.add(Severity::high, "hf.remote-code-path",
              r.key + " names module '" + r.module +
                  "', which is not a plain module name inside the repository");
    }
  }
  const fs::path file(ctx.file_path());
  if (ctx.file_path().empty() || !ctx.member().empty()) {
    ctx.add(Severity::medium, "hf.remote-code-unchecked",
            "the config is not a file in a model folder (in-memory or inside a container), so the "
            "Python files it names (" +
                files + ") could not be checked");
    return;
  }
  if (in_cache_blobs(file)) return;  // checked through the snapshot entry that links this blob
  const fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  std::error_code ec;
  const fs::path root = cache_repo_root(file).value_or(fs::weakly_canonical(dir, ec));
  CodeWalk walk(ctx, dir, root);
  for (const auto& r : refs) {
    if (r.repo.empty() && plain_module(r.module)) walk.add(module_file(r.module));
  }
  walk.run();
}

std::optional<fs::path> cache_repo_root(const fs::path& path) {
  std::error_code ec;
  const fs::path abs = fs::absolute(path, ec).lexically_normal();
  fs::path prefix;
  fs::path candidate;
  bool after_snapshots = false;
  for (const auto& part : abs) {
    const std::string s = part.string();
    if (after_snapshots) return fs::weakly_canonical(candidate, ec);  // a <rev> component exists
    if (s == "snapshots" && prefix.filename().string().rfind("models--", 0) == 0) {
      candidate = prefix;
      after_snapshots = true;
    }
    prefix /= part;
  }
  return std::nullopt;
}

bool resolves_inside(const fs::path& path, const fs::path& root) {
  std::error_code ec;
  const fs::path real = fs::weakly_canonical(path, ec);
  if (ec) return false;
  const fs::path real_root = fs::weakly_canonical(root, ec);
  if (ec) return false;
  return within(real, real_root);
}

std::optional<std::string> cache_link_escape(const std::string& path) {
  const auto root = cache_repo_root(path);
  if (!root || resolves_inside(path, *root)) return std::nullopt;
  std::error_code ec;
  return "hub cache entry resolves to " + fs::weakly_canonical(path, ec).string() +
         ", outside its repository " + root->string() + "; not opened";
}

}  // namespace mlsc::scan::hf
