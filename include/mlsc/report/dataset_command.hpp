// `mlsc dataset manifest|verify|fetch-verify|diff|croissant`: options (filled in by the CLI
// front end), running them, and their output. Exit codes: 0 success, 1 a verification failed
// (changed/missing/extra files, refused content, Croissant hash mismatch, diff not empty),
// 2 usage or I/O error.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace mlsc::report {

struct DatasetTrustArgs {
  std::string public_key;
  std::string trust_anchor;
  std::string trusted_root;
  std::string identity;
  std::string issuer;
  bool any() const { return !public_key.empty() || !trust_anchor.empty() || !trusted_root.empty(); }
};

struct DatasetArgs {
  // manifest
  std::string dir;
  std::string urls;  // a URL list instead of a directory
  std::string url_column = "url";
  std::string hash_column = "sha256";
  std::string path_column;
  std::string fetch_dir;  // manifest --urls: hash downloaded content; fetch-verify: check it
  std::string key;
  std::vector<std::string> cert_chain;
  std::string output;
  bool write_unsigned = false;  // manifest: write the bare statement; verify: accept one
  std::string name;
  std::string source;
  std::vector<std::string> ignore_paths;
  bool allow_symlinks = false;
  unsigned jobs = 0;
  // verify, fetch-verify, diff
  std::string manifest;
  DatasetTrustArgs trust;
  std::string a;
  std::string b;
  // croissant
  bool write = false;
  std::string format = "text";
};

int run_dataset_manifest(const DatasetArgs& args, std::ostream& out, std::ostream& err);
int run_dataset_verify(const DatasetArgs& args, std::ostream& out, std::ostream& err);
int run_dataset_fetch_verify(const DatasetArgs& args, std::ostream& out, std::ostream& err);
int run_dataset_diff(const DatasetArgs& args, std::ostream& out, std::ostream& err);
int run_dataset_croissant(const DatasetArgs& args, std::ostream& out, std::ostream& err);

}  // namespace mlsc::report
