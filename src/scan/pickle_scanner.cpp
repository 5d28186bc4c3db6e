// The raw-pickle scanner: every pickle of a concatenated stream through the symbolic VM, its
// imports, calls and anomalies turned into findings, nested pickles scanned as members.
//
// Rules this file (and the VM behind it) emits; ids are stable:
//   pickle.dangerous-global   critical (or the deny entry's level): a denylisted global is
//                             imported (getattr only when used outside the vetted enum shape)
//   pickle.unknown-global     high (standard library) / medium: a global on neither list
//   pickle.unresolved-global  critical: a lookup the scanner cannot name (STACK_GLOBAL on a
//                             value made at run time, a name fetched from state BUILD planted)
//   pickle.extension-code     high: EXT1/EXT2/EXT4 import through copyreg's registry
//   pickle.global-mutation    critical: BUILD rewrites a module's or class's state
//   pickle.dunder-state       high (slot state set with setattr) / medium (instance __dict__):
//                             BUILD state sets special attributes such as __class__
//   pickle.indirect-call      high: a call whose callee is an object built while loading
//   pickle.nested-pickle      high (it imports or calls what is not allowlisted) / medium
//                             (base64 or hex encoded) / low (raw data): a pickle inside a value
//   pickle.code-string        high: a string value holds Python source calling os.system,
//                             subprocess, exec, eval, __import__ ...
//   pickle.persistent-id      medium: a persistent id the loader's persistent_load resolves
//   pickle.frame-mismatch     medium: FRAME bounds CPython's C and pure-Python unpicklers read
//                             differently (opcode across a frame end, STOP inside a frame)
//   pickle.malformed          medium: where and why CPython's unpickler raises
//   pickle.loader-divergence  low: bytes Python versions or loader settings read differently
//   pickle.anomaly            low: constructs no pickler writes (PROTO mid-stream, leftovers)
//   pickle.trailing-data      low: bytes after the last pickle of a stream
//   unscannable               high: analysis stopped at a resource limit; the rest is unchecked
#include <algorithm>
#include <map>

#include "mlsc/scan/pickle.hpp"
#include "mlsc/scan/scanner.hpp"
#include "mlsc/scan/scanners.hpp"
#include "scan/pickle_text.hpp"

