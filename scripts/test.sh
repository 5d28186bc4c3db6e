#!/usr/bin/env bash
# Builds and runs every test: unit and end-to-end tests (ctest), the same tests under
# AddressSanitizer + UndefinedBehaviorSanitizer, and a short libFuzzer run of every parser.
# Usage: scripts/test.sh            (everything; what CI runs)
#        MLSC_QUICK=1 scripts/test.sh   (only the plain build and ctest)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}

scripts/install-deps.sh

echo "== build and test (Release, -Werror) ==" >&2
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMLSC_WERROR=ON >/dev/null
cmake --build build -j "$JOBS"
ctest --test-dir build --output-on-failure -j "$JOBS"

if [[ -n "${MLSC_QUICK:-}" ]]; then exit 0; fi

echo "== build and test with ASan + UBSan ==" >&2
CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DMLSC_WERROR=ON -DMLSC_SANITIZE=ON -DMLSC_FUZZ=ON >/dev/null
cmake --build build-asan -j "$JOBS"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$JOBS"

echo "== fuzz each parser for ${FUZZ_SECONDS}s ==" >&2
for fuzzer in build-asan/fuzz/*_fuzz; do
  name=$(basename "$fuzzer")
  corpus=build-asan/fuzz-corpus/$name
  mkdir -p "$corpus"
  # Seeds: the shared labelled corpora (read in place, never copied into the repo).
  seeds=()
  for d in ../shared/corpora/picklescan/files ../shared/corpora/modelaudit/files; do
    [[ -d "$d" ]] && seeds+=("$d")
  done
  "$fuzzer" -max_total_time="$FUZZ_SECONDS" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$corpus" "${seeds[@]}" 2>&1 | tail -n 12
done
echo "== all tests passed ==" >&2
