#!/usr/bin/env bash
# Model-signing hash throughput: `mlsc sign` and its hash engine (sha256, blake2b, blake3) on a
# generated model directory (8 GB by default: a few large weight shards and many small files),
# against sha256sum over the same files and against the machine's ceiling for the same digest
# (openssl speed on one core, times the number of cores).
#
# Usage: bench/hash_bench.sh
#   HASH_BENCH_GB=8        size of the generated directory in GB (10^9 bytes), 1..8
#   HASH_BENCH_DIR=/tmp/mlsc-hash-bench-<GB>G   where it is generated (kept for re-runs)
#   MLSC_HASH_BENCH=build/mlsc_hash_bench      the bench binary (built if missing)
#   MLSC=<dir of the bench binary>/mlsc        the CLI, for the end-to-end `mlsc sign` rows
#   HASH_BENCH_REPEAT=3    runs per measurement; the best is reported
# Everything is measured warm (the tree is read into the page cache first): this measures
# hashing, not the disk.
set -euo pipefail
cd "$(dirname "$0")/.."

GB=${HASH_BENCH_GB:-8}
if ! [[ "$GB" =~ ^[0-9]+$ ]] || (( GB < 1 || GB > 8 )); then
  echo "HASH_BENCH_GB must be 1..8" >&2
  exit 2
fi
DIR=${HASH_BENCH_DIR:-/tmp/mlsc-hash-bench-${GB}G}
BIN=${MLSC_HASH_BENCH:-build/mlsc_hash_bench}
MLSC=${MLSC:-$(dirname "$BIN")/mlsc}
REPEAT=${HASH_BENCH_REPEAT:-3}
CORES=$(nproc)

if [[ ! -x "$BIN" || ! -x "$MLSC" ]]; then
  echo "== building $BIN and $MLSC ==" >&2
  cmake --build "$(dirname "$BIN")" --target mlsc_hash_bench mlsc_cli >&2
fi

bench/hash_make_tree.sh "$DIR" "$GB" >&2

