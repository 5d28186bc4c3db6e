#!/usr/bin/env bash
# Generates the model directory bench/hash_bench.sh hashes, shaped like a real checkpoint:
# 80% of the bytes in a few large weight shards (one per core, at least 4, of equal size), 20%
# in many small files (configs, tokenizers, sharded optimizer state: 64 KiB to 1 MiB).
# Random content, so no hash or filesystem can take shortcuts. Re-uses a complete tree.
# Usage: bench/hash_make_tree.sh DIR GB
set -euo pipefail
DIR=$1
GB=$2
TOTAL=$((GB * 1000000000))
STAMP="$DIR.complete-$GB"  # beside the tree, so that it is not hashed with it
if [[ -f "$STAMP" && -d "$DIR" ]]; then exit 0; fi

echo "== generating ${GB} GB in $DIR ==" >&2
rm -rf "$DIR" "$DIR".complete-*
mkdir -p "$DIR/weights" "$DIR/small"
LARGE_FILES=$(( $(nproc) > 4 ? $(nproc) : 4 ))
LARGE=$((TOTAL * 8 / 10 / LARGE_FILES))
for i in $(seq 1 "$LARGE_FILES"); do
  head -c "$LARGE" /dev/urandom >"$DIR/weights/model-$(printf %05d "$i").safetensors"
done

# The small files: a third of the remaining bytes each in 64 KiB, 256 KiB and 1 MiB pieces.
SMALL=$(( (TOTAL - LARGE * LARGE_FILES) / 3 ))
for size in 64k 256k 1024k; do
  mkdir -p "$DIR/small/$size"
  head -c "$SMALL" /dev/urandom | split -b "$size" -a 5 - "$DIR/small/$size/part-"
done
touch "$STAMP"
