// Helpers shared by the signing tests: scratch directories, the reference's test models, and
// running the system's checksum tools.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>

namespace mlsc::sign::testing {

namespace fs = std::filesystem;

inline fs::path shared_dir() { return fs::path(MLSC_SHARED_DIR); }
inline fs::path vectors_dir() { return shared_dir() / "vectors" / "model-signing"; }

// A directory under $TMPDIR removed (with its contents) when the object goes away.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base != nullptr ? base : "/tmp") + "/mlsc-sign-test-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

inline void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Bytes i % 251, the pattern of the BLAKE3 test vectors.
inline std::string pattern_bytes(std::size_t n, unsigned seed = 0) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i + seed) % 251);
  return s;
}

inline bool have_tool(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

// First whitespace-separated word of `tool FILE`'s output (the hex digest for *sum tools).
inline std::string tool_digest(const std::string& tool, const fs::path& file) {
  struct PipeClose {
    void operator()(FILE* f) const { ::pclose(f); }
  };
  const std::string cmd = tool + " '" + file.string() + "'";
  std::unique_ptr<FILE, PipeClose> pipe(::popen(cmd.c_str(), "r"));
  if (!pipe) return {};
  std::string out;
  for (int c = std::fgetc(pipe.get()); c != EOF && c != ' ' && c != '\n'; c = std::fgetc(pipe.get())) {
    out.push_back(static_cast<char>(c));
  }
  return out;
}

// The models of the reference's tests/conftest.py, built exactly as its fixtures build them.
// Returns the path to pass as the model (a file or a directory).
inline constexpr const char* kKnownModelText = "This is a simple model";

inline fs::path make_reference_model(const std::string& fixture, const fs::path& base) {
  if (fixture == "sample_model_file" || fixture == "empty_model_file") {
    const fs::path file = base / "model" / "file";
    write_file(file, fixture == "sample_model_file" ? kKnownModelText : "");
    return file;
  }
  const fs::path root = base / "model" / "root";
  fs::create_directories(root);
  if (fixture == "sample_model_folder") {
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 3; ++j) {
        const std::string f = "f" + std::to_string(i) + std::to_string(j);
        write_file(root / ("d" + std::to_string(i)) / f, "This is file " + f + " in d" + std::to_string(i) + ".");
      }
    }
    for (int i = 0; i < 4; ++i) {
      write_file(root / ("f" + std::to_string(i)), "This is file f" + std::to_string(i) + " in root.");
    }
  } else if (fixture == "model_folder_with_empty_file") {
    write_file(root / "empty_file", "");
  } else if (fixture == "deep_model_folder") {
    const fs::path deep = root / "d0" / "d1" / "d2" / "d3" / "d4";
    for (int i = 0; i < 4; ++i) write_file(deep / ("f" + std::to_string(i)), "This is file f" + std::to_string(i) + ".");
  } else if (fixture == "symlink_model_folder") {
    const fs::path external = base / "external" / "file";
    write_file(external, kKnownModelText);
    fs::create_symlink(fs::absolute(external), root / "symlink_file");
  }
  return root;
}

}  // namespace mlsc::sign::testing
