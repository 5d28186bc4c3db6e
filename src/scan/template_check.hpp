// Runs the Jinja analysis on one chat template and reports it through a ScanContext: shared by
// the GGUF, JSON-config and template-text scanners.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mlsc/scan/scanner.hpp"

namespace mlsc::scan {

// `where` names the template ("tokenizer.chat_template", "/chat_template"); `base` is the file
// offset of its first byte when the template is stored verbatim (GGUF), so findings point at the
// exact byte; nullopt when it was decoded from an escaped form (JSON).
// `report_syntax`: whether a template that is not valid Jinja is a finding (it is wherever the
// text is known to be a template; text merely containing braces is not held to Jinja's syntax).
void check_template(ScanContext& ctx, std::string_view source, const std::string& where,
                    std::optional<std::uint64_t> base, bool report_syntax = true);

}  // namespace mlsc::scan
