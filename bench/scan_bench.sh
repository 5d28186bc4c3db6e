#!/usr/bin/env bash
# mlsc scan throughput benchmark. See bench/README.md for what it measures and how to read it.
#
#   bench/scan_bench.sh                  # defaults: ~4.3 GB tree under /tmp/mlsc-bench
#   MLSC=build/mlsc BENCH_LARGE_GIB=4 bench/scan_bench.sh
#
# Environment (all optional):
#   MLSC               mlsc binary (default: the newest build*/mlsc in the repository)
#   BENCH_DIR          work folder (default /tmp/mlsc-bench); the tree is BENCH_DIR/tree
#   BENCH_SMALL        small pickles (default 3000)
#   BENCH_CKPT         small PyTorch zip checkpoints (default 200)
#   BENCH_MALICIOUS    os.system pickles among them (default 20)
#   BENCH_LARGE_COUNT  multi-GB PyTorch zip checkpoints (default 2)
#   BENCH_LARGE_GIB    size of each, GiB (default 2)
#   BENCH_RUNS         timed runs of each command; the fastest counts (default 3)
#   BENCH_JOBS         passed to `mlsc scan -j` (default: mlsc's own default, all cores)
#   BENCH_KEEP=0       delete the tree afterwards (default: keep it for the next run)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=python3
TIME=/usr/bin/time

BENCH_DIR=${BENCH_DIR:-/tmp/mlsc-bench}
BENCH_SMALL=${BENCH_SMALL:-3000}
BENCH_CKPT=${BENCH_CKPT:-200}
BENCH_MALICIOUS=${BENCH_MALICIOUS:-20}
BENCH_LARGE_COUNT=${BENCH_LARGE_COUNT:-2}
BENCH_LARGE_GIB=${BENCH_LARGE_GIB:-2}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_JOBS=${BENCH_JOBS:-}
BENCH_KEEP=${BENCH_KEEP:-1}

if [[ -z ${MLSC:-} ]]; then
  # shellcheck disable=SC2012  # newest by mtime; build folder names are ours
  MLSC=$(ls -t "$root"/build*/mlsc 2>/dev/null | head -n 1 || true)
fi
if [[ -z ${MLSC:-} || ! -x $MLSC ]]; then
  echo "scan_bench: no mlsc binary (build it, or set MLSC=path/to/mlsc)" >&2
  exit 2
fi
if [[ ! -x $TIME ]]; then
  echo "scan_bench: $TIME not found (Debian: apt-get install time)" >&2
  exit 2
fi

tree=$BENCH_DIR/tree
params="small=$BENCH_SMALL ckpt=$BENCH_CKPT malicious=$BENCH_MALICIOUS large=${BENCH_LARGE_COUNT}x${BENCH_LARGE_GIB}GiB gen=$(sha256sum "$here/make_tree.py" | cut -c1-16)"
mkdir -p "$BENCH_DIR"

# ---- 1. the tree (reused when the parameters match) -------------------------------------------
if [[ ! -f $BENCH_DIR/tree.params || $(cat "$BENCH_DIR/tree.params") != "$params" ]]; then
  rm -rf "$tree" "$BENCH_DIR/tree.params"
  need_kib=$("$PYTHON" -c "print(int(($BENCH_LARGE_COUNT * $BENCH_LARGE_GIB + 0.2) * 1024 * 1024 * 1.05))")
  avail_kib=$(df -Pk "$BENCH_DIR" | awk 'NR == 2 { print $4 }')
  if (( avail_kib < need_kib )); then
    echo "scan_bench: need ~$((need_kib / 1024 / 1024)) GiB free in $BENCH_DIR, have $((avail_kib / 1024 / 1024)) GiB" >&2
    exit 2
  fi
  echo "scan_bench: writing the tree ($params) ..."
  t0=$(date +%s.%N)
  nice -n 10 "$PYTHON" "$here/make_tree.py" "$tree" --small "$BENCH_SMALL" --ckpt "$BENCH_CKPT" \
    --malicious "$BENCH_MALICIOUS" --large-count "$BENCH_LARGE_COUNT" --large-gib "$BENCH_LARGE_GIB"
  sync -f "$tree" 2>/dev/null || true
  echo "$params" > "$BENCH_DIR/tree.params"
  awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "scan_bench: tree written in %.1f s\n", a - b }'
else
  echo "scan_bench: reusing $tree ($params)"
fi

