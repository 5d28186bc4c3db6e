#!/usr/bin/env bash
# Format-scanning benchmark: a mixed tree of 1,000 files (small safetensors, GGUF, tokenizer
# configs, Jinja templates, configs) plus multi-GB safetensors and GGUF files, scanned by mlsc.
# Reports files/s and how many bytes mlsc actually touched, to show it reads headers, not tensors.
#
#   bench/format_bench.sh                  # 996 small + 2x4 GiB safetensors + 2x4 GiB GGUF
#   FMT_LARGE_GIB=8 bench/format_bench.sh
#
# Bytes touched: the big files are sparse (their tensor data is a hole), so disk counters
# (read_bytes) would be zero whatever mlsc did. mlsc maps files, and every page it touches costs
# one page fault, hole or not: (minor + major faults) x page size, from /usr/bin/time, is an upper
# bound on the file bytes mlsc looked at (it also counts its heap and stack). rchar from
# /proc/PID/io counts read() bytes (none for mapped files). Both are reported.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
MLSC=${MLSC:-$(ls -t "$root"/build*/mlsc 2>/dev/null | head -n 1)}
FMT_DIR=${FMT_DIR:-/tmp/mlsc-format-bench}
FMT_SMALL=${FMT_SMALL:-996}
FMT_LARGE_COUNT=${FMT_LARGE_COUNT:-2}
FMT_LARGE_GIB=${FMT_LARGE_GIB:-4}
FMT_RUNS=${FMT_RUNS:-3}

tree="$FMT_DIR/tree-$FMT_SMALL-$FMT_LARGE_COUNT-$FMT_LARGE_GIB"
if [[ ! -d $tree ]]; then
  rm -rf "$FMT_DIR"
  mkdir -p "$tree"
  /usr/bin/python3 "$here/make_format_tree.py" "$tree" "$FMT_SMALL" "$FMT_LARGE_COUNT" "$FMT_LARGE_GIB"
fi
files=$(find "$tree" -type f | wc -l)
apparent=$(du -sb --apparent-size "$tree" | cut -f1)
ondisk=$(du -s --block-size=1 "$tree" | cut -f1)
page=$(getconf PAGESIZE)
echo "mlsc: $MLSC"
echo "tree: $files files, $((apparent >> 20)) MiB apparent size, $((ondisk >> 20)) MiB on disk (big files are sparse)"

best=""
for ((run = 0; run < FMT_RUNS; run++)); do
  out=$(mktemp)
  /usr/bin/time -f '%e %F %R %M' -o "$out.time" bash -c '
    "$1" scan "$2" --format json > "$3.json" &
    pid=$!
    rchar=0
    while kill -0 $pid 2>/dev/null; do
      r=$(awk "/^rchar/ {print \$2}" /proc/$pid/io 2>/dev/null || true)
      [[ -n $r ]] && rchar=$r
      sleep 0.01
    done
    wait $pid || [[ $? -eq 1 ]]
    echo "$rchar" > "$3.rchar"' _ "$MLSC" "$tree" "$out"
  read -r secs major minor maxrss < "$out.time"
  rchar=$(cat "$out.rchar")
  if [[ -z $best ]] || awk "BEGIN {exit !($secs < ${best%% *})}"; then
    best="$secs $major $minor $maxrss $rchar"
    cp "$out.json" "$FMT_DIR/last-report.json"
  fi
  rm -f "$out" "$out.time" "$out.rchar" "$out.json"
done
read -r secs major minor maxrss rchar <<< "$best"
touched=$(((major + minor) * page))
fps=$(awk "BEGIN {printf \"%.0f\", $files / ($secs > 0 ? $secs : 0.01)}")
/usr/bin/python3 - "$FMT_DIR/last-report.json" <<'PY'
import collections, json, sys
doc = json.load(open(sys.argv[1]))
fmt = collections.Counter(f['format'] for f in doc['files'])
worst = collections.Counter(f['max_severity'] for f in doc['files'])
print('formats:', dict(fmt))
print('max severities:', dict(worst))
PY
echo "best of $FMT_RUNS: ${secs}s wall, $fps files/s, max RSS $((maxrss >> 10)) MiB"
echo "page faults: $major major + $minor minor = $((touched >> 20)) MiB touched at most ($(awk "BEGIN {printf \"%.5f\", 100 * $touched / $apparent}")% of the $((apparent >> 30)) GiB scanned)"
echo "rchar (read() bytes, sampled): $rchar"
