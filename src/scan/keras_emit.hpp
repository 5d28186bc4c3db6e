// Turning a Keras config report into findings: every issue at its layer path, every embedded
// payload (a pickled torch module) scanned as a member of its own.
#pragma once

#include <string>

#include "keras_config.hpp"
#include "mlsc/scan/scanner.hpp"

namespace mlsc::scan::keras {

inline void emit(const Report& report, ScanContext& ctx) {
  for (const auto& issue : report.issues) {
    ctx.add_in(issue.path, issue.severity, issue.rule, issue.message);
  }
  for (const auto& payload : report.payloads) {
    const std::string name =
        (payload.path.empty() ? std::string() : payload.path + "/") + "<" + payload.what + ">";
    ctx.scan_member(name, as_bytes(payload.bytes));
  }
}

}  // namespace mlsc::scan::keras