echo "== warming the page cache ==" >&2
find "$DIR" -type f -print0 | xargs -0 cat >/dev/null
BYTES=$(find "$DIR" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
FILES=$(find "$DIR" -type f | wc -l)

gbps() { awk -v b="$1" -v s="$2" 'BEGIN {printf "%.2f", b / s / 1e9}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

# "wall cpu" seconds of the fastest of $REPEAT runs (cpu: user + system of all processes).
best_time() {
  local best="" line
  for _ in $(seq "$REPEAT"); do
    line=$( { /usr/bin/time -f '%e %U %S' "$@" >/dev/null; } 2>&1 | tail -n 1)
    line=$(awk '{printf "%s %.3f", $1, $2 + $3}' <<<"$line")
    if [[ -z "$best" ]] || awk -v s="${line%% *}" -v b="${best%% *}" 'BEGIN {exit !(s < b)}'; then best=$line; fi
  done
  echo "$best"
}

# openssl speed prints "<name> ... <k/s for the last size>"; k is 1000 bytes.
openssl_gbps() {
  openssl speed "$@" 2>/dev/null | awk '/^(sha256|blake2b512) / {v = $NF} END {sub(/k$/, "", v); printf "%.3f", v * 1000 / 1e9}'
}

echo "== single-core digest speed (in memory) ==" >&2
"$BIN" --micro

echo "== mlsc hash engine: $FILES files, $BYTES bytes, $CORES cores, load average $(cut -d' ' -f1-3 /proc/loadavg) ==" >&2
OURS=$("$BIN" --hash all --repeat "$REPEAT" "$DIR")
echo "$OURS"
ours() { echo "$OURS" | awk -v h="$1" -v f="$2" '$1 == h {print $f}'; }  # f=7: GB/s, f=12: GB/cpu-s

echo "== sha256sum over the same files ==" >&2
read -r one_wall one_cpu <<<"$(best_time sh -c "find '$DIR' -type f -print0 | xargs -0 sha256sum")"
read -r all_wall all_cpu <<<"$(best_time sh -c "find '$DIR' -type f -print0 | xargs -0 -P $CORES -n 64 sha256sum")"
sum_one=$(gbps "$BYTES" "$one_wall")
sum_all=$(gbps "$BYTES" "$all_wall")
sum_cpu=$(gbps "$BYTES" "$all_cpu")
echo "sha256sum (1 process)       ${sum_one} GB/s"
echo "sha256sum (xargs -P $CORES)     ${sum_all} GB/s   ${sum_cpu} GB/cpu-s"

echo "== ceiling: openssl speed -seconds 3 -bytes 1048576 ==" >&2
sha_core=$(openssl_gbps -seconds 3 -bytes 1048576 sha256)
b2_core=$(openssl_gbps -seconds 3 -bytes 1048576 -evp blake2b512)
sha_multi=$(openssl_gbps -seconds 3 -bytes 1048576 -multi "$CORES" sha256)
sha_ceiling=$(awk -v g="$sha_core" -v c="$CORES" 'BEGIN {printf "%.2f", g * c}')
b2_ceiling=$(awk -v g="$b2_core" -v c="$CORES" 'BEGIN {printf "%.2f", g * c}')
echo "openssl sha256     1 core ${sha_core} GB/s x $CORES = ${sha_ceiling} GB/s (all $CORES at once, -multi: ${sha_multi} GB/s)"
echo "openssl blake2b512 1 core ${b2_core} GB/s x $CORES = ${b2_ceiling} GB/s"

echo "== mlsc sign end to end (walk, hash, sign, write model.sig outside the tree) ==" >&2
SIGN_DIR=$(mktemp -d)
trap 'rm -rf "$SIGN_DIR"' EXIT
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$SIGN_DIR/bench.key" 2>/dev/null
declare -A SIGN_WALL SIGN_CPU
for h in sha256 blake2b blake3; do
  read -r wall cpu <<<"$(best_time "$MLSC" sign "$DIR" --key "$SIGN_DIR/bench.key" --signature "$SIGN_DIR/model.sig" --hash "$h")"
  SIGN_WALL[$h]=$(gbps "$BYTES" "$wall")
  SIGN_CPU[$h]=$(gbps "$BYTES" "$cpu")
  echo "mlsc sign --hash $h: $wall s, ${SIGN_WALL[$h]} GB/s wall, ${SIGN_CPU[$h]} GB/cpu-s"
done

echo "== summary: ${GB} GB tree ($FILES files), warm cache, $CORES cores, load average $(cut -d' ' -f1-3 /proc/loadavg) =="
echo "(wall: GB/s of elapsed time; per core: GB per CPU-second, which neighbours on a shared machine do not distort)"
row() {  # name wall-GB/s cpu-GB/s text
  printf '%-14s %6s GB/s wall  %6s GB/cpu-s  %s\n' "$1" "$2" "$3" "$4"
}
vs_sum() { echo "$(ratio "$1" "$sum_all") x parallel sha256sum, $(ratio "$1" "$sum_one") x sha256sum"; }
row "engine sha256" "$(ours sha256 7)" "$(ours sha256 12)" \
  "wall $(ratio "$(ours sha256 7)" "$sha_ceiling") x openssl x cores; per core $(ratio "$(ours sha256 12)" "$sha_core") x openssl 1 core; $(vs_sum "$(ours sha256 7)")"
row "engine blake2b" "$(ours blake2b 7)" "$(ours blake2b 12)" \
  "wall $(ratio "$(ours blake2b 7)" "$b2_ceiling") x openssl x cores; per core $(ratio "$(ours blake2b 12)" "$b2_core") x openssl 1 core; $(vs_sum "$(ours blake2b 7)")"
row "engine blake3" "$(ours blake3 7)" "$(ours blake3 12)" \
  "wall $(ratio "$(ours blake3 7)" "$(ours sha256 7)") x our sha256 (per core $(ratio "$(ours blake3 12)" "$(ours sha256 12)") x); $(vs_sum "$(ours blake3 7)")"
row "sign sha256" "${SIGN_WALL[sha256]}" "${SIGN_CPU[sha256]}" \
  "wall $(ratio "${SIGN_WALL[sha256]}" "$sha_ceiling") x openssl x cores; per core $(ratio "${SIGN_CPU[sha256]}" "$sha_core") x openssl 1 core; $(vs_sum "${SIGN_WALL[sha256]}")"
row "sign blake2b" "${SIGN_WALL[blake2b]}" "${SIGN_CPU[blake2b]}" \
  "wall $(ratio "${SIGN_WALL[blake2b]}" "$b2_ceiling") x openssl x cores; per core $(ratio "${SIGN_CPU[blake2b]}" "$b2_core") x openssl 1 core; $(vs_sum "${SIGN_WALL[blake2b]}")"
row "sign blake3" "${SIGN_WALL[blake3]}" "${SIGN_CPU[blake3]}" \
  "wall $(ratio "${SIGN_WALL[blake3]}" "${SIGN_WALL[sha256]}") x our sha256 (per core $(ratio "${SIGN_CPU[blake3]}" "${SIGN_CPU[sha256]}") x); $(vs_sum "${SIGN_WALL[blake3]}")"
