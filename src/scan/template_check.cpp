#include "template_check.hpp"

#include "jinja.hpp"

namespace mlsc::scan {

void check_template(ScanContext& ctx, std::string_view source, const std::string& where,
                    std::optional<std::uint64_t> base, bool report_syntax) {
  const auto a = jinja::analyse(source);
  auto at = [&](std::size_t pos) -> std::optional<std::uint64_t> {
    if (base) return *base + pos;
    return std::nullopt;
  };
  auto located = [&](std::size_t pos) {
    return base ? std::string() : " (template offset " + std::to_string(pos) + ")";
  };
  if (a.too_large) {
    ctx.add(Severity::high, "unscannable", where + ": " + a.parse_error->message, at(0));
    return;
  }
  for (const auto& issue : a.issues) {
    ctx.add(issue.severity, issue.rule, where + ": " + issue.message + located(issue.pos),
            at(issue.pos));
  }
  if (a.parse_error && report_syntax) {
    const auto pos = a.parse_error->offset.value_or(0);
    ctx.add(Severity::medium, "jinja.unparseable",
            where + " is not a valid Jinja template: " + a.parse_error->message + located(pos) +
                "; Jinja refuses it, other template engines may not",
            at(pos));
  }
}

}  // namespace mlsc::scan
