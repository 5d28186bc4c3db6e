// Croissant metadata: finding the FileObjects of `distribution`, matching them to manifest
// entries, checking and filling their hashes.
#include "mlsc/dataset/croissant.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <system_error>

#include "mlsc/core/mapped_file.hpp"
#include "mlsc/dataset/url_list.hpp"
#include "mlsc/sign/bundle.hpp"
#include "mlsc/sign/hashing.hpp"
#include "mlsc/sign/manifest.hpp"

namespace mlsc::dataset {

namespace {

using ojson = nlohmann::ordered_json;
constexpr std::string_view kCroissantNamespace = "mlcommons.org/croissant";

template <class J>
bool names_croissant(const J& v) {
  if (v.is_string()) return v.template get<std::string>().find(kCroissantNamespace) != std::string::npos;
  if (v.is_array() || v.is_object()) {
    return std::any_of(v.begin(), v.end(), [](const J& e) { return e.is_string() && names_croissant(e); });
  }
  return false;
}

template <class J>
bool croissant_doc(const J& doc) {
  if (!doc.is_object()) return false;
  auto ctx = doc.find("@context");
  if (ctx != doc.end()) {
    if (names_croissant(*ctx)) return true;
    if (ctx->is_array()) {
      for (const auto& e : *ctx) {
        if (names_croissant(e)) return true;
      }
    }
  }
  auto conforms = doc.find("conformsTo");
  return conforms != doc.end() && names_croissant(*conforms);
}

bool is_file_object(const ojson& entry) {
  auto type = entry.find("@type");
  if (type == entry.end()) return false;
  auto matches = [](const ojson& t) {
    return t.is_string() && t.get<std::string>().ends_with("FileObject");
  };
  if (type->is_array()) return std::any_of(type->begin(), type->end(), matches);
  return matches(*type);
}

Expected<std::string> text_of(const ojson& entry, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    auto it = entry.find(key);
    if (it == entry.end() || it->is_null()) continue;
    if (!it->is_string()) return Error{std::string("'") + key + "' is not a string"};
    return it->get<std::string>();
  }
  return std::string();
}

std::optional<std::string> normalize_md5(std::string_view text) {
  if (text.size() != 32) return std::nullopt;
  std::string out(text);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  return out;
}

Expected<CroissantFile> file_of(const ojson& entry, std::string pointer) {
  CroissantFile f;
  f.pointer = std::move(pointer);
  auto id = text_of(entry, {"@id"});
  auto name = text_of(entry, {"name", "sc:name"});
  auto url = text_of(entry, {"contentUrl", "sc:contentUrl"});
  auto sha = text_of(entry, {"sha256", "sc:sha256"});
  auto md5 = text_of(entry, {"md5", "cr:md5"});
  for (auto* e : {&id, &name, &url, &sha, &md5}) {
    if (!*e) return Error{f.pointer + ": " + e->error().message};
  }
  f.id = *id;
  f.name = *name;
  f.content_url = *url;
  if (!sha->empty()) {
    auto n = normalize_sha256_hex(*sha);
    if (!n) return Error{f.pointer + ": sha256 is not 64 hex digits"};
    f.sha256 = *n;
  }
  if (!md5->empty()) {
    auto n = normalize_md5(*md5);
    if (!n) return Error{f.pointer + ": md5 is not 32 hex digits"};
    f.md5 = *n;
  }
  f.contained = entry.contains("containedIn");
  return f;
}

std::string label(const CroissantFile& f) {
  return "FileObject '" + (f.name.empty() ? f.id.empty() ? f.pointer : f.id : f.name) + "'";
}

bool is_url(std::string_view s) { return s.find("://") != std::string_view::npos; }

struct EvpFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct FileClose {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

bool is_croissant(const nlohmann::json& doc) { return croissant_doc(doc); }

Expected<CroissantDoc> parse_croissant(std::string_view text) {
  if (text.size() > kMaxCroissantBytes) return Error{"Croissant metadata larger than 64 MiB"};
  if (sign::json_nesting_exceeds(text, kMaxCroissantDepth)) return Error{"Croissant metadata nested too deeply"};
  CroissantDoc doc;
  doc.document = ojson::parse(text, nullptr, false);
  if (doc.document.is_discarded()) return Error{"Croissant metadata is not valid JSON"};
  if (!croissant_doc(doc.document)) return Error{"not Croissant metadata (no mlcommons.org/croissant context)"};
  auto dist = doc.document.find("distribution");
  if (dist == doc.document.end()) return doc;
  if (dist->is_object()) {
    if (is_file_object(*dist)) {
      auto f = file_of(*dist, "/distribution");
      if (!f) return f.error();
      doc.files.push_back(std::move(*f));
    }
    return doc;
  }
  if (!dist->is_array()) return Error{"distribution is neither an array nor an object"};
  for (std::size_t i = 0; i < dist->size(); ++i) {
    const ojson& entry = (*dist)[i];
    if (!entry.is_object()) return Error{"/distribution/" + std::to_string(i) + " is not an object"};
    if (!is_file_object(entry)) continue;
    auto f = file_of(entry, "/distribution/" + std::to_string(i));
    if (!f) return f.error();
    doc.files.push_back(std::move(*f));
  }
  return doc;
}

std::optional<std::filesystem::path> find_croissant(const std::filesystem::path& dir) {
  for (const auto name : kCroissantNames) {
    const auto file = dir / name;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(file, ec))) continue;
    if (std::filesystem::file_size(file, ec) > kMaxCroissantBytes || ec) continue;
    auto mapped = MappedFile::open(file.string());
    if (!mapped) continue;
    const auto text = as_chars(mapped->bytes());
    if (sign::json_nesting_exceeds(text, kMaxCroissantDepth)) continue;
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (croissant_doc(j)) return file;
  }
  return std::nullopt;
}

