#include "tf_graph.hpp"

#include <algorithm>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "core/embedded.hpp"
#include "mlsc/core/text.hpp"
#include "protobuf_wire.hpp"
#include "rule_lines.hpp"

namespace mlsc::scan::tf {

namespace {

using pb::Field;
using pb::WireType;

constexpr std::size_t kMaxStoredString = 4096;  // per attribute value kept for messages
constexpr std::size_t kMaxStringsPerAttr = 64;

std::string text(const Field& f) {
  const auto s = as_chars(f.bytes);
  return std::string(s.substr(0, kMaxStoredString));
}

bool is_len(const Field& f, std::uint32_t number) {
  return f.number == number && f.type == WireType::len;
}

// Calls `each(field)` for every field of `data`; stops at the first error or when `each` fails.
template <class Each>
Expected<void> for_fields(ByteView data, std::uint64_t base, Each each) {
  pb::Reader r(data, base);
  Field f;
  while (true) {
    auto more = r.next(f);
    if (!more) return more.error();
    if (!*more) return {};
    if (auto ok = each(f); !ok) return ok;
  }
}

// --- parsing -------------------------------------------------------------------------------

class Parser {
 public:
  explicit Parser(const Limits& limits) : limits_(limits) {}

  Expected<void> saved_model(ByteView data, SavedModel& out) {
    return for_fields(data, 0, [&](const Field& f) -> Expected<void> {
      if (f.number == 1 && f.type == WireType::varint) out.schema_version = f.varint;
      if (!is_len(f, 2)) return {};
      out.meta_graphs.emplace_back();
      return meta_graph(f, out.meta_graphs.back());
    });
  }

 private:
  Expected<void> meta_graph(const Field& mg, MetaGraph& out) {
    return for_fields(mg.bytes, mg.payload_offset, [&](const Field& f) -> Expected<void> {
      if (is_len(f, 1)) return meta_info(f, out);
      if (is_len(f, 2)) return graph(f, out.nodes, out.functions);
      if (is_len(f, 3)) return saver(f, out);
      if (is_len(f, 6)) return asset(f, out);
      if (is_len(f, 7)) return object_graph(f, out);
      return {};
    });
  }

  Expected<void> meta_info(const Field& mi, MetaGraph& out) {
    return for_fields(mi.bytes, mi.payload_offset, [&](const Field& f) -> Expected<void> {
      if (is_len(f, 4) && out.tags.size() < 64) out.tags.push_back(text(f));
      return {};
    });
  }

  Expected<void> saver(const Field& sd, MetaGraph& out) {
    return for_fields(sd.bytes, sd.payload_offset, [&](const Field& f) -> Expected<void> {
      if (is_len(f, 1)) out.saver_filename_tensor = text(f);
      return {};
    });
  }

  Expected<void> asset(const Field& a, MetaGraph& out) {
    return for_fields(a.bytes, a.payload_offset, [&](const Field& f) -> Expected<void> {
      if (is_len(f, 2)) out.asset_files.emplace_back(text(f), f.offset);
      return {};
    });
  }

  // SavedObjectGraph.nodes -> SavedObject.user_object -> SavedUserObject{identifier, metadata}.
  Expected<void> object_graph(const Field& og, MetaGraph& out) {
    return for_fields(og.bytes, og.payload_offset, [&](const Field& node) -> Expected<void> {
      if (!is_len(node, 1)) return {};
      return for_fields(node.bytes, node.payload_offset, [&](const Field& f) -> Expected<void> {
        if (!is_len(f, 4)) return {};
        KerasMetadata k;
        k.offset = f.offset;
        auto r = for_fields(f.bytes, f.payload_offset, [&](const Field& u) -> Expected<void> {
          if (is_len(u, 1)) k.where = text(u);
          if (is_len(u, 3)) k.json = std::string(as_chars(u.bytes));
          return {};
        });
        if (r && !k.json.empty()) out.keras.push_back(std::move(k));
        return r;
      });
    });
  }

