// `mlsc sign` and `mlsc verify`: their options (filled in by the CLI front end), running them,
// and their output. Exit codes: 0 success, 1 failed verification, 2 usage or I/O error.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlsc/sign/sign.hpp"
#include "mlsc/sign/verifier.hpp"

namespace mlsc::report {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

struct SignArgs {
  std::string model;
  std::string key;
  std::vector<std::string> cert_chain;  // signing certificate first, then intermediates
  std::string signature;                // empty: --reuse's path, else model.sig
  std::string hash = "sha256";
  std::uint64_t shard_size = 0;  // 0: one resource per file; else shard mode
  std::vector<std::string> ignore_paths;
  std::string reuse;
  bool allow_symlinks = false;
  bool progress = false;  // progress lines on the error stream
};

struct VerifyArgs {
  std::string model;
  std::string signature;
  std::string public_key;
  std::string trust_anchor;
  std::string trusted_root;
  std::string identity;
  std::string issuer;
  std::vector<std::string> ignore_paths;
  std::string format = "text";
  bool progress = false;
};

int run_sign(const SignArgs& args, std::ostream& out, std::ostream& err);
int run_verify(const VerifyArgs& args, std::ostream& out, std::ostream& err);

std::string format_sign_text(const sign::SignResult& r, const std::string& model);
std::string format_verify_text(const sign::VerifyResult& r, const std::string& model,
                               const std::string& signature);
nlohmann::ordered_json verify_to_json(const sign::VerifyResult& r, const std::string& model,
                                      const std::string& signature);
int exit_code(const sign::VerifyResult& r);

// "1.5 MB", "812 B": sizes as the reports print them (decimal units).
std::string human_bytes(std::uint64_t bytes);

}  // namespace mlsc::report
