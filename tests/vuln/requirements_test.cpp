// Requirements files and the inventory readers (requirements, CycloneDX, SPDX 2 and 3, core
// metadata, environment folders).
#include "mlsc/vuln/requirements.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "mlsc/vuln/inventory.hpp"
#include "mlsc/vuln/package_name.hpp"

namespace mlsc::vuln {
namespace {

namespace fs = std::filesystem;

TEST(PackageName, Pep503AndPurl) {
  EXPECT_EQ(normalize_name("Foo__Bar.baz"), "foo-bar-baz");
  EXPECT_EQ(normalize_name("PyYAML"), "pyyaml");
  EXPECT_EQ(normalize_name("a-_-.b"), "a-b");
  EXPECT_TRUE(is_valid_name("zope.interface"));
  EXPECT_FALSE(is_valid_name("-lead"));
  EXPECT_FALSE(is_valid_name("trail."));
  EXPECT_FALSE(is_valid_name("sp ace"));
  const auto p = parse_purl("pkg:pypi/Django@4.2.1?repository_url=x#sub/dir");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->type, "pypi");
  EXPECT_EQ(p->name, "Django");
  EXPECT_EQ(p->version, "4.2.1");
  const auto local = parse_purl("pkg:pypi/torch@1.13.0%2Bcu117");
  ASSERT_TRUE(local.has_value());
  EXPECT_EQ(local->version, "1.13.0+cu117");
  EXPECT_EQ(parse_purl("pkg:conda/main/numpy@1.0")->namespace_, "main");
  EXPECT_FALSE(parse_purl("pypi/x@1").has_value());
  EXPECT_FALSE(parse_purl("pkg:pypi/").has_value());
}

TEST(Requirements, LinesOptionsAndHashes) {
  const std::string text =
      "# comment\n"
      "--index-url https://pypi.acme.internal/simple\n"
      "--extra-index-url=https://pypi.org/simple\n"
      "-i https://other.example/simple  # trailing comment\n"
      "PyYAML==5.3 \\\n"
      "    --hash=sha256:aaaa \\\n"
      "    --hash sha256:bbbb\n"
      "requests[security,socks] >=2.0, <3 ; python_version >= \"3.8\"\n"
      "pkg @ https://example.invalid/pkg-1.0.tar.gz#sha256=abc ; os_name == 'posix'\n"
      "-e git+https://example.invalid/repo.git#egg=editable_pkg\n"
      "./local/path#egg=localpkg\n"
      "-r other.txt\n"
      "--require-hashes\n"
      "torch===1.13.0a0+gitunknown\n"
      "this is not a requirement\n"
      "--no-such-option\n";
  const auto f = parse_requirements(text);
  ASSERT_EQ(f.index_options.size(), 3U);
  EXPECT_EQ(f.index_options[0].kind, IndexOption::Kind::index_url);
  EXPECT_EQ(f.index_options[0].line, 2U);
  EXPECT_EQ(f.index_options[1].kind, IndexOption::Kind::extra_index_url);
  EXPECT_EQ(f.index_options[1].url, "https://pypi.org/simple");
  EXPECT_EQ(f.index_options[2].url, "https://other.example/simple");
  EXPECT_TRUE(f.require_hashes);
  EXPECT_EQ(f.includes, (std::vector<std::string>{"other.txt"}));
  ASSERT_EQ(f.requirements.size(), 6U);
  const auto& yaml = f.requirements[0];
  EXPECT_EQ(yaml.name, "PyYAML");
  EXPECT_EQ(yaml.line, 5U);
  EXPECT_EQ(yaml.pinned_version(), "5.3");
  EXPECT_EQ(yaml.hashes, (std::vector<std::string>{"sha256:aaaa", "sha256:bbbb"}));
  const auto& req = f.requirements[1];
  EXPECT_EQ(req.extras, (std::vector<std::string>{"security", "socks"}));
  EXPECT_EQ(req.specifier.str(), ">=2.0,<3");
  EXPECT_EQ(req.marker, "python_version >= \"3.8\"");
  EXPECT_FALSE(req.pinned_version().has_value());
  EXPECT_EQ(f.requirements[2].url, "https://example.invalid/pkg-1.0.tar.gz#sha256=abc");
  EXPECT_EQ(f.requirements[2].marker, "os_name == 'posix'");
  EXPECT_TRUE(f.requirements[3].editable);
  EXPECT_EQ(f.requirements[3].name, "editable_pkg");
  EXPECT_EQ(f.requirements[4].name, "localpkg");
  EXPECT_EQ(f.requirements[5].pinned_version(), "1.13.0a0+gitunknown");
  ASSERT_EQ(f.problems.size(), 2U);
  EXPECT_EQ(f.problems[0].line, 15U);
  EXPECT_EQ(f.problems[1].line, 16U);
}

TEST(Requirements, SingleRequirementErrors) {
  EXPECT_FALSE(parse_requirement("").has_value());
  EXPECT_FALSE(parse_requirement("name[unclosed").has_value());
  EXPECT_FALSE(parse_requirement("name >=").has_value());
  EXPECT_FALSE(parse_requirement("name @").has_value());
  EXPECT_TRUE(parse_requirement("name (>=1.0)").has_value());
}

TEST(Inventory, RequirementsList) {
  const auto inv =
      inventory_from_requirements("a==1.0\nb>=2\nc @ https://x.invalid/c.whl\n", "r.txt");
  EXPECT_EQ(inv.kind, "requirements");
  ASSERT_EQ(inv.packages.size(), 3U);
  EXPECT_EQ(inv.packages[0].version, "1.0");
  EXPECT_EQ(inv.packages[0].purl, "pkg:pypi/a@1.0");
  EXPECT_EQ(inv.packages[0].location, "r.txt:1");
  EXPECT_EQ(inv.packages[1].specifier, ">=2");
  EXPECT_EQ(inv.packages[2].specifier, "@ https://x.invalid/c.whl");
}

TEST(Inventory, CycloneDxAndSpdx) {
  const auto cdx = inventory_from_bom_json(R"({"bomFormat": "CycloneDX", "specVersion": "1.6",
    "metadata": {"component": {"type": "application", "name": "app", "purl": "pkg:pypi/app@0.1"}},
    "components": [
      {"type": "library", "name": "PyYAML", "version": "5.3", "purl": "pkg:pypi/pyyaml@5.3"},
      {"type": "library", "name": "left-pad", "purl": "pkg:npm/left-pad@1.0.0"},
      {"type": "library", "name": "outer", "purl": "pkg:pypi/outer", "version": "2.0",
       "components": [{"name": "inner", "purl": "pkg:pypi/inner@3.0"}]},
      {"type": "library", "name": "bad", "purl": "not a purl"}]})",
                                           "bom.json");
  EXPECT_EQ(cdx.kind, "cyclonedx");
  ASSERT_EQ(cdx.packages.size(), 4U);
  EXPECT_EQ(cdx.packages[0].name, "app");
  EXPECT_EQ(cdx.packages[1].version, "5.3");
  EXPECT_EQ(cdx.packages[2].version, "2.0");  // from the version field
  EXPECT_EQ(cdx.packages[3].name, "inner");
  EXPECT_EQ(cdx.warnings.size(), 1U);

  const auto spdx2 = inventory_from_bom_json(R"({"spdxVersion": "SPDX-2.3", "packages": [
    {"SPDXID": "SPDXRef-1", "name": "requests", "versionInfo": "2.0.0",
     "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                       "referenceLocator": "pkg:pypi/requests@2.0.0"}]}]})",
                                             "sbom.spdx.json");
  EXPECT_EQ(spdx2.kind, "spdx");
  ASSERT_EQ(spdx2.packages.size(), 1U);
  EXPECT_EQ(spdx2.packages[0].version, "2.0.0");

  const auto spdx3 =
      inventory_from_bom_json(R"({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld",
    "@graph": [{"type": "software_Package", "spdxId": "urn:x:1", "name": "numpy",
                "software_packageVersion": "1.24.2", "software_packageUrl": "pkg:pypi/numpy@1.24.2"},
               {"type": "software_Package", "spdxId": "urn:x:2", "name": "scipy",
                "externalIdentifier": [{"type": "ExternalIdentifier",
                  "externalIdentifierType": "packageUrl", "identifier": "pkg:pypi/scipy@1.10.1"}]}]})",
                              "sbom.spdx3.json");
  ASSERT_EQ(spdx3.packages.size(), 2U);
  EXPECT_EQ(spdx3.packages[1].version, "1.10.1");

  const auto other = inventory_from_bom_json(R"({"hello": 1})", "x.json");
  EXPECT_EQ(other.kind, "unknown");
  EXPECT_TRUE(other.packages.empty());
}