  Expected<void> graph(const Field& g, std::vector<Node>& nodes, std::vector<Function>& functions) {
    return for_fields(g.bytes, g.payload_offset, [&](const Field& f) -> Expected<void> {
      if (is_len(f, 1)) return node(f, nodes);
      if (is_len(f, 2)) return library(f, functions);
      return {};
    });
  }

  Expected<void> library(const Field& lib, std::vector<Function>& functions) {
    return for_fields(lib.bytes, lib.payload_offset, [&](const Field& f) -> Expected<void> {
      if (!is_len(f, 1)) return {};
      functions.emplace_back();
      functions.back().offset = f.offset;
      return function(f, functions.back());
    });
  }

  Expected<void> function(const Field& fd, Function& out) {
    return for_fields(fd.bytes, fd.payload_offset, [&](const Field& f) -> Expected<void> {
      if (is_len(f, 3)) return node(f, out.nodes);
      if (!is_len(f, 1)) return {};
      return for_fields(f.bytes, f.payload_offset, [&](const Field& s) -> Expected<void> {
        if (is_len(s, 1)) out.name = text(s);
        return {};
      });
    });
  }

  Expected<void> node(const Field& nd, std::vector<Node>& nodes) {
    if (++node_count_ > limits_.max_nodes) {
      return Error::at(nd.offset, "more than " + std::to_string(limits_.max_nodes) + " nodes");
    }
    nodes.emplace_back();
    Node& n = nodes.back();
    n.offset = nd.offset;
    return for_fields(nd.bytes, nd.payload_offset, [&](const Field& f) -> Expected<void> {
      if (is_len(f, 1)) n.name = text(f);
      if (is_len(f, 2)) n.op = text(f);
      if (is_len(f, 3) && n.inputs.size() < 4096) n.inputs.push_back(text(f));
      if (is_len(f, 5)) return attr_entry(f, n);
      return {};
    });
  }

  // map<string, AttrValue> entry: key = 1, value = 2.
  Expected<void> attr_entry(const Field& e, Node& n) {
    std::string key;
    ByteView value;
    std::uint64_t value_at = 0;
    auto r = for_fields(e.bytes, e.payload_offset, [&](const Field& f) -> Expected<void> {
      if (is_len(f, 1)) key = text(f);
      if (is_len(f, 2)) {
        value = f.bytes;
        value_at = f.payload_offset;
      }
      return {};
    });
    if (!r) return r;
    return attr_value(key, value, value_at, n);
  }

  void keep(Node& n, const std::string& key, std::string s) {
    auto& list = n.strings[key];
    if (list.size() < kMaxStringsPerAttr) list.push_back(std::move(s));
  }

  // AttrValue: s = 2, b = 5, list = 1 (ListValue: s = 2, func = 9), tensor = 8
  // (TensorProto.string_val = 8), func = 10 (NameAttrList.name = 1).
  Expected<void> attr_value(const std::string& key, ByteView value, std::uint64_t base, Node& n) {
    const auto func_name = [&](const Field& fn) {
      return for_fields(fn.bytes, fn.payload_offset, [&](const Field& x) -> Expected<void> {
        if (is_len(x, 1)) keep(n, key, text(x));
        return {};
      });
    };
    return for_fields(value, base, [&](const Field& f) -> Expected<void> {
      if (is_len(f, 2)) keep(n, key, text(f));
      if (f.number == 5 && f.type == WireType::varint) n.bools[key] = f.varint != 0;
      if (is_len(f, 10)) return func_name(f);
      if (is_len(f, 1)) {
        return for_fields(f.bytes, f.payload_offset, [&](const Field& l) -> Expected<void> {
          if (is_len(l, 2)) keep(n, key, text(l));
          if (is_len(l, 9)) return func_name(l);
          return {};
        });
      }
      if (is_len(f, 8)) {
        return for_fields(f.bytes, f.payload_offset, [&](const Field& t) -> Expected<void> {
          if (is_len(t, 8)) keep(n, key, text(t));
          return {};
        });
      }
      return {};
    });
  }