namespace mlsc::scan {

namespace pickle {

namespace {

constexpr std::size_t kLooksLikeWindow = 64 * 1024;  // bytes looks_like_pickle parses at most
constexpr std::size_t kLooksLikeMinOpcodes = 16;     // a cut-off parse that long counts

const char* source_name(ImportSource s) {
  switch (s) {
    case ImportSource::global_op:
      return "GLOBAL";
    case ImportSource::inst_op:
      return "INST";
    case ImportSource::stack_global:
      return "STACK_GLOBAL";
    case ImportSource::extension_code:
      return "EXT";
  }
  return "?";
}

const char* call_name(CallKind k) {
  switch (k) {
    case CallKind::reduce:
      return "REDUCE";
    case CallKind::inst:
      return "INST";
    case CallKind::obj:
      return "OBJ";
    case CallKind::newobj:
      return "NEWOBJ";
    case CallKind::newobj_ex:
      return "NEWOBJ_EX";
    case CallKind::build:
      return "BUILD";
    case CallKind::persistent_load:
      return "BINPERSID";
    case CallKind::extension:
      return "EXT";
  }
  return "?";
}

bool imports_identifiers(const PickleRun& r) {
  return std::any_of(r.imports.begin(), r.imports.end(), [](const Import& i) {
    return i.resolved && text::identifier_path(i.module, false) &&
           text::identifier_path(i.name, false);
  });
}

bool proto_header(ByteView data, std::uint64_t at) {
  return at + 2 < data.size() && data[at] == 0x80 && data[at + 1] <= 5;
}

std::string verdict_name(const Import& imp) {
  if (!imp.resolved) return "unresolved";
  switch (imp.verdict.verdict) {
    case ImportVerdict::safe:
      return "safe";
    case ImportVerdict::dangerous:
      return "dangerous";
    case ImportVerdict::unknown:
      return "unknown";
  }
  return "unknown";
}

// "called by REDUCE at offset 71 with ('ls',)" for the calls whose callee is this import.
std::string call_summary(const PickleRun& r, const std::vector<std::size_t>& calls) {
  std::vector<std::size_t> real;
  for (const auto c : calls) {
    if (r.calls[c].kind != CallKind::build && r.calls[c].kind != CallKind::extension) {
      real.push_back(c);
    }
  }
  if (real.empty()) return "; imported, not called";
  const CallSite& first = r.calls[real.front()];
  std::string out = "; called by " + std::string(call_name(first.kind)) + " at offset " +
                    std::to_string(first.offset) + " with " +
                    (first.args.empty() ? "()" : first.args);
  if (real.size() > 1) out += " and " + std::to_string(real.size() - 1) + " more time(s)";
  return out;
}

struct ImportGroup {
  std::vector<std::size_t> imports;  // indexes into PickleRun::imports
  std::vector<std::size_t> calls;    // indexes into PickleRun::calls
};

void report_imports(const PickleRun& r, ScanContext& ctx) {
  // Group repeats of one global (same lookup, same verdict) into one finding.
  std::map<std::string, ImportGroup> groups;
  std::vector<std::string> order;
  std::vector<std::string> key_of(r.imports.size());
  for (std::size_t i = 0; i < r.imports.size(); ++i) {
    const Import& imp = r.imports[i];
    ctx.add_import(imp.module, imp.name, verdict_name(imp), imp.offset);
    key_of[i] = imp.module + "\n" + imp.name + "\n" + verdict_name(imp) + "\n" + imp.verdict.reason;
    auto [it, fresh] = groups.try_emplace(key_of[i]);
    if (fresh) order.push_back(key_of[i]);
    it->second.imports.push_back(i);
  }
  for (std::size_t c = 0; c < r.calls.size(); ++c) {
    const auto idx = r.calls[c].import_index;
    if (idx && *idx < key_of.size()) groups[key_of[*idx]].calls.push_back(c);
  }
  for (const auto& key : order) {
    const ImportGroup& g = groups[key];
    const Import& imp = r.imports[g.imports.front()];
    if (imp.resolved && imp.verdict.verdict == ImportVerdict::safe) continue;
    std::string rule = "pickle.unknown-global";
    if (imp.source == ImportSource::extension_code) {
      rule = "pickle.extension-code";
    } else if (!imp.resolved) {
      rule = "pickle.unresolved-global";
    } else if (imp.verdict.verdict == ImportVerdict::dangerous) {
      rule = "pickle.dangerous-global";
    }
    std::string msg = std::string(source_name(imp.source)) + " at offset " +
                      std::to_string(imp.offset) + " imports " + imp.module + "." + imp.name;
    if (g.imports.size() > 1) msg += " (" + std::to_string(g.imports.size()) + " times)";
    if (!imp.verdict.reason.empty()) msg += ": " + imp.verdict.reason;
    msg += call_summary(r, g.calls);
    ctx.add(imp.verdict.severity, rule, msg, imp.offset);
  }
}

// Severity of a nested pickle by what it would do when loaded.
Severity nested_severity(const NestedPickle& n, const ImportPolicy& policy, std::string& what) {
  Options probe;
  probe.max_values = 1U << 20;
  const PickleRun inner = run({n.bytes.data(), n.bytes.size()}, 0, policy, probe);
  bool risky = false;
  for (const auto& imp : inner.imports) {
    if (imp.resolved && imp.verdict.verdict == ImportVerdict::safe) continue;
    risky = true;
    if (what.size() < 120) what += (what.empty() ? "" : ", ") + imp.module + "." + imp.name;
  }
  if (risky) return Severity::high;
  return n.encoding == "raw" ? Severity::low : Severity::medium;
}

void report_nested(const PickleRun& r, ScanContext& ctx) {
  for (const auto& n : r.nested) {
    std::string what;
    const Severity sev = nested_severity(n, ctx.policy(), what);
    const std::string member = "<pickle@" + std::to_string(n.offset) + ":" + n.encoding + ">";
    ctx.add(sev, "pickle.nested-pickle",
            (n.encoding == "raw" ? std::string("a pickle") : n.encoding + "-encoded pickle") +
                " (" + std::to_string(n.bytes.size()) +
                " bytes) is stored in the value at offset " + std::to_string(n.offset) +
                (what.empty() ? "" : "; loading it imports " + what) + "; scanned as " + member,
            n.offset);
    ctx.scan_member(member, {n.bytes.data(), n.bytes.size()});
  }
}

void report_run(const PickleRun& r, ScanContext& ctx) {
  report_imports(r, ctx);
  bool stopped_for_limits = false;
  for (const auto& a : r.anomalies) {
    if (a.rule == "unscannable") stopped_for_limits = true;
    ctx.add(a.severity, a.rule, a.message, a.offset);
  }
  if (r.error && !stopped_for_limits) {
    ctx.add(Severity::medium, "pickle.malformed",
            "CPython's unpickler stops at offset " +
                std::to_string(r.error->offset.value_or(r.end)) + " with " + r.error->message +
                (r.calls.empty() ? "" : "; the calls before that point still run"),
            r.error->offset);
  }
  report_nested(r, ctx);
}

// Is this run a pickle at all? A PROTO header, reaching STOP, or importing a well-formed name
// (protocol 0/1 data has no header; plain text must not pass for a pickle).
bool plausible(const PickleRun& r, ByteView data, bool first) {
  if (r.reached_stop || imports_identifiers(r)) return true;
  if (!first) return !r.calls.empty();
  return proto_header(data, r.start);
}

}  // namespace

bool looks_like_pickle(ByteView data) {
  if (data.size() < 2) return false;
  if (proto_header(data, 0)) return true;
  const ByteView window = data.first(std::min(data.size(), kLooksLikeWindow));
  const ImportPolicy empty;  // classification does not matter here
  Options options;
  options.max_values = 1U << 16;
  const PickleRun r = run(window, 0, empty, options);
  if (r.reached_stop || imports_identifiers(r)) return true;
  // A long, clean parse cut off by the window is a pickle too big to finish here.
  const bool cut =
      window.size() < data.size() && r.error && r.error->offset.value_or(0) + 64 >= window.size();
  return cut && r.opcodes >= kLooksLikeMinOpcodes;
}

StreamSummary scan_stream(ByteView data, ScanContext& ctx, const StreamOptions& options) {
  StreamSummary summary;
  std::uint64_t pos = 0;
  bool first = true;
  while (pos < data.size() && summary.pickles < options.max_pickles) {
    Options vm = options.vm;
    PickleRun r = run(data, pos, ctx.policy(), vm);
    if (r.saw_joblib_wrapper && !vm.joblib_arrays) {
      // joblib's unpickler reads array bytes between opcodes; read it the way joblib.load does.
      vm.joblib_arrays = true;
      r = run(data, pos, ctx.policy(), vm);
      summary.joblib = true;
      ctx.set_format("joblib");
    }
    if (!plausible(r, data, first)) {
      if (!first) {
        ctx.add(Severity::low, "pickle.trailing-data",
                std::to_string(data.size() - pos) + " bytes after the last pickle (ends at " +
                    std::to_string(pos) + ") are not a pickle" +
                    (r.error ? " (" + r.error->message + ")" : ""),
                pos);
      } else if (options.must_be_pickle) {
        ctx.add(Severity::medium, "pickle.malformed",
                "not a pickle: " + (r.error ? r.error->describe() : std::string("no STOP")), pos);
      }
      break;
    }
    first = false;
    summary.is_pickle = true;
    report_run(r, ctx);
    summary.consumed = r.end;
    if (!r.reached_stop) break;
    ++summary.pickles;
    summary.results.push_back(r.result_repr);
    pos = r.end;
  }
  return summary;
}

}  // namespace pickle

namespace {

class PickleScanner final : public Scanner {
 public:
  std::string_view format() const override { return "pickle"; }
  bool matches(ByteView data) const override { return pickle::looks_like_pickle(data); }

  void scan(ByteView data, ScanContext& ctx) const override {
    pickle::StreamOptions options;
    options.vm.max_values = ctx.options().limits.max_pickle_values;
    options.max_pickles = ctx.options().limits.max_pickles_per_stream;
    options.vm.torch_persistent_ids = ctx.member_loader() == MemberLoader::torch;
    const auto summary = pickle::scan_stream(data, ctx, options);
    if (summary.pickles >= options.max_pickles && summary.consumed < data.size()) {
      ctx.add(Severity::high, "unscannable",
              "stopped after " + std::to_string(summary.pickles) + " concatenated pickles; " +
                  std::to_string(data.size() - summary.consumed) + " bytes left unchecked",
              summary.consumed);
    }
  }
};

}  // namespace

std::unique_ptr<Scanner> make_pickle_scanner() {
  return std::make_unique<PickleScanner>();
}

}  // namespace mlsc::scan
