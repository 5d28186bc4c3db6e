// A model folder (or one weights file): every file listed and SHA-256 hashed in parallel,
// weight headers summarised, config.json and the README model card read.
#include <algorithm>
#include <array>
#include <set>

#include "file_util.hpp"
#include "mlsc/bom/collect.hpp"
#include "mlsc/bom/sources.hpp"
#include "mlsc/core/mapped_file.hpp"
#include "mlsc/core/text.hpp"
#include "mlsc/sign/hashing.hpp"
#include "sign/hash_parallel.hpp"
#include "text_util.hpp"
#include "toml_json.hpp"

namespace mlsc::bom {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxConfig = 4U << 20;

struct FormatByName {
  std::string_view suffix;
  std::string_view format;
};

constexpr std::array<FormatByName, 17> kWeightSuffixes = {{{".safetensors", "safetensors"},
                                                           {".gguf", "gguf"},
                                                           {".onnx", "onnx"},
                                                           {".pt", "pytorch"},
                                                           {".pth", "pytorch"},
                                                           {".ckpt", "pytorch"},
                                                           {".bin", "pytorch"},
                                                           {".tflite", "tflite"},
                                                           {".keras", "keras"},
                                                           {".h5", "hdf5"},
                                                           {".msgpack", "flax"},
                                                           {".mlmodel", "coreml"},
                                                           {".pb", "tensorflow"},
                                                           {".joblib", "joblib"},
                                                           {".pkl", "pickle"},
                                                           {".npz", "numpy"},
                                                           {".ggml", "ggml"}}};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view format_of(std::string_view file_name) {
  const auto lower = ascii_lower(file_name);
  for (const auto& f : kWeightSuffixes) {
    if (ends_with(lower, f.suffix)) {
      // ".bin" is a PyTorch checkpoint only under the names transformers gives it.
      if (f.suffix == ".bin" && lower.find("pytorch_model") == std::string::npos &&
          lower.find("model") == std::string::npos)
        return {};
      return f.format;
    }
  }
  return {};
}

struct Listing {
  std::vector<fs::path> files;
  std::vector<std::string> notes;
};

bool skipped_dir(const std::string& name) {
  return name == ".git" || name == ".cache" || name == "__pycache__";
}

// Regular files below `dir`, sorted; symlinks followed only into `root`.
Expected<Listing> list_files(const fs::path& dir, const fs::path& root,
                             const CollectOptions& options) {
  Listing out;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  if (ec) return Error(dir.string() + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Error(dir.string() + ": " + ec.message());
    const auto& entry = *it;
    const auto name = entry.path().filename().string();
    if (it.depth() > static_cast<int>(options.max_depth)) {
      it.disable_recursion_pending();
      continue;
    }
    if (entry.is_symlink(ec)) {
      if (!detail::resolves_inside(entry.path(), root)) {
        out.notes.push_back("symlink leaves the model folder, not followed: " +
                            detail::relative_name(entry.path(), dir));
        continue;
      }
      if (fs::is_directory(entry.path(), ec)) {
        out.notes.push_back("symlinked directory not followed: " +
                            detail::relative_name(entry.path(), dir));
        continue;
      }
    }
    if (entry.is_directory(ec)) {
      if (skipped_dir(name)) it.disable_recursion_pending();
      continue;
    }
    if (!entry.is_regular_file(ec)) continue;
    if (out.files.size() >= options.max_model_files)
      return Error(dir.string() + ": more than " + std::to_string(options.max_model_files) +
                   " files");
    out.files.push_back(entry.path());
  }
  std::sort(out.files.begin(), out.files.end());
  return out;
}

Expected<void> hash_files(const std::vector<fs::path>& files, const fs::path& base,
                          const CollectOptions& options, Model& model) {
  std::vector<sign::detail::HashJob> jobs;
  jobs.reserve(files.size());
  for (const auto& f : files) {
    std::error_code ec;
    const auto size = fs::file_size(f, ec);
    if (ec) return Error(f.string() + ": " + ec.message());
    jobs.push_back({&f, size, 0, size});
  }
  auto digests = sign::detail::hash_jobs(jobs, sign::HashType::sha256, options.jobs);
  if (!digests) return digests.error();
  for (std::size_t i = 0; i < files.size(); ++i) {
    model.files.push_back(
        {base == files[i] ? files[i].filename().string() : detail::relative_name(files[i], base),
         jobs[i].file_size, (*digests)[i].hex()});
  }
  return {};
}

Expected<WeightsSummary> summarize_weights(const fs::path& file, std::string_view format) {
  auto mapped = MappedFile::open(file.string());
  if (!mapped) return mapped.error();
  const auto bytes = mapped->bytes();
  if (format == "safetensors") {
    return read_safetensors_header(
        bytes.first(std::min<std::size_t>(bytes.size(), 8 + kSafetensorsMaxHeader)),
        mapped->size());
  }
  return read_gguf_header(bytes.first(std::min<std::size_t>(bytes.size(), kGgufMaxHeader)),
                          mapped->size());
}

// Parameters: safetensors shards add up; several GGUF files in one folder are usually
// alternative quantisations of one model, so the largest count stands for the model.
void add_weights(const WeightsSummary& w, std::uint64_t& safetensors_params,
                 std::uint64_t& gguf_params, std::set<std::string>& dtypes, Model& model) {
  if (w.format == "safetensors") {
    safetensors_params += w.parameters;
  } else {
    gguf_params = std::max(gguf_params, w.parameters);
    if (!w.architecture.empty() && model.model_type.empty()) model.model_type = w.architecture;
  }
  dtypes.insert(w.dtypes.begin(), w.dtypes.end());
}

void read_metadata_files(const std::vector<fs::path>& files, const fs::path& base, Model& model) {
  for (const auto& f : files) {
    if (f.parent_path() != base) continue;  // only the folder's own config and card
    const auto name = ascii_lower(f.filename().string());
    if (name != "config.json" && name != "readme.md") continue;
    auto text = detail::read_text_file(f, name == "config.json" ? kMaxConfig : kMaxTextFile);
    if (!text) {
      model.notes.push_back(text.error().describe());
      continue;
    }
    if (name == "config.json") {
      if (auto r = parse_model_config(*text, model); !r)
        model.notes.push_back("config.json: " + r.error().describe());
    } else if (auto card = parse_model_card(*text)) {
      model.card = std::move(*card);
    } else {
      model.notes.push_back("README.md: " + card.error().describe());
    }
  }
}

// Task from the architecture class name when the card names none (transformers' naming).
std::string task_from_architecture(std::string_view arch) {
  constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kSuffixes = {{
      {"ForSequenceClassification", "text-classification"},
      {"ForTokenClassification", "token-classification"},
      {"ForQuestionAnswering", "question-answering"},
      {"ForCausalLM", "text-generation"},
      {"LMHeadModel", "text-generation"},
      {"ForMaskedLM", "fill-mask"},
      {"ForImageClassification", "image-classification"},
      {"ForObjectDetection", "object-detection"},
      {"ForSpeechSeq2Seq", "automatic-speech-recognition"},
      {"ForSeq2SeqLM", "text2text-generation"},
  }};
  for (const auto& [suffix, task] : kSuffixes)
    if (ends_with(arch, suffix)) return std::string(task);
  return {};
}

}  // namespace

