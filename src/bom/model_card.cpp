// Model cards: the YAML front matter of a README.md (Hugging Face model card metadata:
// license, base_model, datasets, language, tags, pipeline_tag, model-index results) and a few
// prose sections (intended uses, limitations, ethics) for the CycloneDX modelCard.
#include <yaml-cpp/yaml.h>
#include <algorithm>

#include "mlsc/bom/sources.hpp"
#include "mlsc/core/text.hpp"
#include "text_util.hpp"

namespace mlsc::bom {

namespace {

constexpr std::size_t kMaxFrontMatter = 256U << 10;
constexpr int kMaxYamlDepth = 64;
constexpr std::size_t kMaxListItems = 1000;
constexpr std::size_t kMaxSectionText = 2000;

// yaml-cpp recurses once per nesting level; estimate the depth from indentation, block
// sequence dashes and flow brackets, and refuse anything deeper than a model card needs.
bool nesting_within_limit(std::string_view yaml) {
  int flow = 0;
  for (const auto line : detail::lines(yaml)) {
    std::size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '-')) ++i;
    if (i / 2 > static_cast<std::size_t>(kMaxYamlDepth)) return false;
    for (const char c : line) {
      if (c == '[' || c == '{') ++flow;
      if ((c == ']' || c == '}') && flow > 0) --flow;
      if (flow > kMaxYamlDepth) return false;
    }
  }
  return true;
}

std::string scalar(const YAML::Node& n) {
  if (!n || !n.IsScalar()) return {};
  return detail::bounded(n.Scalar(), 1000);
}

// A string or a list of strings (model cards use both for license, base_model, datasets...).
std::vector<std::string> scalar_list(const YAML::Node& n) {
  std::vector<std::string> out;
  if (!n) return out;
  if (n.IsScalar()) {
    if (!n.Scalar().empty()) out.push_back(scalar(n));
    return out;
  }
  if (!n.IsSequence()) return out;
  for (const auto& item : n) {
    if (out.size() >= kMaxListItems) break;
    if (auto s = scalar(item); !s.empty()) out.push_back(std::move(s));
  }
  return out;
}

void add_unique(std::vector<std::string>& list, const std::string& value) {
  if (!value.empty() && std::find(list.begin(), list.end(), value) == list.end())
    list.push_back(value);
}

void read_result(const YAML::Node& result, ModelCard& card) {
  if (!result.IsMap()) return;
  const auto task = result["task"];
  const auto dataset = result["dataset"];
  const std::string task_type = task && task.IsMap() ? scalar(task["type"]) : std::string{};
  std::string dataset_id;
  if (dataset && dataset.IsMap()) {
    dataset_id = scalar(dataset["type"]);
    if (dataset_id.empty()) dataset_id = scalar(dataset["name"]);
    add_unique(card.eval_datasets, dataset_id);
  }
  const auto metrics = result["metrics"];
  if (!metrics || !metrics.IsSequence()) return;
  for (const auto& m : metrics) {
    if (card.metrics.size() >= kMaxListItems) return;
    if (!m.IsMap()) continue;
    Metric metric;
    metric.type = scalar(m["type"]);
    metric.value = scalar(m["value"]);
    metric.name = scalar(m["name"]);
    metric.dataset = dataset_id;
    metric.task = task_type;
    if (!metric.type.empty() && !metric.value.empty()) card.metrics.push_back(std::move(metric));
  }
}

void read_model_index(const YAML::Node& index, ModelCard& card) {
  if (!index || !index.IsSequence()) return;
  for (const auto& entry : index) {
    if (!entry.IsMap()) continue;
    if (card.model_name.empty()) card.model_name = scalar(entry["name"]);
    const auto results = entry["results"];
    if (!results || !results.IsSequence()) continue;
    for (const auto& r : results) read_result(r, card);
  }
}

