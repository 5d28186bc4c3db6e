// Test helper: write tar, 7z and single compressed streams in memory with libarchive, so the
// readers are tested against what a real writer produces.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace mlsc::test {

struct ArchiveFile {
  std::string name{};
  std::string data{};
  unsigned type = AE_IFREG;
  std::string link{};  // symlink target for AE_IFLNK
};

inline la_ssize_t append_to_string(archive*, void* client, const void* buf, size_t n) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

// `setup` picks the format and filters, e.g. archive_write_set_format_pax_restricted.
inline std::string write_archive(const std::function<void(archive*)>& setup,
                                 const std::vector<ArchiveFile>& files) {
  std::string out;
  archive* a = archive_write_new();
  setup(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(a, &out, nullptr, append_to_string, nullptr);
  for (const auto& f : files) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, f.name.c_str());
    archive_entry_set_filetype(e, f.type);
    archive_entry_set_perm(e, 0644);
    if (f.type == AE_IFLNK) archive_entry_set_symlink(e, f.link.c_str());
    archive_entry_set_size(e, f.type == AE_IFREG ? static_cast<la_int64_t>(f.data.size()) : 0);
    archive_write_header(a, e);
    if (f.type == AE_IFREG) archive_write_data(a, f.data.data(), f.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

inline std::string write_tar(const std::vector<ArchiveFile>& files) {
  return write_archive([](archive* a) { archive_write_set_format_pax_restricted(a); }, files);
}

// One stream through a libarchive filter (archive_write_add_filter_xz, ...).
inline std::string compress(int (*add_filter)(archive*), const std::string& data) {
  return write_archive(
      [add_filter](archive* a) {
        archive_write_set_format_raw(a);
        add_filter(a);
      },
      {{"data", data}});
}

inline std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

}  // namespace mlsc::test