bool is_weights_file_name(std::string_view file_name) {
  return !format_of(file_name).empty();
}

Expected<void> parse_model_config(std::string_view json, Model& model) {
  auto doc = detail::parse_json_bounded(json);
  if (!doc) return doc.error();
  if (!doc->is_object()) return Error::at(0, "config.json is not a JSON object");
  if (auto it = doc->find("architectures"); it != doc->end() && it->is_array()) {
    for (const auto& a : *it) {
      if (a.is_string() && model.architectures.size() < 16)
        model.architectures.push_back(detail::bounded(a.get<std::string>(), 200));
    }
  }
  model.model_type = detail::bounded(detail::json_string(*doc, "model_type"), 200);
  return {};
}

Expected<Model> read_model(const fs::path& path, const fs::path& containment_root,
                           const CollectOptions& options) {
  Model model;
  model.location = path.string();
  std::error_code ec;
  const bool single_file = fs::is_regular_file(path, ec);
  const auto base = single_file ? path.parent_path() : path;
  model.name = fs::absolute(path, ec).lexically_normal().filename().string();
  if (model.name.empty())
    model.name = fs::absolute(path, ec).lexically_normal().parent_path().filename().string();
  Listing listing;
  if (single_file) {
    listing.files.push_back(path);
  } else {
    auto l = list_files(path, containment_root, options);
    if (!l) return l.error();
    listing = std::move(*l);
  }
  model.notes = listing.notes;
  if (auto h = hash_files(listing.files, single_file ? path : base, options, model); !h)
    return h.error();
  read_metadata_files(listing.files, base, model);
  std::set<std::string> formats;
  std::set<std::string> dtypes;
  std::uint64_t safetensors_params = 0;
  std::uint64_t gguf_params = 0;
  for (const auto& f : listing.files) {
    const auto format = format_of(f.filename().string());
    if (format.empty()) continue;
    formats.insert(std::string(format));
    if (format != "safetensors" && format != "gguf") continue;
    auto w = summarize_weights(f, format);
    if (!w) {
      model.notes.push_back(detail::relative_name(f, base) + ": " + w.error().describe());
      continue;
    }
    add_weights(*w, safetensors_params, gguf_params, dtypes, model);
  }
  if (safetensors_params > 0) {
    model.parameters = safetensors_params;
  } else if (gguf_params > 0) {
    model.parameters = gguf_params;
  }
  model.formats.assign(formats.begin(), formats.end());
  model.dtypes.assign(dtypes.begin(), dtypes.end());
  model.task = model.card.pipeline_tag;
  if (model.task.empty() && !model.architectures.empty())
    model.task = task_from_architecture(model.architectures.front());
  return model;
}

}  // namespace mlsc::bom
