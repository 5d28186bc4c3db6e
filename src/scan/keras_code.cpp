#include "keras_code.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

#include "mlsc/core/text.hpp"
#include "python_marshal.hpp"

namespace mlsc::scan::keras {

namespace {

// Calls and attributes that execute code, start processes, touch files or the network, or reach
// the interpreter's internals; a Lambda that does arithmetic on tensors needs none of them.
constexpr std::array<std::string_view, 62> kDangerousNames = {"eval",
                                                              "exec",
                                                              "compile",
                                                              "__import__",
                                                              "open",
                                                              "system",
                                                              "popen",
                                                              "popen2",
                                                              "popen3",
                                                              "spawnl",
                                                              "spawnle",
                                                              "spawnlp",
                                                              "spawnv",
                                                              "spawnve",
                                                              "spawnvp",
                                                              "execl",
                                                              "execle",
                                                              "execlp",
                                                              "execv",
                                                              "execve",
                                                              "execvp",
                                                              "fork",
                                                              "forkpty",
                                                              "kill",
                                                              "remove",
                                                              "unlink",
                                                              "rmdir",
                                                              "rmtree",
                                                              "Popen",
                                                              "check_output",
                                                              "check_call",
                                                              "getoutput",
                                                              "getstatusoutput",
                                                              "urlopen",
                                                              "urlretrieve",
                                                              "create_connection",
                                                              "__builtins__",
                                                              "__globals__",
                                                              "__subclasses__",
                                                              "__getattribute__",
                                                              "globals",
                                                              "locals",
                                                              "vars",
                                                              "getattr",
                                                              "setattr",
                                                              "delattr",
                                                              "breakpoint",
                                                              "import_module",
                                                              "load_library",
                                                              "load_op_library",
                                                              "loads",
                                                              "write_file",
                                                              "read_file",
                                                              "GFile",
                                                              "py_function",
                                                              "numpy_function",
                                                              "py_func",
                                                              "b64decode",
                                                              "fromhex",
                                                              "chmod",
                                                              "chown",
                                                              "putenv"};

// Modules whose mere use in a Lambda means process, file, network or interpreter access.
constexpr std::array<std::string_view, 30> kDangerousModules = {
    "os",       "posix",       "nt",        "subprocess",      "sys",
    "socket",   "shutil",      "pty",       "ctypes",          "importlib",
    "builtins", "__builtin__", "marshal",   "pickle",          "dill",
    "requests", "urllib",      "urllib2",   "urllib3",         "http",
    "httplib",  "ftplib",      "telnetlib", "smtplib",         "webbrowser",
    "code",     "codeop",      "runpy",     "multiprocessing", "pathlib"};

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; });
}

// str.encode("raw_unicode_escape") of the JSON string (UTF-8 here): code points below 256
// become one byte, others the text "\uXXXX" / "\UXXXXXXXX".
std::string raw_unicode_escape(std::string_view utf8) {
  std::string out;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto b = static_cast<unsigned char>(utf8[i]);
    std::uint32_t cp = b;
    std::size_t len = 1;
    if (b >= 0xF0 && i + 3 < utf8.size()) {
      cp = ((b & 0x07U) << 18) | ((utf8[i + 1] & 0x3FU) << 12) | ((utf8[i + 2] & 0x3FU) << 6) |
           (utf8[i + 3] & 0x3FU);
      len = 4;
    } else if (b >= 0xE0 && i + 2 < utf8.size()) {
      cp = ((b & 0x0FU) << 12) | ((utf8[i + 1] & 0x3FU) << 6) | (utf8[i + 2] & 0x3FU);
      len = 3;
    } else if (b >= 0xC0 && i + 1 < utf8.size()) {
      cp = ((b & 0x1FU) << 6) | (utf8[i + 1] & 0x3FU);
      len = 2;
    }
    i += len;
    if (cp < 256) {
      out += static_cast<char>(cp);
      continue;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    const int digits = cp > 0xFFFF ? 8 : 4;
    out += digits == 8 ? "\\U" : "\\u";
    for (int d = digits - 1; d >= 0; --d) out += kHex[(cp >> (4 * d)) & 0xF];
  }
  return out;
}

bool is_dangerous_module(std::string_view name) {
  const std::string_view top = name.substr(0, name.find('.'));
  return std::find(kDangerousModules.begin(), kDangerousModules.end(), top) !=
         kDangerousModules.end();
}

