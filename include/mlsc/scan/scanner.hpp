// The scanner framework: one Scanner per format behind one small interface (like syft's
// catalogers), a Registry that recognises formats by content, and a ScanContext that carries
// findings, limits and recursion into container members.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/finding.hpp"
#include "mlsc/scan/import_policy.hpp"

namespace mlsc::scan {

struct Limits {
  std::size_t max_depth = 8;                         // nested containers
  std::uint64_t max_member_bytes = 1ULL << 31;       // one inflated member
  std::uint64_t max_inflated_per_file = 8ULL << 30;  // all inflation for one top-level file
  std::size_t max_pickle_values = 1U << 24;          // symbolic values per pickle
  std::size_t max_pickles_per_stream = 4096;         // concatenated pickles per stream
};

struct ScanOptions {
  ImportPolicy policy = ImportPolicy::builtin();
  Limits limits;
};

class Registry;

// Which program loads a container's members. A pickle inside a PyTorch archive is read by
// torch.load, whose persistent_load expects tensor-storage records; the same record in a
// plain pickle means a custom loader decides what it gets.
enum class MemberLoader : std::uint8_t { generic, torch };

// Per top-level file. Not shared between threads.
class ScanContext {
 public:
  // `file_path` is the top-level file on disk; empty when scanning bytes from memory.
  ScanContext(const ScanOptions& options, const Registry& registry, FileReport& report,
              std::string file_path = {});

  const ScanOptions& options() const { return options_; }
  const ImportPolicy& policy() const { return options_.policy; }
  const std::string& member() const { return member_; }
  std::size_t depth() const { return depth_; }
  // The top-level file on disk, for formats whose meaning depends on their neighbours (ONNX
  // external data, SavedModel variables, Hugging Face remote code). Empty for in-memory scans:
  // such scanners must then say what they could not check.
  const std::string& file_path() const { return file_path_; }

  // Record a finding about the current member.
  void add(Severity severity, std::string rule, std::string message,
           std::optional<std::uint64_t> offset = std::nullopt);
  // Record a finding about a logical part of the current member (a layer inside a model
  // config, a node inside a graph): its member is the current member extended by `location`.
  void add_in(std::string_view location, Severity severity, std::string rule,
              std::string message, std::optional<std::uint64_t> offset = std::nullopt);
  void add_import(std::string module, std::string name, std::string verdict, std::uint64_t offset);

  // Scan `bytes` as the member `name` of the current member: recognise its format by content
  // and run that scanner, with the member path extended. Returns the recognised format, or
  // "unknown" (no finding is added for an unrecognised member).
  std::string scan_member(std::string_view name, ByteView bytes);

  // Charge `bytes` of decompression to this file's budget. False when over budget; the
  // caller must then report the member as unscannable.
  bool reserve_inflate(std::uint64_t bytes);

  // A scanner that learns more about what it holds (a zip that is a PyTorch checkpoint, a
  // pickle that is a joblib dump) names it; the outermost member's name becomes the format.
  void set_format(std::string_view format);

  // A container scanner declares who loads the members it is about to hand to scan_member;
  // a member scanner asks what its container declared. Declarations do not leak upwards or
  // skip a level: each scan_member call sees its parent's declaration only.
  void declare_member_loader(MemberLoader loader) { declared_loader_ = loader; }
  MemberLoader member_loader() const { return inherited_loader_; }

 private:
  const ScanOptions& options_;
  const Registry& registry_;
  FileReport& report_;
  std::string file_path_;
  std::string member_;
  std::size_t depth_ = 0;
  std::size_t format_depth_ = 0;  // the nesting level whose format names the file
  std::uint64_t inflated_ = 0;
  MemberLoader declared_loader_ = MemberLoader::generic;   // for this scanner's members
  MemberLoader inherited_loader_ = MemberLoader::generic;  // what this scanner's parent said
};

class Scanner {
 public:
  virtual ~Scanner() = default;
  // Format id this scanner reports, e.g. "zip", "pickle", "numpy".
  virtual std::string_view format() const = 0;
  // Content test. Must be cheap: look at magic bytes and small headers only.
  virtual bool matches(ByteView data) const = 0;
  // Analyse `data`; report through ctx. Never throws on bad input.
  virtual void scan(ByteView data, ScanContext& ctx) const = 0;
};

class Registry {
 public:
  // Every built-in scanner, most specific first; the raw-pickle scanner comes last.
  static const Registry& builtin();

  void add(std::unique_ptr<Scanner> scanner);
  const Scanner* detect(ByteView data) const;

 private:
  std::vector<std::unique_ptr<Scanner>> scanners_;
};

// Scan one file from disk. `display_path` is what reports show.
FileReport scan_file(const std::string& display_path, const std::string& fs_path,
                     const ScanOptions& options, const Registry& registry = Registry::builtin());
// Scan bytes already in memory (tests, fuzzers, servers).
FileReport scan_bytes(const std::string& display_path, ByteView data, const ScanOptions& options,
                      const Registry& registry = Registry::builtin());
// As scan_bytes, for bytes that are the contents of `fs_path` (what scan_file does after mapping).
FileReport scan_mapped(const std::string& display_path, const std::string& fs_path, ByteView data,
                       const ScanOptions& options, const Registry& registry = Registry::builtin());

}  // namespace mlsc::scan
