#!/usr/bin/env bash
# Installs the Debian 12 packages mlsc needs to build, test and fuzz. Idempotent: does nothing
# when everything is already installed.
set -euo pipefail

BUILD_PKGS=(build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  libssl-dev nlohmann-json3-dev libcli11-dev libfmt-dev libyaml-cpp-dev libtomlplusplus-dev
  libtbb-dev libarchive-dev zlib1g-dev libbz2-dev liblzma-dev libgtest-dev libgmock-dev
  libhdf5-dev libonnx-dev libprotobuf-dev libsqlite3-dev libpq-dev libgit2-dev)
# Real producers for test fixtures, and tools the tests and benchmarks call.
# node/npm are optional: tests/integration/test_onnx.py uses them, when present, to fetch public
# ONNX models and onnxruntime-web from the npm registry, and skips that part otherwise.
# python3-yaml and python3-pkg-resources (packaging 21.3): the reference side of test_deps.py.
TEST_PKGS=(python3 python3-numpy python3-torch python3-joblib python3-sklearn python3-onnx
  python3-jinja2 p7zip-full time openssl python3-cryptography python3-h5py python3-protobuf
  python3-jsonschema python3-yaml python3-pkg-resources postgresql git)

want=("${BUILD_PKGS[@]}")
if [[ "${1:-}" != "--build-only" ]]; then want+=("${TEST_PKGS[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then exit 0; fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
echo "mlsc: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
