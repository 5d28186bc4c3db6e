#!/usr/bin/env bash
# mlsc deps benchmark: auditing a 1,000-package environment against the whole shared advisory
# database, and typosquat-checking 10,000 names. See bench/README.md ("deps_bench").
#
#   bench/deps_bench.sh                     # newest build*/mlsc and build*/mlsc_deps_bench
#   MLSC=build/mlsc DEPS_BENCH=build/mlsc_deps_bench bench/deps_bench.sh
#
# Environment (all optional):
#   MLSC        mlsc binary (default: newest build*/mlsc)
#   DEPS_BENCH  the harness, bench/deps_bench.cpp (default: newest build*/mlsc_deps_bench)
#   SHARED      shared data folder (default: ../shared next to the repository)
#   BENCH_DIR   work folder (default /tmp/mlsc-deps-bench)
#   BENCH_RUNS  timed runs of each CLI command; the fastest counts (default 3)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
SHARED=${SHARED:-$root/../shared}
BENCH_DIR=${BENCH_DIR:-/tmp/mlsc-deps-bench}
BENCH_RUNS=${BENCH_RUNS:-3}
TIME=/usr/bin/time
# shellcheck disable=SC2012  # newest by mtime; build folder names are ours
[[ -n ${MLSC:-} ]] || MLSC=$(ls -t "$root"/build*/mlsc 2>/dev/null | head -n 1 || true)
# shellcheck disable=SC2012
[[ -n ${DEPS_BENCH:-} ]] || DEPS_BENCH=$(ls -t "$root"/build*/mlsc_deps_bench 2>/dev/null | head -n 1 || true)
for bin in "$MLSC" "$DEPS_BENCH"; do
  if [[ -z $bin || ! -x $bin ]]; then
    echo "deps_bench: build mlsc and mlsc_deps_bench first (or set MLSC / DEPS_BENCH)" >&2
    exit 2
  fi
done
db=$SHARED/data/osv-pypi
top=$SHARED/data/pypi-top-packages.tsv
[[ -d $db && -f $top ]] || { echo "deps_bench: no $db or $top" >&2; exit 2; }
mkdir -p "$BENCH_DIR"

echo "== machine"
grep -m1 'model name' /proc/cpuinfo | sed 's/.*: /cpu: /'
echo "cores: $(nproc), memory: $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "mlsc: $MLSC ($("$MLSC" --version))"

echo
echo "== in-process harness ($DEPS_BENCH)"
"$DEPS_BENCH" "$db" "$top" "$BENCH_DIR"

# best RUNS CMD...: fastest wall time (s) and its user+sys CPU (s) under /usr/bin/time.
best() {
  local runs=$1; shift
  local best_wall="" best_cpu="" r
  for ((r = 1; r <= runs; r++)); do
    "$TIME" -f '%e %U %S' -o "$BENCH_DIR/time.txt" "$@" > "$BENCH_DIR/out.txt" 2> /dev/null || true
    read -r wall user sys < <(tail -n 1 "$BENCH_DIR/time.txt")
    if [[ -z $best_wall ]] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
      best_wall=$wall
      best_cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    fi
  done
  echo "$best_wall $best_cpu"
}

echo
echo "== command line, warm cache, best of $BENCH_RUNS"
req=$BENCH_DIR/requirements.txt
names=$BENCH_DIR/names.txt
npkg=$(wc -l < "$req")
nnames=$(wc -l < "$names")
# shellcheck disable=SC2016
read -r cat_w cat_c < <(best "$BENCH_RUNS" sh -c 'find "$1" -type f -exec cat {} + > /dev/null' sh "$db")
# shellcheck disable=SC2016
read -r grep_w grep_c < <(best "$BENCH_RUNS" sh -c 'grep -rh -A2 "^- package:" "$1" > /dev/null' sh "$db")
read -r audit_w audit_c < <(best "$BENCH_RUNS" "$MLSC" deps audit "$req" --db "$db" --format json)
read -r full_w full_c < <(best "$BENCH_RUNS" "$MLSC" deps audit "$req" --db "$db" --top "$top" --format json)
read -r typo_w typo_c < <(best "$BENCH_RUNS" "$MLSC" deps typosquat --from "$names" --top "$top" --format json)
read -r top_w top_c < <(best "$BENCH_RUNS" "$MLSC" deps typosquat requests --top "$top" --format json)
printf '%-58s %8s %8s\n' "command" "wall s" "cpu s"
printf '%-58s %8s %8s\n' "cat every advisory file (the I/O floor)" "$cat_w" "$cat_c"
printf '%-58s %8s %8s\n' "grep every affected package name out of them" "$grep_w" "$grep_c"
printf '%-58s %8s %8s\n' "mlsc deps audit ($npkg packages), load + match" "$audit_w" "$audit_c"
printf '%-58s %8s %8s\n' "mlsc deps audit ($npkg packages) + typosquat check" "$full_w" "$full_c"
printf '%-58s %8s %8s\n' "mlsc deps typosquat (1 name: list load + index build)" "$top_w" "$top_c"
printf '%-58s %8s %8s\n' "mlsc deps typosquat --from ($nnames names)" "$typo_w" "$typo_c"
awk -v a="$audit_w" -v n="$npkg" -v c="$cat_w" -v g="$grep_w" -v t="$typo_w" -v t1="$top_w" -v m="$nnames" 'BEGIN {
  printf "per package, end to end (database load included): %.2f ms\n", a * 1000 / n
  printf "per name, end to end minus the list load: %.1f us\n", (t - t1) * 1e6 / m
  printf "ratio audit / cat of the database: %.1f; audit / grep over it: %.1f\n", a / c, a / g
}'