files=$(find "$tree" -type f | wc -l)
bytes=$(find "$tree" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }')
mem_kib=$(awk '/MemAvailable/ { print $2 }' /proc/meminfo)
if (( bytes / 1024 > mem_kib * 8 / 10 )); then
  echo "scan_bench: warning: the tree ($((bytes >> 20)) MiB) may not fit in the page cache ($((mem_kib >> 10)) MiB available); timings will include disk reads" >&2
fi

jobs_args=()
[[ -n $BENCH_JOBS ]] && jobs_args=(-j "$BENCH_JOBS")
scan_cmd=("$MLSC" scan "$tree" --format json "${jobs_args[@]}")
# shellcheck disable=SC2016  # $1 expands in the inner sh
cat_cmd=(sh -c 'find "$1" -type f -exec cat {} + > /dev/null' sh "$tree")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# measure NAME CMD...: one run under /usr/bin/time -v; appends "wall rss_kib rc" to $tmp/NAME
measure() {
  local name=$1; shift
  local t0 t1 rc=0
  t0=$(date +%s%N)
  "$TIME" -v -o "$tmp/time.txt" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" || rc=$?
  t1=$(date +%s%N)
  local rss
  rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time.txt")
  echo "$(( (t1 - t0) / 1000 )) ${rss:-0} $rc" >> "$tmp/$name"
}

# ---- 2. warm the cache (both commands once, untimed) ----------------------------------------------
echo "scan_bench: warming the page cache ..."
"${cat_cmd[@]}"
"${scan_cmd[@]}" > "$tmp/warm.json" 2>/dev/null || true

# ---- 3. timed runs, interleaved ------------------------------------------------------------------
for ((r = 1; r <= BENCH_RUNS; r++)); do
  measure cat "${cat_cmd[@]}"
  measure mlsc "${scan_cmd[@]}"
  cp "$tmp/mlsc.out" "$tmp/scan.json"
done

# mlsc must have produced a report of the whole tree (exit 1: the tree holds malicious pickles).
scan_rc=$(awk 'END { print $3 }' "$tmp/mlsc")
reported=$("$PYTHON" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["files"]))' "$tmp/scan.json" 2>/dev/null || echo "?")
if [[ $scan_rc != 0 && $scan_rc != 1 ]]; then
  echo "scan_bench: mlsc exited $scan_rc:" >&2
  tail -n 5 "$tmp/mlsc.err" >&2
fi

"$PYTHON" - "$tmp/cat" "$tmp/mlsc" "$files" "$bytes" "$reported" "$scan_rc" "$MLSC" "$tree" "$params" "${BENCH_JOBS:-default}" <<'EOF'
import os, platform, sys
cat_f, mlsc_f, files, nbytes, reported, rc, mlsc, tree, params, jobs = sys.argv[1:]
files, nbytes = int(files), int(nbytes)

def runs(p):
    return [tuple(int(x) for x in line.split()) for line in open(p) if line.strip()]

def best(rs):
    wall = min(r[0] for r in rs) / 1e6
    rss = max(r[1] for r in rs) / 1024
    return wall, rss

cat_w, cat_rss = best(runs(cat_f))
ml_w, ml_rss = best(runs(mlsc_f))
cpu = 'unknown CPU'
try:
    for line in open('/proc/cpuinfo'):
        if line.startswith('model name'):
            cpu = line.split(':', 1)[1].strip()
            break
except OSError:
    pass
print()
print(f'mlsc scan benchmark: {mlsc}')
print(f'machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}')
print(f'tree:    {tree}: {files} files, {nbytes / 1e9:.2f} GB logical ({params})')
print(f'mlsc -j: {jobs}; warm page cache; best of {len(runs(mlsc_f))} runs each')
print()
print(f'{"":22}{"wall s":>10}{"files/s":>12}{"MB/s":>12}{"peak RSS MB":>14}')
for name, w, rss in (('cat (find -exec cat)', cat_w, cat_rss), ('mlsc scan --format json', ml_w, ml_rss)):
    print(f'{name:22}{w:10.3f}{files / w:12.0f}{nbytes / 1e6 / w:12.0f}{rss:14.1f}')
print()
print(f'ratio mlsc/cat (wall time): {ml_w / cat_w:.2f}   (below 1: mlsc is faster than reading every byte once)')
print(f'mlsc exit code {rc}, files in its JSON report: {reported}')
if str(reported) != str(files):
    print(f'WARNING: mlsc reported {reported} files, the tree holds {files}')
EOF

if [[ $BENCH_KEEP == 0 ]]; then
  rm -rf "$tree" "$BENCH_DIR/tree.params"
fi
