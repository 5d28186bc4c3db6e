// CVSS base scores from vectors: v3.0/v3.1 (FIRST CVSS v3.1 specification, section 7) and v2
// (CVSS v2 guide, section 3.2.1). The metric weights below are the specification's constants.
#include "mlsc/vuln/cvss.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <span>
#include <string>

namespace mlsc::vuln {

namespace {

using Metrics = std::map<std::string, std::string, std::less<>>;

struct MetricWeights {
  std::string_view name;
  std::string_view values;  // one letter per allowed value
};

// Splits "AV:N/AC:L" into metrics; every base metric listed in `base` must appear once with
// one of its allowed values. Other metrics must be well-formed but are not checked further.
Expected<Metrics> split_metrics(std::string_view body, std::span<const MetricWeights> base) {
  Metrics metrics;
  std::size_t start = 0;
  while (start <= body.size()) {
    const std::size_t slash = std::min(body.find('/', start), body.size());
    const std::string_view item = body.substr(start, slash - start);
    const std::size_t colon = item.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == item.size()) {
      return Error::at(start, "CVSS metric '" + std::string(item) + "' is not NAME:VALUE");
    }
    if (!metrics.emplace(std::string(item.substr(0, colon)), std::string(item.substr(colon + 1)))
             .second) {
      return Error::at(start, "CVSS metric " + std::string(item.substr(0, colon)) + " repeated");
    }
    start = slash + 1;
  }
  for (const auto& m : base) {
    const auto it = metrics.find(m.name);
    if (it == metrics.end()) return Error("CVSS vector lacks base metric " + std::string(m.name));
    if (it->second.size() != 1 || m.values.find(it->second[0]) == std::string_view::npos) {
      return Error("CVSS metric " + std::string(m.name) + " has undefined value '" + it->second +
                   "'");
    }
  }
  return metrics;
}

double pick(const std::string& value, std::string_view letters, std::span<const double> weights) {
  return weights[letters.find(value[0])];
}

constexpr std::array<MetricWeights, 8> kV3Base = {{{"AV", "NALP"},
                                                   {"AC", "LH"},
                                                   {"PR", "NLH"},
                                                   {"UI", "NR"},
                                                   {"S", "UC"},
                                                   {"C", "HLN"},
                                                   {"I", "HLN"},
                                                   {"A", "HLN"}}};

double v3_base(const Metrics& m, bool v31) {
  static constexpr std::array<double, 4> kAv = {0.85, 0.62, 0.55, 0.2};
  static constexpr std::array<double, 2> kAc = {0.77, 0.44};
  static constexpr std::array<double, 3> kPrUnchanged = {0.85, 0.62, 0.27};
  static constexpr std::array<double, 3> kPrChanged = {0.85, 0.68, 0.5};
  static constexpr std::array<double, 2> kUi = {0.85, 0.62};
  static constexpr std::array<double, 3> kCia = {0.56, 0.22, 0.0};
  const bool changed = m.at("S") == "C";
  const double c = pick(m.at("C"), "HLN", kCia);
  const double i = pick(m.at("I"), "HLN", kCia);
  const double a = pick(m.at("A"), "HLN", kCia);
  const double iss = 1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a);
  const double impact =
      changed ? 7.52 * (iss - 0.029) - 3.25 * std::pow(iss - 0.02, 15) : 6.42 * iss;
  const double exploitability = 8.22 * pick(m.at("AV"), "NALP", kAv) * pick(m.at("AC"), "LH", kAc) *
                                pick(m.at("PR"), "NLH", changed ? kPrChanged : kPrUnchanged) *
                                pick(m.at("UI"), "NR", kUi);
  if (impact <= 0) return 0.0;
  const double raw =
      std::min(changed ? 1.08 * (impact + exploitability) : impact + exploitability, 10.0);
  // v3.0 scores were published with the plain ceiling (its reference calculator); v3.1 defined
  // Roundup to remove the floating-point artefacts of that.
  return v31 ? cvss31_roundup(raw) : std::ceil(raw * 10.0) / 10.0;
}