TEST(Inventory, CoreMetadataAndEnvironmentFolder) {
  const auto meta = parse_core_metadata(
      "Metadata-Version: 2.1\r\nName: PyYAML\r\nVersion: 6.0\r\nSummary: x\r\n\r\nName: body\n");
  EXPECT_EQ(meta.name, "PyYAML");
  EXPECT_EQ(meta.version, "6.0");

  const fs::path root = fs::temp_directory_path() / "mlsc_inventory_env_test";
  fs::remove_all(root);
  fs::create_directories(root / "lib/python3.11/site-packages/PyYAML-6.0.dist-info");
  fs::create_directories(root / "lib/python3.11/site-packages/requests-2.28.1.egg-info");
  fs::create_directories(root / "lib/python3.11/site-packages/broken-1.0.dist-info");
  std::ofstream(root / "lib/python3.11/site-packages/PyYAML-6.0.dist-info/METADATA")
      << "Name: PyYAML\nVersion: 6.0\n";
  std::ofstream(root / "lib/python3.11/site-packages/requests-2.28.1.egg-info/PKG-INFO")
      << "Name: requests\nVersion: 2.28.1\n";
  std::ofstream(root / "lib/python3.11/site-packages/six-1.16.0.egg-info")
      << "Name: six\nVersion: 1.16.0\n";
  std::ofstream(root / "lib/python3.11/site-packages/broken-1.0.dist-info/METADATA") << "junk\n";
  const auto inv = read_inventory(root.string());
  ASSERT_TRUE(inv.has_value());
  EXPECT_EQ(inv->kind, "environment");
  ASSERT_EQ(inv->packages.size(), 3U);
  EXPECT_EQ(inv->packages[0].name, "PyYAML");
  EXPECT_EQ(inv->packages[1].name, "requests");
  EXPECT_EQ(inv->packages[2].version, "1.16.0");
  EXPECT_EQ(inv->warnings.size(), 1U);
  fs::remove_all(root);
  EXPECT_FALSE(read_inventory(root.string()).has_value());
}

}  // namespace
}  // namespace mlsc::vuln