std::string list(const std::vector<std::string>& items, std::size_t max_items,
                 std::size_t max_chars, bool quote) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max_items; ++i) {
    if (!out.empty()) out += ", ";
    out += quote ? "'" + printable(items[i], max_chars) + "'" : printable(items[i], max_chars);
  }
  if (items.size() > max_items) out += ", ... (" + std::to_string(items.size()) + " in all)";
  return out;
}

// Identifiers in source-like text, for a function that is not bytecode.
std::vector<std::string> identifiers(std::string_view text) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::size_t i = 0;
  while (i < text.size() && out.size() < 512) {
    const char c = text[i];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t j = i;
      while (j < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_')) {
        ++j;
      }
      std::string word(text.substr(i, j - i));
      if (seen.insert(word).second) out.push_back(std::move(word));
      i = j;
    } else {
      ++i;
    }
  }
  return out;
}

void add_dangerous(std::vector<std::string>& found, std::set<std::string>& seen,
                   const std::vector<std::string>& candidates) {
  for (const auto& c : candidates) {
    if ((is_dangerous_name(c) || is_dangerous_module(c)) && seen.insert(c).second) {
      found.push_back(c);
    }
  }
}

}  // namespace

std::optional<std::string> decode_base64_lenient(std::string_view text) {
  std::string out;
  std::uint32_t acc = 0;
  int quad = 0;
  for (const char c : text) {
    if (c == '=') {
      if (quad < 2) continue;
      // A pad after two or three characters completes the quantum and ends the data.
      if (quad == 2) out += static_cast<char>((acc >> 4) & 0xFF);
      if (quad == 3) {
        out += static_cast<char>((acc >> 10) & 0xFF);
        out += static_cast<char>((acc >> 2) & 0xFF);
      }
      return out;
    }
    const int v = base64_value(c);
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    if (++quad == 4) {
      out += static_cast<char>((acc >> 16) & 0xFF);
      out += static_cast<char>((acc >> 8) & 0xFF);
      out += static_cast<char>(acc & 0xFF);
      acc = 0;
      quad = 0;
    }
  }
  if (quad != 0) return std::nullopt;
  return out;
}

bool is_dangerous_name(std::string_view name) {
  return std::find(kDangerousNames.begin(), kDangerousNames.end(), name) != kDangerousNames.end();
}

CodeVerdict judge_lambda_code(std::string_view code, std::string_view module,
                              std::size_t max_bytes) {
  CodeVerdict v;
  std::string raw;
  std::optional<std::string> b64 = is_ascii(code) ? decode_base64_lenient(code) : std::nullopt;
  raw = b64 ? std::move(*b64) : raw_unicode_escape(code);
  if (raw.size() > max_bytes) raw.resize(max_bytes);
  auto summary = marshal::summarize_code(as_bytes(raw));

  std::vector<std::string> dangerous;
  std::set<std::string> seen;
  if (!module.empty() && is_dangerous_module(module)) {
    dangerous.push_back("module " + std::string(module) + " (its globals are the function's)");
  }
  const std::string cve = " (CVE-2024-3660; the .h5 loader ignores safe_mode, CVE-2025-9905)";
  if (summary) {
    v.bytecode = true;
    add_dangerous(dangerous, seen, summary->names);
    add_dangerous(dangerous, seen, summary->strings);
    v.detail = "carries marshalled Python bytecode (CPython " + summary->layout + " layout, " +
               std::to_string(summary->code_objects) +
               " code object(s): " + list(summary->code_names, 4, 40, false) +
               ") that Keras runs when it rebuilds the model at load" + cve;
    if (!dangerous.empty()) v.detail += "; it uses " + list(dangerous, 12, 60, false);
    if (!summary->names.empty()) v.detail += "; names: " + list(summary->names, 12, 40, false);
    if (!summary->strings.empty()) {
      v.detail += "; string constants: " + list(summary->strings, 6, 60, true);
    }
  } else {
    add_dangerous(dangerous, seen, identifiers(code.substr(0, 4096)));
    v.detail = "holds a function that is not marshalled bytecode (" +
               printable(summary.error().describe(), 120) +
               "), so Keras would fail to load it as saved; its text is '" + printable(code, 120) +
               "'";
    if (!dangerous.empty()) v.detail += " and names " + list(dangerous, 12, 60, false);
  }
  v.dangerous = dangerous;
  const bool critical = v.bytecode && !dangerous.empty();
  v.severity = critical ? Severity::critical : Severity::high;
  v.rule = critical ? "keras.lambda-dangerous-code" : "keras.lambda-layer";
  return v;
}

}  // namespace mlsc::scan::keras
