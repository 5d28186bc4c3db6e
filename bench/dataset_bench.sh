#!/usr/bin/env bash
# Dataset manifest throughput: `mlsc dataset manifest --unsigned` on a generated dataset
# directory (many small "sample" files plus a few large shards, like an image set with packed
# shards) against `sha256sum` over the same files, run with xargs -P on all cores so both use
# every core. Warm page cache: this measures hashing, not the disk.
#
# Usage: bench/dataset_bench.sh
#   DATASET_BENCH_GB=2      total size in GB (10^9 bytes), 1..16
#   DATASET_BENCH_DIR=/tmp/mlsc-dataset-bench-<GB>G   where it is generated (kept for re-runs)
#   MLSC=build/mlsc         the CLI
#   DATASET_BENCH_REPEAT=3  runs per command; the best is reported
set -euo pipefail
cd "$(dirname "$0")/.."

GB=${DATASET_BENCH_GB:-2}
if ! [[ "$GB" =~ ^[0-9]+$ ]] || (( GB < 1 || GB > 16 )); then
  echo "DATASET_BENCH_GB must be 1..16" >&2
  exit 2
fi
DIR=${DATASET_BENCH_DIR:-/tmp/mlsc-dataset-bench-${GB}G}
MLSC=${MLSC:-build/mlsc}
REPEAT=${DATASET_BENCH_REPEAT:-3}
CORES=$(nproc)
[[ -x "$MLSC" ]] || { echo "build $MLSC first (cmake --build build --target mlsc_cli)" >&2; exit 2; }

# Half the bytes in 20,000 small files of equal size (a sample-per-file image set), half in
# shards of 250 MB (packed tar/parquet-style shards). Random bytes, so nothing compresses.
if [[ ! -f "$DIR/.complete" ]]; then
  echo "== generating $GB GB in $DIR ==" >&2
  rm -rf "$DIR"
  /usr/bin/python3 - "$DIR" "$GB" <<'PY'
import os, sys
root, gb = sys.argv[1], int(sys.argv[2])
half = gb * 500_000_000
small = 20_000
per = half // small
for i in range(small):
    d = os.path.join(root, 'samples', f'{i % 100:03d}')
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f's{i:05d}.bin'), 'wb') as f:
        f.write(os.urandom(per))
os.makedirs(os.path.join(root, 'shards'), exist_ok=True)
shard = 250_000_000
for s in range((half + shard - 1) // shard):
    with open(os.path.join(root, 'shards', f'shard-{s:04d}.bin'), 'wb') as f:
        for _ in range(shard // 10_000_000):
            f.write(os.urandom(10_000_000))
PY
  touch "$DIR/.complete"
fi

echo "== warming the page cache ==" >&2
find "$DIR" -type f -print0 | xargs -0 cat >/dev/null
BYTES=$(find "$DIR" -type f ! -name .complete -printf '%s\n' | awk '{s += $1} END {print s}')
FILES=$(find "$DIR" -type f ! -name .complete | wc -l)

best() {  # best wall seconds of REPEAT runs of "$@"
  local b=""
  for ((r = 0; r < REPEAT; r++)); do
    local s e t
    s=$(date +%s.%N)
    "$@" >/dev/null
    e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc)
    if [[ -z "$b" ]] || (( $(echo "$t < $b" | bc) )); then b=$t; fi
  done
  echo "$b"
}

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
mlsc_s=$(best "$MLSC" dataset manifest "$DIR" --unsigned -o "$OUT/m.json" --ignore-paths .complete)
sum_s=$(best sh -c "cd '$DIR' && find . -type f ! -name .complete -print0 | xargs -0 -n 64 -P $CORES sha256sum")

# The two must agree: every digest sha256sum printed appears in the manifest.
(cd "$DIR" && find . -type f ! -name .complete -print0 | xargs -0 sha256sum) | awk '{print $1}' | sort > "$OUT/a"
/usr/bin/python3 -c "import json,sys; [print(f['sha256']) for f in json.load(open(sys.argv[1]))['predicate']['files']]" \
  "$OUT/m.json" | sort > "$OUT/b"
cmp -s "$OUT/a" "$OUT/b" || { echo "digests differ between mlsc and sha256sum" >&2; exit 1; }

mbps() { echo "scale=0; $BYTES / $1 / 1000000" | bc; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tree: $FILES files, $BYTES bytes"
echo "| command | wall s | MB/s |"
echo "|---|---:|---:|"
echo "| \`mlsc dataset manifest --unsigned\` | $mlsc_s | $(mbps "$mlsc_s") |"
echo "| \`xargs -P $CORES sha256sum\` | $sum_s | $(mbps "$sum_s") |"
echo "ratio mlsc / sha256sum (wall time): $(echo "scale=2; $mlsc_s / $sum_s" | bc)"