  const Limits& limits_;
  std::size_t node_count_ = 0;
};

// --- policy --------------------------------------------------------------------------------

struct OpRule {
  Severity severity = Severity::medium;
  std::string category;
  std::string reason;
};

using rules::trim;

Severity severity_of(std::string_view w) {
  if (w == "critical") return Severity::critical;
  if (w == "high") return Severity::high;
  if (w == "low") return Severity::low;
  if (w == "info") return Severity::info;
  return Severity::medium;
}

const std::unordered_map<std::string, OpRule>& op_policy() {
  static const std::unordered_map<std::string, OpRule> table = [] {
    std::unordered_map<std::string, OpRule> t;
    for (const auto line : rules::split_lines(embedded::tf_op_policy)) {
      const auto [w, reason] = rules::parse_rule_line(line);
      if (w.size() >= 3) t[std::string(w[0])] = {severity_of(w[1]), std::string(w[2]), reason};
    }
    return t;
  }();
  return table;
}

const std::unordered_set<std::string>& standard_ops() {
  static const std::unordered_set<std::string> ops = [] {
    std::unordered_set<std::string> s;
    for (const auto line : rules::split_lines(embedded::tf_standard_ops)) {
      const auto t = trim(line);
      if (!t.empty() && t[0] != '#') s.emplace(t);
    }
    return s;
  }();
  return ops;
}

// Attributes whose strings name files, URLs or streams: quoted in messages.
constexpr std::string_view kPathAttrs[] = {
    "filename",          "file_pattern", "memory_region_name", "output_stream", "debug_urls",
    "descriptor_source", "address",      "ckpt_path",          "path",          "shared_name"};

std::string input_node(std::string_view input) {
  if (!input.empty() && input[0] == '^') input.remove_prefix(1);
  return std::string(input.substr(0, input.find(':')));
}

bool is_saver_function(std::string_view name) {
  return name.find("_traced_save") != std::string_view::npos ||
         name.find("_traced_restore") != std::string_view::npos;
}

class Judge {
 public:
  explicit Judge(Analysis& out) : out_(out) {}

  void meta_graph(const MetaGraph& mg) {
    std::unordered_set<std::string> functions;
    for (const auto& f : mg.functions) functions.insert(f.name);
    const auto slash = mg.saver_filename_tensor.rfind('/');
    const std::string saver_scope =
        slash == std::string::npos ? std::string() : mg.saver_filename_tensor.substr(0, slash + 1);
    nodes(mg.nodes, "graph", functions, [&](const Node& n) {
      return !saver_scope.empty() && n.name.compare(0, saver_scope.size(), saver_scope) == 0;
    });
    for (const auto& f : mg.functions) {
      ++out_.functions;
      const bool saver = is_saver_function(f.name);
      nodes(f.nodes, "function/" + printable(f.name, 200), functions,
            [&](const Node&) { return saver; });
    }
    assets(mg);
    for (const auto& k : mg.keras) out_.keras.push_back(k);
  }

  void finish() {
    if (saver_.count > 0) {
      std::string ops;
      for (const auto& op : saver_ops_) ops += (ops.empty() ? "" : ", ") + op;
      out_.issues.push_back({Severity::info, "tensorflow.checkpoint-io",
                             std::to_string(saver_.count) + " checkpoint node(s) (" + ops +
                                 ") belong to the SavedModel's own saver, first " + saver_.first +
                                 ": variables are read from and written to the path the loader "
                                 "passes",
                             saver_.first, saver_.offset});
    }
    for (const auto& [op, c] : custom_) {
      out_.issues.push_back(
          {Severity::medium, "tensorflow.custom-op",
           "op '" + printable(op, 120) + "' is not a standard TensorFlow op (" +
               std::to_string(c.count) + " node(s), first " + c.first +
               "): loading the model needs a custom kernel library, i.e. native code, "
               "registered with tf.load_op_library",
           c.first, c.offset});
    }
    for (const auto& [op, n] : capped_) {
      out_.issues.push_back({capped_severity_[op],
                             capped_rule_[op],
                             std::to_string(n) + " more '" + op + "' nodes not listed",
                             {},
                             0});
    }
  }

