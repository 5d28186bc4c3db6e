// Symbolic pickle VM (protocols 0-5) and the scanner built on it.
//
// The VM emulates CPython's C unpickler (`pickle.load(file)`), executing nothing: it keeps a
// stack, mark stack and memo of symbolic values, records every import and every call site
// with its byte offset, and notes every place where its reading and CPython's could differ.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mlsc/core/bytes.hpp"
#include "mlsc/core/expected.hpp"
#include "mlsc/core/severity.hpp"
#include "mlsc/scan/import_policy.hpp"

namespace mlsc::scan {

class ScanContext;

namespace pickle {

enum class ImportSource { global_op, inst_op, stack_global, extension_code };

struct Import {
  std::string module;  // as CPython resolves it (after Python 2 mapping where it applies)
  std::string name;    // qualified name, may be dotted
  std::uint64_t offset = 0;
  ImportSource source = ImportSource::global_op;
  bool resolved = true;  // false: name came from a value the VM cannot know
  ImportClass verdict;   // from the ImportPolicy
};

enum class CallKind { reduce, inst, obj, newobj, newobj_ex, build, persistent_load, extension };

struct CallSite {
  CallKind kind = CallKind::reduce;
  std::uint64_t offset = 0;
  std::optional<std::size_t> import_index;  // into PickleRun::imports when the callee is a global
  std::string callee;                       // "os.system", or a description when unresolved
  std::string args;                         // short repr of the arguments, truncated
};

struct Anomaly {
  Severity severity = Severity::low;
  std::string rule;  // e.g. "pickle.frame-mismatch", "pickle.malformed"
  std::string message;
  std::uint64_t offset = 0;
};

// A pickle found inside a bytes/str value (raw, base64 or hex): scanned as a nested member.
struct NestedPickle {
  std::uint64_t offset = 0;  // of the opcode that produced the value
  std::string encoding;      // "raw", "base64", "hex"
  std::vector<std::uint8_t> bytes;
};

struct Options {
  std::size_t max_values = 1U << 24;
  bool torch_persistent_ids = false;  // persistent ids are expected (PyTorch storages)
  bool joblib_arrays = false;         // raw array bytes follow NumpyArrayWrapper BUILDs
};

// One pickle, from `start` to its STOP (or to the error that would stop CPython).
struct PickleRun {
  std::uint64_t start = 0;
  std::uint64_t end = 0;  // offset just past STOP, or where reading failed
  bool reached_stop = false;
  std::optional<Error> error;  // why CPython's loader would raise, and where
  int protocol = 0;            // highest PROTO seen (0 when none)
  std::size_t opcodes = 0;
  bool saw_joblib_wrapper = false;
  std::vector<Import> imports;
  std::vector<CallSite> calls;
  std::vector<Anomaly> anomalies;
  std::vector<NestedPickle> nested;
  std::string result_repr;  // short repr of the value STOP returns (ints beyond 64 bits: 0x...)
};

PickleRun run(ByteView data, std::uint64_t start, const ImportPolicy& policy,
              const Options& options);

// Quick content test: could a pickle start here? (PROTO header, or a protocol 0/1 opcode
// sequence that parses to STOP or imports something.) Used for recognition, not safety.
bool looks_like_pickle(ByteView data);

struct StreamOptions {
  Options vm;
  std::size_t max_pickles = 4096;  // stop after this many (legacy PyTorch: 5)
  // Report a stream that does not parse as a pickle at all (explicitly pickle members); when
  // false such data is silently "not a pickle".
  bool must_be_pickle = true;
};

struct StreamSummary {
  bool is_pickle = false;
  std::size_t pickles = 0;
  std::uint64_t consumed = 0;  // bytes read by the pickles (what follows is not pickle data)
  bool joblib = false;
  std::vector<std::string> results;  // result_repr of each pickle, in order
};

// Scan every pickle in a concatenated stream and report imports, calls, anomalies and nested
// pickles as findings into ctx.
StreamSummary scan_stream(ByteView data, ScanContext& ctx, const StreamOptions& options);

}  // namespace pickle
}  // namespace mlsc::scan
