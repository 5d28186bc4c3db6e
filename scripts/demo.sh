#!/usr/bin/env bash
# Builds mlsc and scans a generated example folder of benign and malicious model files.
# Usage: scripts/demo.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}

scripts/install-deps.sh
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMLSC_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target mlsc_cli
examples/make_example.sh "$BUILD/example" >/dev/null
echo "== mlsc scan $BUILD/example ==" >&2
set +e
"$BUILD/mlsc" scan "$BUILD/example"
rc=$?
set -e
echo "(exit code $rc: 0 clean, 1 findings at or above --fail-on, 2 usage or I/O error)" >&2