 private:
  struct Custom {
    std::size_t count = 0;
    std::string first;
    std::uint64_t offset = 0;
  };

  template <class InSaver>
  void nodes(const std::vector<Node>& list, const std::string& where,
             const std::unordered_set<std::string>& functions, InSaver in_saver) {
    std::unordered_map<std::string, const Node*> by_name;
    for (const auto& n : list) by_name.emplace(n.name, &n);
    for (const auto& n : list) {
      ++out_.nodes;
      const std::string location = where + "/" + printable(n.name, 200);
      if (const auto it = op_policy().find(n.op); it != op_policy().end()) {
        judge(n, it->second, location, in_saver(n), by_name);
      } else if (!standard_ops().count(n.op) && !functions.count(n.op)) {
        auto& c = custom_[n.op];
        if (c.count++ == 0) {
          c.first = location;
          c.offset = n.offset;
        }
      }
    }
  }

  // The constant path a file op reads or writes, when its first input is a Const string.
  static std::string const_input(const Node& n,
                                 const std::unordered_map<std::string, const Node*>& by_name) {
    if (n.inputs.empty()) return {};
    const auto it = by_name.find(input_node(n.inputs[0]));
    if (it == by_name.end() || it->second->op != "Const") return {};
    const auto v = it->second->strings.find("value");
    return v == it->second->strings.end() || v->second.empty() ? std::string() : v->second[0];
  }

  static std::string path_attrs(const Node& n) {
    std::string out;
    for (const auto attr : kPathAttrs) {
      const auto it = n.strings.find(std::string(attr));
      if (it == n.strings.end()) continue;
      for (const auto& s : it->second) {
        if (s.empty()) continue;
        out += (out.empty() ? "" : ", ") + std::string(attr) + "='" + printable(s, 160) + "'";
      }
    }
    return out;
  }

  void judge(const Node& n, const OpRule& rule, const std::string& location, bool in_saver,
             const std::unordered_map<std::string, const Node*>& by_name) {
    const std::string path = const_input(n, by_name);
    std::string context = path_attrs(n);
    if (!path.empty())
      context += (context.empty() ? "" : ", ") + ("path '" + printable(path, 200) + "'");
    const std::string suffix = context.empty() ? "" : " (" + context + ")";
    if (rule.category == "checkpoint-io") {
      if (n.op.find("Restore") != std::string::npos) out_.restores_variables = true;
      checkpoint(n, rule, location, in_saver, path, suffix);
      return;
    }
    if (n.op == "PrintV2") {
      const auto it = n.strings.find("output_stream");
      const bool to_file =
          it != n.strings.end() && !it->second.empty() && it->second[0].rfind("file://", 0) == 0;
      if (!to_file) return;
      add(Severity::high, "tensorflow.file-write", n.op,
          "PrintV2 node " + location + " appends to a file" + suffix, location, n.offset);
      return;
    }
    add(rule.severity, "tensorflow." + rule.category, n.op,
        n.op + " node " + location + ": " + rule.reason + suffix, location, n.offset);
  }

  void checkpoint(const Node& n, const OpRule& rule, const std::string& location, bool in_saver,
                  const std::string& path, const std::string& suffix) {
    if (in_saver) {  // expected in every SavedModel: summarised once in finish()
      if (saver_.count++ == 0) {
        saver_.first = location;
        saver_.offset = n.offset;
      }
      saver_ops_.insert(n.op);
      return;
    }
    const bool fixed = !path.empty();
    add(fixed ? Severity::high : rule.severity, "tensorflow.checkpoint-io", n.op,
        n.op + " node " + location + " is outside the standard saver: " + rule.reason +
            (fixed ? " at a path fixed in the graph" : "") + suffix,
        location, n.offset);
  }

