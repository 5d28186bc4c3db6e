// ImportPolicy: the built-in lists, pattern matching, attribute chains, config and Python 2 names.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "mlsc/scan/import_policy.hpp"

namespace mlsc::scan {
namespace {

const ImportPolicy& builtin() {
  static const ImportPolicy p = ImportPolicy::builtin();
  return p;
}

ImportVerdict verdict(std::string_view module, std::string_view name) {
  return builtin().classify(module, name).verdict;
}

TEST(ImportPolicy, OrdinaryModelGlobalsAreSafe) {
  for (const auto& [m, n] : std::initializer_list<std::pair<const char*, const char*>>{
           {"torch._utils", "_rebuild_tensor_v2"},
           {"torch", "FloatStorage"},
           {"torch", "Size"},
           {"torch", "bfloat16"},
           {"torch.nn.modules.linear", "Linear"},
           {"torch.nn.parameter", "Parameter"},
           {"collections", "OrderedDict"},
           {"__torch__.torch.nn.modules.linear", "Linear"},
           {"torch.jit._pickle", "build_intlist"},
           {"numpy.core.multiarray", "_reconstruct"},
           {"numpy._core.multiarray", "scalar"},
           {"numpy", "dtype"},
           {"numpy.dtypes", "Float64DType"},
           {"numpy.random._pickle", "__randomstate_ctor"},
           {"sklearn.linear_model._logistic", "LogisticRegression"},
           {"scipy.sparse._csr", "csr_matrix"},
           {"joblib.numpy_pickle", "NumpyArrayWrapper"},
           {"copyreg", "_reconstructor"},
           {"__builtin__", "set"},
           {"builtins", "slice"},
           {"_codecs", "encode"},
           {"datetime", "datetime"},
           {"uuid", "UUID"},
           {"pathlib", "PosixPath"},
           {"argparse", "Namespace"},
           {"transformers.training_args", "TrainingArguments"},
           {"transformers.trainer_utils", "IntervalStrategy"},
           {"accelerate.utils.dataclasses", "DistributedType"},
       }) {
    EXPECT_EQ(verdict(m, n), ImportVerdict::safe) << m << " " << n;
  }
}

TEST(ImportPolicy, ExecutionProcessFileAndNetworkGlobalsAreDangerous) {
  for (const auto& [m, n] : std::initializer_list<std::pair<const char*, const char*>>{
           {"os", "system"},
           {"posix", "system"},
           {"nt", "system"},
           {"subprocess", "Popen"},
           {"builtins", "eval"},
           {"builtins", "__import__"},
           {"__builtin__", "execfile"},
           {"runpy", "_run_code"},
           {"pydoc", "pipepager"},
           {"bdb", "Bdb"},
           {"ctypes", "CDLL"},
           {"socket", "create_connection"},
           {"urllib.request", "urlopen"},
           {"requests.api", "get"},
           {"_io", "FileIO"},
           {"logging", "FileHandler"},
           {"types", "CodeType"},
           {"pickle", "loads"},
           {"_operator", "attrgetter"},
           {"torch.serialization", "load"},
           {"torch._inductor.codecache", "compile_file"},
           {"torch.utils.bottleneck.__main__", "run_cprofile"},
           {"numpy.testing._private.utils", "runstring"},
           {"asyncio.unix_events", "_UnixSubprocessTransport._start"},
           {"idlelib.pyshell", "ModifiedInterpreter.runcode"},
           {"uuid", "_get_command_stdout"},
           {"_aix_support", "_read_cmd_output"},
           {"copyreg", "add_extension"},
       }) {
    EXPECT_EQ(verdict(m, n), ImportVerdict::dangerous) << m << " " << n;
  }
}

TEST(ImportPolicy, AttributeChainsReachDeniedObjects) {
  // pathlib.os is the os module; the lookup passes through os.system.
  EXPECT_EQ(verdict("pathlib", "os.system"), ImportVerdict::dangerous);
  // A module object reached as an attribute of an allowlisted (wildcard) package.
  EXPECT_EQ(verdict("sklearn.utils", "os"), ImportVerdict::dangerous);
  EXPECT_EQ(verdict("torch", "_inductor"), ImportVerdict::dangerous);
  // Methods of classes on a denied module: trace.Trace.run.
  EXPECT_EQ(verdict("trace", "Trace.run"), ImportVerdict::dangerous);
  // Dunder traversal is never a model's business.
  EXPECT_EQ(verdict("collections", "OrderedDict.__init__.__globals__"), ImportVerdict::dangerous);
  EXPECT_EQ(verdict("tests.test_pickle_scanner", "__dict__"), ImportVerdict::dangerous);
}

TEST(ImportPolicy, DottedNamesOnlyMatchEntriesThatSpellThem) {
  // A `*` entry covers undotted names only: a method of an allowlisted class needs review.
  EXPECT_EQ(verdict("sklearn.base", "BaseEstimator"), ImportVerdict::safe);
  EXPECT_EQ(verdict("sklearn.base", "BaseEstimator.set_params"), ImportVerdict::unknown);
  ImportPolicy p = ImportPolicy::builtin();
  ASSERT_TRUE(p.allow("mypkg Outer.Inner"));
  EXPECT_EQ(p.classify("mypkg", "Outer.Inner").verdict, ImportVerdict::safe);
  EXPECT_EQ(p.classify("mypkg", "Outer").verdict, ImportVerdict::unknown);
}

TEST(ImportPolicy, UnknownSeverityDependsOnStandardLibrary) {
  const auto stdlib = builtin().classify("builtins", "print");
  EXPECT_EQ(stdlib.verdict, ImportVerdict::unknown);
  EXPECT_EQ(stdlib.severity, Severity::high);
  const auto third = builtin().classify("mylib.models", "Net");
  EXPECT_EQ(third.verdict, ImportVerdict::unknown);
  EXPECT_EQ(third.severity, Severity::medium);
  EXPECT_TRUE(builtin().is_stdlib("xml.etree.ElementTree"));
  EXPECT_TRUE(builtin().is_stdlib("commands"));
  EXPECT_FALSE(builtin().is_stdlib("torch"));
}

TEST(ImportPolicy, GetattrIsContextual) {
  const auto c = builtin().classify("builtins", "getattr");
  EXPECT_EQ(c.verdict, ImportVerdict::dangerous);
  EXPECT_TRUE(c.contextual);
  EXPECT_TRUE(builtin().classify("__builtin__", "getattr").contextual);
  EXPECT_FALSE(builtin().classify("builtins", "eval").contextual);
}

TEST(ImportPolicy, DenyEntriesCarrySeverityAndReason) {
  const auto partial = builtin().classify("functools", "partial");
  EXPECT_EQ(partial.verdict, ImportVerdict::dangerous);
  EXPECT_EQ(partial.severity, Severity::high);
  const auto os = builtin().classify("os", "system");
  EXPECT_EQ(os.severity, Severity::critical);
  EXPECT_FALSE(os.reason.empty());
}

TEST(ImportPolicy, DenyWinsOverAllow) {
  ImportPolicy p = ImportPolicy::builtin();
  ASSERT_TRUE(p.allow("os system"));
  EXPECT_EQ(p.classify("os", "system").verdict, ImportVerdict::dangerous);
  ASSERT_TRUE(p.deny("collections OrderedDict", "team policy"));
  const auto c = p.classify("collections", "OrderedDict");
  EXPECT_EQ(c.verdict, ImportVerdict::dangerous);
  EXPECT_EQ(c.reason, "team policy");
}

TEST(ImportPolicy, PatternSyntax) {
  ImportPolicy p;
  ASSERT_TRUE(p.allow("pkg.* *"));
  ASSERT_TRUE(p.allow("exact.mod *"));
  EXPECT_EQ(p.classify("pkg", "A").verdict, ImportVerdict::safe);
  EXPECT_EQ(p.classify("pkg.sub.deep", "A").verdict, ImportVerdict::safe);
  EXPECT_EQ(p.classify("pkgx", "A").verdict, ImportVerdict::unknown);
  EXPECT_EQ(p.classify("exact.mod", "A").verdict, ImportVerdict::safe);
  EXPECT_EQ(p.classify("exact.mod.sub", "A").verdict, ImportVerdict::unknown);
  EXPECT_FALSE(p.allow("onlymodule"));
  EXPECT_FALSE(p.deny("a b [bogus]"));
  EXPECT_TRUE(p.allow("# a comment"));
}

TEST(ImportPolicy, YamlConfig) {
  const auto path = std::filesystem::temp_directory_path() / "mlsc_import_policy_test.yaml";
  {
    std::ofstream out(path);
    out << "pickle:\n  allow:\n    - mylib.models Net\n  deny:\n"
           "    - mylib.tools run\n    - {pattern: 'mylib.net *', reason: 'talks to the "
           "network'}\n";
  }
  ImportPolicy p = ImportPolicy::builtin();
  ASSERT_TRUE(p.load_config(path.string()));
  EXPECT_EQ(p.classify("mylib.models", "Net").verdict, ImportVerdict::safe);
  EXPECT_EQ(p.classify("mylib.tools", "run").verdict, ImportVerdict::dangerous);
  EXPECT_EQ(p.classify("mylib.net", "get").reason, "talks to the network");
  {
    std::ofstream out(path);
    out << "pickle:\n  allow: [\"just-one-word\"]\n";
  }
  EXPECT_FALSE(p.load_config(path.string()));
  {
    std::ofstream out(path);
    out << "pickle: {allow: [unclosed\n";
  }
  EXPECT_FALSE(p.load_config(path.string()));
  std::filesystem::remove(path);
  EXPECT_FALSE(p.load_config(path.string()));  // missing file
}

TEST(ImportPolicy, Python2Mapping) {
  EXPECT_EQ(builtin().map_python2("__builtin__", "eval"),
            (std::pair<std::string, std::string>{"builtins", "eval"}));
  EXPECT_EQ(builtin().map_python2("__builtin__", "xrange"),
            (std::pair<std::string, std::string>{"builtins", "range"}));
  EXPECT_EQ(builtin().map_python2("copy_reg", "_reconstructor"),
            (std::pair<std::string, std::string>{"copyreg", "_reconstructor"}));
  EXPECT_EQ(builtin().map_python2("commands", "getoutput"),
            (std::pair<std::string, std::string>{"subprocess", "getoutput"}));
  EXPECT_EQ(builtin().map_python2("torch", "Size"),
            (std::pair<std::string, std::string>{"torch", "Size"}));
}

TEST(ImportPolicy, CopiesAreIndependent) {
  ImportPolicy a = ImportPolicy::builtin();
  ImportPolicy b = a;
  ASSERT_TRUE(b.deny("numpy dtype"));
  EXPECT_EQ(a.classify("numpy", "dtype").verdict, ImportVerdict::safe);
  EXPECT_EQ(b.classify("numpy", "dtype").verdict, ImportVerdict::dangerous);
  ImportPolicy c = std::move(b);
  EXPECT_EQ(c.classify("numpy", "dtype").verdict, ImportVerdict::dangerous);
}

}  // namespace
}  // namespace mlsc::scan
