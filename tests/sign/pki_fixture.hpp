// Keys and certificates made at test time with the openssl command line (as an operator would
// make them), for the signing tests: every curve and Ed25519, and a small PKI with a root, a
// current and an expired intermediate, and leaves that are good, expired, or not for signing.
#pragma once

#include <cstdlib>
#include <string>

#include "sign_test_util.hpp"

namespace mlsc::sign::testing {

inline bool run_quiet(const std::string& cmd) {
  return std::system(("(" + cmd + ") >/dev/null 2>&1").c_str()) == 0;
}

// A private key file in PEM for "P-256", "P-384", "P-521" or "ED25519".
inline fs::path make_key(const fs::path& dir, const std::string& curve, const std::string& name) {
  const fs::path key = dir / (name + ".key");
  const std::string alg = curve == "ED25519" ? "-algorithm ED25519"
                                             : "-algorithm EC -pkeyopt ec_paramgen_curve:" + curve;
  EXPECT_TRUE(run_quiet("openssl genpkey " + alg + " -out '" + key.string() + "'")) << curve;
  return key;
}

inline fs::path public_key_of(const fs::path& key) {
  fs::path pub = key;
  pub.replace_extension(".pub");
  EXPECT_TRUE(
      run_quiet("openssl pkey -in '" + key.string() + "' -pubout -out '" + pub.string() + "'"));
  return pub;
}

// openssl ca with a throwaway database, so certificates can carry any validity period.
class TestPki {
 public:
  explicit TestPki(const fs::path& dir) : dir_(dir) {
    write_file(dir_ / "index.txt", "");
    write_file(dir_ / "serial", "1000\n");
    write_file(dir_ / "ca.cnf", kConfig);
    root = make_ca("root", "", "20190101000000Z", "20400101000000Z");
    intermediate = make_ca("intermediate", "root", "20190101000000Z", "20400101000000Z");
    old_intermediate = make_ca("old-intermediate", "root", "20190101000000Z", "20200101000000Z");
    other_root = make_ca("other-root", "", "20190101000000Z", "20400101000000Z");
  }

  // A P-256 leaf: its key and certificate paths. `extensions` names a section of kConfig.
  struct Leaf {
    fs::path key;
    fs::path cert;
  };
  Leaf leaf(const std::string& name, const std::string& issuer, const std::string& extensions,
            const std::string& start, const std::string& end) {
    Leaf l{make_key(dir_, "P-256", name), dir_ / (name + ".pem")};
    issue(name, l.key, issuer, extensions, start, end);
    return l;
  }

  fs::path cert(const std::string& name) const { return dir_ / (name + ".pem"); }

  fs::path root, intermediate, old_intermediate, other_root;

 private:
  static constexpr const char* kConfig = R"([ca]
default_ca = ca_default
[ca_default]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = policy_any
unique_subject = no
[policy_any]
commonName = supplied
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[code_signing]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
[tls_server]
basicConstraints = CA:FALSE
keyUsage = critical,keyEncipherment
extendedKeyUsage = serverAuth
)";

  fs::path make_ca(const std::string& name, const std::string& issuer, const std::string& start,
                   const std::string& end) {
    issue(name, make_key(dir_, "P-256", name), issuer, "ca_ext", start, end);
    return cert(name);
  }

  void issue(const std::string& name, const fs::path& key, const std::string& issuer,
             const std::string& extensions, const std::string& start, const std::string& end) {
    const std::string csr = (dir_ / (name + ".csr")).string();
    const std::string signer = issuer.empty() ? "-selfsign -keyfile '" + key.string() + "'"
                                              : "-cert '" + cert(issuer).string() + "' -keyfile '" +
                                                    (dir_ / (issuer + ".key")).string() + "'";
    const std::string cd = "cd '" + dir_.string() + "' && ";
    EXPECT_TRUE(run_quiet(cd + "openssl req -new -key '" + key.string() + "' -subj /CN=" + name +
                          " -out '" + csr + "'"));
    EXPECT_TRUE(run_quiet(cd + "openssl ca -batch -notext -config ca.cnf " + signer + " -in '" +
                          csr + "' -out '" + cert(name).string() + "' -startdate " + start +
                          " -enddate " + end + " -extensions " + extensions))
        << name;
  }

  fs::path dir_;
};

}  // namespace mlsc::sign::testing
