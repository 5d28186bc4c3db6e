#include "json_strict.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_set>
#include <utility>

namespace mlsc::scan::strict_json {

namespace {

using nlohmann::json;

bool names_template(std::string_view key) {
  constexpr std::string_view kWord = "template";
  auto it = std::search(key.begin(), key.end(), kWord.begin(), kWord.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == b;
  });
  return it != key.end();
}

struct Frame {
  bool object = false;
  std::string token;      // this container's pointer token in its parent
  std::string owner_key;  // nearest object key this container sits under
  std::string pending_key;
  std::size_t index = 0;  // next array index
  std::unordered_set<std::string> keys;
  json* built = nullptr;  // the value being built when this member is captured
};

class Handler {
 public:
  Handler(const JsonOptions& options, JsonDoc& doc) : options_(options), doc_(doc) {}

  bool null() { return value(json(nullptr)); }
  bool boolean(bool v) { return value(json(v)); }
  bool number_integer(json::number_integer_t v) { return value(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return value(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t&) { return value(json(v)); }
  bool string(json::string_t& v) {
    if (options_.collect_templates && !frames_.empty() && names_template(value_key())) {
      doc_.templates.push_back({path() + "/" + next_token(), v});
    }
    return value(json(std::move(v)));
  }
  bool binary(json::binary_t&) { return value(json(nullptr)); }

  bool start_object(std::size_t) { return open(true); }
  bool start_array(std::size_t) { return open(false); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(json::string_t& k) {
    Frame& f = frames_.back();
    if (!f.keys.insert(k).second) {
      if (doc_.duplicates.size() < options_.max_duplicates) doc_.duplicates.push_back({path(), k});
      ++doc_.duplicate_count;
    }
    f.pending_key = std::move(k);
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    // nlohmann counts characters read, so the offending byte is the one before `position`.
    doc_.error = Error::at(position > 0 ? position - 1 : 0, e.what());
    doc_.trailing_content = frames_.empty() && started_;
    return false;
  }

 private:
  // The key the next value is stored under (for arrays: the key the array sits under).
  const std::string& value_key() const {
    const Frame& f = frames_.back();
    return f.object ? f.pending_key : f.owner_key;
  }
  std::string next_token() const {
    const Frame& f = frames_.back();
    return f.object ? pointer_token(f.pending_key) : std::to_string(f.index);
  }
  std::string path() const {
    std::string p;
    for (std::size_t i = 1; i < frames_.size(); ++i) p += "/" + frames_[i].token;
    return p;
  }

  bool capturing_top(const Frame& top) const {
    return frames_.size() == 1 && top.object &&
           (!options_.capture || options_.capture(top.pending_key));
  }

  // Stores `v` in the value being built, if any; returns where it went.
  json* store(json v) {
    if (frames_.empty()) return nullptr;
    Frame& f = frames_.back();
    json* slot = nullptr;
    if (capturing_top(f)) {
      slot = &(doc_.members[f.pending_key] = std::move(v));
    } else if (f.built != nullptr && f.object) {
      slot = &((*f.built)[f.pending_key] = std::move(v));
    } else if (f.built != nullptr) {
      f.built->push_back(std::move(v));
      slot = &f.built->back();
    }
    if (!f.object) ++f.index;
    return slot;
  }

  bool value(json v) {
    store(std::move(v));
    return true;
  }

  bool open(bool object) {
    if (frames_.size() >= options_.max_depth) {
      doc_.error = Error{"JSON nested more than " + std::to_string(options_.max_depth) + " levels"};
      return false;
    }
    Frame child;
    child.object = object;
    if (frames_.empty()) {
      started_ = true;
      doc_.top_is_object = object;
    } else {
      child.token = next_token();
      child.owner_key = value_key();
      child.built = store(object ? json::object() : json::array());
    }
    frames_.push_back(std::move(child));
    return true;
  }

  bool close() {
    frames_.pop_back();
    return true;
  }

  const JsonOptions& options_;
  JsonDoc& doc_;
  std::vector<Frame> frames_;
  bool started_ = false;
};

}  // namespace

std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

JsonDoc read(std::string_view text, const JsonOptions& options) {
  JsonDoc doc;
  Handler handler(options, doc);
  const bool ok = json::sax_parse(text.begin(), text.end(), &handler, json::input_format_t::json,
                                  /*strict=*/true);
  if (!ok && !doc.error) doc.error = Error{"invalid JSON"};
  return doc;
}

}  // namespace mlsc::scan::strict_json