Expected<void> read_front_matter(std::string_view yaml, ModelCard& card) {
  if (yaml.size() > kMaxFrontMatter)
    return Error::at(0, "model card front matter larger than 256 KiB");
  if (!nesting_within_limit(yaml)) return Error::at(0, "model card front matter nested too deeply");
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Error("model card front matter: " + std::string(e.what()));
  }
  if (!root || root.IsNull()) return {};
  if (!root.IsMap()) return Error::at(0, "model card front matter is not a mapping");
  try {
    const auto licenses = scalar_list(root["license"]);
    if (!licenses.empty()) card.license = licenses.front();
    card.license_name = scalar(root["license_name"]);
    card.base_models = scalar_list(root["base_model"]);
    card.datasets = scalar_list(root["datasets"]);
    card.languages = scalar_list(root["language"]);
    card.tags = scalar_list(root["tags"]);
    card.pipeline_tag = scalar(root["pipeline_tag"]);
    card.library_name = scalar(root["library_name"]);
    read_model_index(root["model-index"], card);
  } catch (const YAML::Exception& e) {
    return Error("model card front matter: " + std::string(e.what()));
  }
  return {};
}

// Markdown ATX heading level (1-6) of a line, or 0.
int heading_level(std::string_view line) {
  int level = 0;
  while (level < static_cast<int>(line.size()) && line[level] == '#') ++level;
  if (level == 0 || level > 6 || level >= static_cast<int>(line.size()) || line[level] != ' ')
    return 0;
  return level;
}

std::string* section_target(std::string_view heading, ModelCard& card) {
  const auto h = ascii_lower(heading);
  // "Intended uses & limitations" (the model card template's heading) is about uses.
  if (h.find("intended use") != std::string::npos || h.find("uses") != std::string::npos ||
      h.find("use case") != std::string::npos)
    return &card.intended_uses;
  if (h.find("limitation") != std::string::npos || h.find("risks") != std::string::npos)
    return &card.limitations;
  if (h.find("ethic") != std::string::npos) return &card.ethical_considerations;
  return nullptr;
}

void read_sections(std::string_view body, ModelCard& card) {
  std::string* target = nullptr;
  int target_level = 0;
  for (const auto line : detail::lines(body)) {
    if (const int level = heading_level(line); level > 0) {
      if (target != nullptr && level > target_level) continue;  // a sub-heading of the section
      target = section_target(line.substr(level), card);
      if (target != nullptr && !target->empty()) target = nullptr;  // first section wins
      target_level = level;
      continue;
    }
    if (target == nullptr || target->size() >= kMaxSectionText) continue;
    const auto text = detail::trim(line);
    if (text.empty() || text.substr(0, 4) == "<!--") continue;
    if (!target->empty()) *target += ' ';
    *target += text;
  }
  for (auto* s : {&card.intended_uses, &card.limitations, &card.ethical_considerations}) {
    *s = detail::sanitize_utf8(detail::bounded(*s, kMaxSectionText));
    // Model card templates leave "[More Information Needed]" where nothing was written.
    if (s->find("More Information Needed") != std::string::npos && s->size() < 40) s->clear();
  }
}

}  // namespace

Expected<ModelCard> parse_model_card(std::string_view readme) {
  if (readme.size() > kMaxTextFile) return Error::at(0, "README larger than 32 MiB");
  ModelCard card;
  std::string_view body = readme;
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);  // UTF-8 BOM
  const auto first_newline = body.find('\n');
  if (first_newline != std::string_view::npos &&
      detail::trim(body.substr(0, first_newline)) == "---") {
    // Front matter: up to the next line that is exactly '---'.
    const auto start = first_newline + 1;
    bool closed = false;
    for (std::size_t pos = start; pos < body.size();) {
      const auto newline = body.find('\n', pos);
      const auto end = newline == std::string_view::npos ? body.size() : newline;
      if (detail::trim(body.substr(pos, end - pos)) == "---") {
        if (auto r = read_front_matter(body.substr(start, pos - start), card); !r) return r.error();
        body = newline == std::string_view::npos ? std::string_view{} : body.substr(newline + 1);
        closed = true;
        break;
      }
      if (newline == std::string_view::npos) break;
      pos = newline + 1;
    }
    if (!closed) return Error::at(0, "model card front matter has no closing '---'");
  }
  read_sections(body, card);
  return card;
}

}  // namespace mlsc::bom
