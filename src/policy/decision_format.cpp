// A decision as text (one line per rule, failed rules with their reason) and as JSON.
#include <sstream>

#include "mlsc/policy/admit.hpp"

namespace mlsc::policy {

namespace {

void text_lines(const Decision& d, int indent, std::ostringstream& out) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  std::size_t failed = 0;
  for (const auto& r : d.results) failed += r.passed ? 0 : 1;
  out << pad << (d.admitted() ? "ADMIT " : "REJECT") << "  " << to_string(d.kind) << "  "
      << d.subject << "  (" << d.results.size() << " rule" << (d.results.size() == 1 ? "" : "s")
      << ", " << failed << " failed)\n";
  for (const auto& r : d.results) {
    out << pad << "  " << (r.passed ? "pass" : "FAIL") << "  " << r.id << ": " << r.reason << "\n";
  }
  for (const auto& input : d.inputs) text_lines(input, indent + 2, out);
}

}  // namespace

std::string format_text(const Decision& d) {
  std::ostringstream out;
  text_lines(d, 0, out);
  return out.str();
}

nlohmann::ordered_json to_json(const Decision& d) {
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (const auto& r : d.results) {
    results.push_back(
        {{"id", r.id}, {"check", r.check}, {"passed", r.passed}, {"reason", r.reason}});
  }
  nlohmann::ordered_json inputs = nlohmann::ordered_json::array();
  for (const auto& input : d.inputs) inputs.push_back(to_json(input));
  return {{"admitted", d.admitted()},      {"kind", to_string(d.kind)},
          {"subject", d.subject},          {"digests", d.digests},
          {"results", std::move(results)}, {"inputs", std::move(inputs)}};
}

}  // namespace mlsc::policy
