#include <gtest/gtest.h>

#include <set>

#include "scan/python_source.hpp"

namespace mlsc::scan::python {
namespace {

std::set<std::string> whats(std::string_view src) {
  std::set<std::string> out;
  for (const auto& u : analyse(src).uses) out.insert(u.what);
  return out;
}

TEST(PythonSource, ResolvesImportedNames) {
  EXPECT_TRUE(whats("import subprocess as sp\nsp.run(['id'])\n").count("subprocess.run"));
  EXPECT_TRUE(whats("from os import system as s\ns('id')\n").count("os.system"));
  EXPECT_TRUE(whats("import os\nos.popen('x')\n").count("os.popen"));
  EXPECT_TRUE(whats("from os import *\nsystem('x')\n").count("os.system"));
  EXPECT_TRUE(whats("import os\ngetattr(os, 'system')('x')\n").count("getattr(os.system)"));
  EXPECT_TRUE(whats("x = eval(input())\n").count("builtins.eval"));
  EXPECT_TRUE(whats("f = open(p, 'wb')\n").count("open(mode=write)"));
  EXPECT_TRUE(whats("f = open(p, mode='r')\n").count("open"));
  EXPECT_TRUE(
      whats("import urllib.request\nurllib.request.urlopen(u)\n").count("urllib.request.urlopen"));
}

TEST(PythonSource, StringsCommentsAndMethodsAreNotCalls) {
  EXPECT_TRUE(whats("# os.system('x')\n'''subprocess.run()'''\ns = \"eval(x)\"\nmodel.eval()\n"
                    "def eval(self): pass\nre.compile('x')\nimport os.path\nos.path.join(a, b)\n")
                  .empty());
  // A backslash-escaped quote does not end the string.
  EXPECT_TRUE(whats("s = 'it\\'s os.system(1)'\n").empty());
}

TEST(PythonSource, FStringFieldsAreCode) {
  EXPECT_TRUE(whats("import os\nx = f\"{os.system('id')}\"\n").count("os.system"));
  EXPECT_TRUE(whats("x = f'{{os.system}}'\n").empty());
}

TEST(PythonSource, RelativeImports) {
  const auto a = analyse(
      "from .utils import x\nfrom .a.b import c\nfrom . import helpers\nfrom ..up import z\n");
  const std::set<std::string> rel(a.relative_imports.begin(), a.relative_imports.end());
  EXPECT_EQ(rel, (std::set<std::string>{"utils", "a/b", "helpers", "../up"}));
}

TEST(PythonSource, ProseIsNotCode) {
  EXPECT_TRUE(
      analyse_snippet("A small model for text classification; open source, MIT licence.").empty());
  EXPECT_FALSE(analyse_snippet("import os; os.system('echo pwned')").empty());
}

}  // namespace
}  // namespace mlsc::scan::python