constexpr std::array<MetricWeights, 6> kV2Base = {
    {{"AV", "LAN"}, {"AC", "HML"}, {"Au", "MSN"}, {"C", "NPC"}, {"I", "NPC"}, {"A", "NPC"}}};

double v2_base(const Metrics& m) {
  static constexpr std::array<double, 3> kAv = {0.395, 0.646, 1.0};
  static constexpr std::array<double, 3> kAc = {0.35, 0.61, 0.71};
  static constexpr std::array<double, 3> kAu = {0.45, 0.56, 0.704};
  static constexpr std::array<double, 3> kCia = {0.0, 0.275, 0.660};
  const double impact =
      10.41 * (1.0 - (1.0 - pick(m.at("C"), "NPC", kCia)) * (1.0 - pick(m.at("I"), "NPC", kCia)) *
                         (1.0 - pick(m.at("A"), "NPC", kCia)));
  const double exploitability = 20.0 * pick(m.at("AV"), "LAN", kAv) * pick(m.at("AC"), "HML", kAc) *
                                pick(m.at("Au"), "MSN", kAu);
  const double f = impact == 0.0 ? 0.0 : 1.176;
  const double raw = ((0.6 * impact) + (0.4 * exploitability) - 1.5) * f;
  return std::round(raw * 10.0) / 10.0;
}

// v4 base metrics and their values (CVSS v4.0 specification, section 7 table 23).
constexpr std::array<MetricWeights, 11> kV4Base = {{{"AV", "NALP"},
                                                    {"AC", "LH"},
                                                    {"AT", "NP"},
                                                    {"PR", "NLH"},
                                                    {"UI", "NPA"},
                                                    {"VC", "HLN"},
                                                    {"VI", "HLN"},
                                                    {"VA", "HLN"},
                                                    {"SC", "HLN"},
                                                    {"SI", "HLN"},
                                                    {"SA", "HLN"}}};

}  // namespace

double cvss31_roundup(double x) {
  const auto scaled = static_cast<long long>(std::llround(x * 100000.0));
  if (scaled % 10000 == 0) return static_cast<double>(scaled) / 100000.0;
  return static_cast<double>(scaled / 10000 + 1) / 10.0;
}

Severity cvss_severity(double score) {
  if (score >= 9.0) return Severity::critical;
  if (score >= 7.0) return Severity::high;
  if (score >= 4.0) return Severity::medium;
  if (score > 0.0) return Severity::low;
  return Severity::none;
}

Expected<CvssScore> parse_cvss(std::string_view vector) {
  CvssScore score;
  score.vector = std::string(vector);
  if (vector.size() > 512) return Error("CVSS vector longer than 512 characters");
  for (const std::string_view v : {"3.0", "3.1", "4.0"}) {
    const std::string prefix = "CVSS:" + std::string(v) + "/";
    if (vector.substr(0, prefix.size()) != prefix) continue;
    score.version = std::string(v);
    const std::string_view body = vector.substr(prefix.size());
    if (v == "4.0") {
      auto m = split_metrics(body, kV4Base);
      if (!m) return m.error();
      return score;
    }
    auto m = split_metrics(body, kV3Base);
    if (!m) return m.error();
    score.base_score = v3_base(*m, v == "3.1");
    return score;
  }
  if (vector.substr(0, 5) == "CVSS:") {
    return Error("unsupported CVSS version in '" + std::string(vector.substr(0, 12)) + "'");
  }
  // NVD writes v2 vectors with or without a "(...)" wrapper.
  std::string_view body = vector;
  if (body.size() >= 2 && body.front() == '(' && body.back() == ')') {
    body = body.substr(1, body.size() - 2);
  }
  auto m = split_metrics(body, kV2Base);
  if (!m) return m.error();
  score.version = "2.0";
  score.base_score = v2_base(*m);
  return score;
}

}  // namespace mlsc::vuln
