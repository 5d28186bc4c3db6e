// What a piece of Python source can do when it runs: a small Python tokenizer (strings, comments,
// f-string fields and line continuations handled as CPython does) and a pass over the tokens that
// resolves imported names (`import subprocess as sp` ... `sp.run(...)`) and reports the process,
// network, file, dynamic-code, deserialisation and native-code primitives it reaches. Used on
// Hugging Face remote code (modeling_*.py that trust_remote_code imports) and on text that
// claims to be inert (safetensors metadata). It reads, never runs, and needs no Python.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mlsc/core/severity.hpp"

namespace mlsc::scan::python {

enum class Category {
  process,      // os.system, subprocess.*, os.exec*, pty.spawn
  exec,         // eval, exec, compile, __import__, importlib.import_module, marshal.loads
  network,      // socket, urllib.request, requests, http.client, ...
  native,       // ctypes, cffi: arbitrary native code
  deserialize,  // pickle.load(s), dill, joblib.load, torch.load, yaml.load
  file_write,   // open(..., 'w'), os.remove, shutil.rmtree, ...
  file_read,    // open(...) for reading
  environment,  // os.environ, os.getenv
};

struct Use {
  Category category;
  std::string what;  // the resolved name, e.g. "subprocess.Popen" or "open(mode='w')"
  std::uint32_t line = 0;
};

struct Analysis {
  std::vector<Use> uses;
  // Modules named by relative imports (`from .utils import x` -> "utils", `from .a.b import c`
  // -> "a/b"); a module that climbs (`from ..x`) is kept with its leading "../".
  std::vector<std::string> relative_imports;
  bool truncated = false;  // stopped at max_uses
};

Analysis analyse(std::string_view source, std::size_t max_uses = 256);

// For text that should not be code: the uses, when `text` reads as Python that reaches at least
// one primitive; empty otherwise.
std::vector<Use> analyse_snippet(std::string_view text);

std::string_view category_name(Category c);
Severity category_severity(Category c);
// "os.system (process), eval (exec)", at most a few names.
std::string describe(const std::vector<Use>& uses, std::size_t max_names = 4);

}  // namespace mlsc::scan::python
