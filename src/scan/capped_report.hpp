// Findings about the members of one container, at most `cap` per rule: a hostile archive with
// a million encrypted or broken members must not produce a million findings. What is left out
// is counted and reported once, at the worst severity it had.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "mlsc/scan/scanner.hpp"

namespace mlsc::scan {

class CappedReport {
 public:
  explicit CappedReport(ScanContext& ctx, std::size_t cap = 32) : ctx_(ctx), cap_(cap) {}
  CappedReport(const CappedReport&) = delete;
  CappedReport& operator=(const CappedReport&) = delete;
  ~CappedReport() = default;

  void add(Severity severity, const std::string& rule, std::string message,
           std::optional<std::uint64_t> offset = std::nullopt) {
    auto& c = counts_[rule];
    if (++c.seen <= cap_) {
      ctx_.add(severity, rule, std::move(message), offset);
    } else {
      c.worst = std::max(c.worst, severity);
    }
  }

  // Report what was left out. Call once the container is done.
  void flush() {
    for (auto& [rule, c] : counts_) {
      if (c.seen > cap_) {
        ctx_.add(c.worst, rule,
                 std::to_string(c.seen - cap_) + " more " + rule +
                     " findings in this container not listed");
      }
      c.seen = std::min(c.seen, cap_);
    }
  }

 private:
  struct Count {
    std::size_t seen = 0;
    Severity worst = Severity::none;
  };
  ScanContext& ctx_;
  std::size_t cap_;
  std::map<std::string, Count> counts_;
};

}  // namespace mlsc::scan
