// Allowlist-first classification of the globals a pickle imports.
//
// Rules are data (data/pickle/*.txt compiled in, plus a user config file and CLI flags), so a
// team can review an unknown import once and allowlist it. Deny always wins over allow.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mlsc/core/expected.hpp"
#include "mlsc/core/severity.hpp"

namespace mlsc::scan {

enum class ImportVerdict {
  safe,       // on the allowlist: needed to load ordinary models
  dangerous,  // on the denylist: code execution, process, file or network primitive
  unknown,    // neither: needs review (high for the standard library, medium otherwise)
};

struct ImportClass {
  ImportVerdict verdict = ImportVerdict::unknown;
  Severity severity = Severity::medium;  // severity a finding about this import should carry
  std::string reason;                    // why (from the list entry), for messages
  // True for globals that are safe only in a vetted call shape, e.g. builtins.getattr on an
  // allowlisted class with a constant public attribute name. The VM decides those uses.
  bool contextual = false;
};

// Patterns, one per entry, written "MODULE NAME":
//   "collections OrderedDict"     exact
//   "torch.nn.modules.* *"        the module or any submodule, any (undotted) name
//   "numpy.core.multiarray *"     any undotted name in exactly that module
// A dotted NAME (a qualified name such as "Outer.Inner") only matches an entry that spells it.
class ImportPolicy {
 public:
  // The built-in lists (data/pickle/allowlist.txt, denylist.txt, stdlib_modules.txt).
  static ImportPolicy builtin();

  ImportPolicy();
  ImportPolicy(const ImportPolicy&);
  ImportPolicy& operator=(const ImportPolicy&);
  ImportPolicy(ImportPolicy&&) noexcept;
  ImportPolicy& operator=(ImportPolicy&&) noexcept;
  ~ImportPolicy();

  Expected<void> allow(std::string_view pattern);
  Expected<void> deny(std::string_view pattern, std::string_view reason = "");
  // YAML config: `pickle: {allow: [PATTERN...], deny: [PATTERN...]}`.
  Expected<void> load_config(const std::string& path);

  // Classify one global as CPython would import it (module already mapped from Python 2
  // names where the pickle protocol calls for it). Dotted names are also checked through
  // their attribute chain: "pathlib" + "os.system" is dangerous because of "os system".
  ImportClass classify(std::string_view module, std::string_view name) const;
  bool is_stdlib(std::string_view module) const;

  // Python 2 -> 3 name mapping that pickle's fix_imports applies for protocols < 3.
  // Returns {module, name} unchanged when no mapping applies.
  std::pair<std::string, std::string> map_python2(std::string_view module,
                                                  std::string_view name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlsc::scan