std::vector<CroissantMatch> match_files(const CroissantDoc& doc, const DatasetManifest& m) {
  auto local_named = [&m](std::string_view path) -> const DatasetFile* {
    auto it = std::lower_bound(m.files.begin(), m.files.end(), path,
                               [](const DatasetFile& f, std::string_view p) { return f.path < p; });
    return it != m.files.end() && it->path == path ? &*it : nullptr;
  };
  std::vector<CroissantMatch> out;
  for (const auto& f : doc.files) {
    CroissantMatch match{&f, nullptr, nullptr};
    if (!f.contained) {
      if (!is_url(f.content_url)) {
        if (auto p = sign::canonical_relative_path(f.content_url)) match.local = local_named(*p);
      } else {
        auto r = std::find_if(m.records.begin(), m.records.end(),
                              [&f](const DatasetRecord& rec) { return rec.url == f.content_url; });
        if (r != m.records.end()) match.record = &*r;
        if (!match.record && !f.name.empty()) match.local = local_named(f.name);
      }
    }
    out.push_back(match);
  }
  return out;
}

std::vector<std::string> check_croissant(const CroissantDoc& doc, const DatasetManifest& m,
                                         const std::filesystem::path& root) {
  std::vector<std::string> errors;
  for (const auto& match : match_files(doc, m)) {
    const CroissantFile& f = *match.file;
    if (f.contained) continue;  // inside an archive: no file of its own to compare
    if (!match.local && !match.record) {
      if (!is_url(f.content_url) && (!f.sha256.empty() || !f.md5.empty())) {
        errors.push_back(label(f) + ": contentUrl '" + f.content_url + "' is not a file of the dataset");
      }
      continue;
    }
    const std::string& actual = match.local ? match.local->sha256 : match.record->sha256;
    const std::string where = match.local ? match.local->path : match.record->url;
    if (!f.sha256.empty() && f.sha256 != actual) {
      errors.push_back(label(f) + ": sha256 " + f.sha256 + " but " + where + " has " + actual);
    }
    if (f.md5.empty() || !match.local) continue;
    auto md5 = md5_file(root / match.local->path);
    if (!md5) {
      errors.push_back(label(f) + ": md5 not checked: " + md5.error().describe());
    } else if (*md5 != f.md5) {
      errors.push_back(label(f) + ": md5 " + f.md5 + " but " + where + " has " + *md5);
    }
  }
  return errors;
}

Expected<CroissantUpdate> update_croissant(const CroissantDoc& doc, const DatasetManifest& m,
                                           const std::filesystem::path& root) {
  CroissantUpdate u;
  u.document = doc.document;
  for (const auto& match : match_files(doc, m)) {
    const CroissantFile& f = *match.file;
    if (!match.local && !match.record) {
      u.unmatched.push_back(label(f));
      continue;
    }
    ojson& entry = u.document[ojson::json_pointer(f.pointer)];
    const std::string& sha = match.local ? match.local->sha256 : match.record->sha256;
    if (f.sha256.empty()) ++u.filled;
    else if (f.sha256 != sha) ++u.updated;
    entry["sha256"] = sha;
    if (!f.md5.empty() && match.local) {
      auto md5 = md5_file(root / match.local->path);
      if (!md5) return md5.error();
      entry[entry.contains("md5") ? "md5" : "cr:md5"] = *md5;
    }
  }
  return u;
}

Expected<std::string> md5_file(const std::filesystem::path& file) {
  std::unique_ptr<std::FILE, FileClose> in(std::fopen(file.c_str(), "rb"));
  if (!in) return Error{file.string() + ": cannot open"};
  std::unique_ptr<EVP_MD_CTX, EvpFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr) != 1) return Error{"MD5 is not available"};
  std::vector<unsigned char> buf(1 << 20);
  for (;;) {
    const std::size_t n = std::fread(buf.data(), 1, buf.size(), in.get());
    if (n > 0 && EVP_DigestUpdate(ctx.get(), buf.data(), n) != 1) return Error{"MD5 update failed"};
    if (n < buf.size()) break;
  }
  if (std::ferror(in.get()) != 0) return Error{file.string() + ": read error"};
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out, &len) != 1) return Error{"MD5 final failed"};
  return sign::Digest::of(ByteView(out, len)).hex();
}

}  // namespace mlsc::dataset
