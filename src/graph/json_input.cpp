#include "json_input.hpp"

#include "mlsc/core/json_depth.hpp"

namespace mlsc::graph::detail {

Expected<json> parse_bounded_json(std::string_view text, const ParseLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return Error{"document larger than " + std::to_string(limits.max_bytes) + " bytes"};
  }
  if (auto at = json_too_deep_at(text, static_cast<std::size_t>(limits.max_depth))) {
    return Error::at(*at, "JSON nested deeper than " + std::to_string(limits.max_depth));
  }
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    return Error::at(e.byte > 0 ? e.byte - 1 : 0, "invalid JSON");
  } catch (const json::exception& e) {  // out_of_range: a number too large for a double
    return Error{std::string("invalid JSON: ") + e.what()};
  }
}

const json* member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string text(const json& object, std::string_view key) {
  const json* v = member(object, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

const json& array_or_empty(const json& object, std::string_view key) {
  static const json kEmpty = json::array();
  const json* v = member(object, key);
  return v && v->is_array() ? *v : kEmpty;
}

std::optional<std::string> digest_set_key(const json& digest_set) {
  if (!digest_set.is_object()) return std::nullopt;
  constexpr std::array<std::string_view, 5> kPreferred = {"sha256", "sha512", "sha384", "blake3",
                                                          "gitCommit"};
  for (const auto name : kPreferred) {
    const auto value = text(digest_set, name);
    if (auto key = digest_key(name, value)) return key;
  }
  for (const auto& [name, value] : digest_set.items()) {
    if (!value.is_string()) continue;
    if (auto key = digest_key(name, value.get<std::string>())) return key;
  }
  return std::nullopt;
}

}  // namespace mlsc::graph::detail