  void assets(const MetaGraph& mg) {
    for (const auto& [name, offset] : mg.asset_files) {
      out_.asset_files.emplace_back(name, offset);
      const bool escapes =
          (!name.empty() && name[0] == '/') || name.find("..") != std::string::npos ||
          (name.size() > 1 && name[1] == ':') || name.find('\\') != std::string::npos;
      if (!escapes) continue;
      add(Severity::high, "tensorflow.asset-path", "asset",
          "asset file '" + printable(name, 200) +
              "' is not a plain name inside assets/: the "
              "loader joins it to the assets folder, so it reads a file elsewhere on the machine",
          "assets", offset);
    }
  }

  void add(Severity s, const std::string& rule, const std::string& op, std::string message,
           const std::string& location, std::uint64_t offset) {
    if (++per_op_[op] > kPerOp) {
      ++capped_[op];
      capped_rule_[op] = rule;
      capped_severity_[op] = std::max(capped_severity_[op], s);
      return;
    }
    out_.issues.push_back({s, rule, std::move(message), location, offset});
  }

  static constexpr std::size_t kPerOp = 16;
  Analysis& out_;
  Custom saver_;
  std::set<std::string> saver_ops_;
  std::map<std::string, Custom> custom_;
  std::map<std::string, std::size_t> per_op_, capped_;
  std::map<std::string, std::string> capped_rule_;
  std::map<std::string, Severity> capped_severity_;
};

}  // namespace

bool looks_like_saved_model(ByteView data) {
  bool meta = false;
  const bool shape = pb::all_fields(data, [&](const Field& f) {
    if (f.number == 1 && f.type == WireType::varint) return true;
    if (!is_len(f, 2)) return false;
    bool graph = false;
    const bool mg = pb::all_fields(f.bytes, [&](const Field& m) {
      graph = graph || m.number == 2 || m.number == 7;
      return m.type == WireType::len && m.number <= 7;
    });
    meta = meta || (mg && graph);
    return mg;
  });
  return shape && meta;
}

bool looks_like_keras_metadata(ByteView data) {
  if (data.empty() || data[0] != 0x0A) return false;  // field 1, length-delimited
  pb::Reader r(data);
  Field first;
  auto ok = r.next(first);
  if (!ok || !*ok || !is_len(first, 1)) return false;
  bool keras = false;
  const bool node = pb::all_fields(first.bytes, [&](const Field& f) {
    if (is_len(f, 4)) keras = as_chars(f.bytes).substr(0, 9) == "_tf_keras";
    return f.number >= 2 && f.number <= 6;
  });
  return node && keras;
}

Expected<SavedModel> parse_saved_model(ByteView data, const Limits& limits) {
  SavedModel model;
  Parser p(limits);
  if (auto r = p.saved_model(data, model); !r) return r.error();
  return model;
}

Expected<std::vector<KerasMetadata>> parse_keras_metadata(ByteView data) {
  std::vector<KerasMetadata> out;
  auto r = for_fields(data, 0, [&](const Field& node) -> Expected<void> {
    if (!is_len(node, 1)) return {};
    KerasMetadata k;
    k.offset = node.offset;
    std::string identifier;
    auto inner = for_fields(node.bytes, node.payload_offset, [&](const Field& f) -> Expected<void> {
      if (is_len(f, 3)) k.where = text(f);
      if (is_len(f, 4)) identifier = text(f);
      if (is_len(f, 5)) k.json = std::string(as_chars(f.bytes));
      return {};
    });
    if (!inner) return inner;
    if (k.where.empty()) k.where = identifier;
    if (!k.json.empty()) out.push_back(std::move(k));
    return {};
  });
  if (!r) return r.error();
  return out;
}

Analysis analyse(const SavedModel& model) {
  Analysis out;
  Judge judge(out);
  for (const auto& mg : model.meta_graphs) judge.meta_graph(mg);
  judge.finish();
  return out;
}

}  // namespace mlsc::scan::tf
