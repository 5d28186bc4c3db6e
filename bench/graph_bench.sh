#!/usr/bin/env bash
# Lineage graph scale benchmark: a synthetic 1M-node / 5M-edge lineage graph (bench/graph_gen.cpp)
# loaded through the library's bulk path into SQLite and PostgreSQL, then downstream and
# upstream queries timed. Usage: bench/graph_bench.sh [BUILD_DIR] [SCALE]
# PostgreSQL runs when scripts/start-postgres.sh can start a server (skipped with a message
# otherwise: the SQLite figures still stand).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SCALE=${2:-1}
cmake --build "$BUILD" --target mlsc_graph_gen >/dev/null
GEN="$BUILD/mlsc_graph_gen"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mlsc-graph-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "== machine =="
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
echo "memory: $(free -g | awk '/Mem:/ {print $2}') GiB; disk: $(df -h "$WORK" | awk 'NR==2 {print $2}')"
echo "sqlite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 || pkg-config --modversion sqlite3)"

echo "== SQLite =="
/usr/bin/time -f "peak RSS %M KiB, wall %e s" "$GEN" --db "$WORK/graph.db" --scale "$SCALE"
echo "database file: $(du -h "$WORK/graph.db" | cut -f1)"

echo "== PostgreSQL =="
if URI=$(scripts/start-postgres.sh --fresh-db mlsc_graph_bench); then
  echo "$("$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)/postgres" --version)"
  /usr/bin/time -f "peak RSS %M KiB, wall %e s" "$GEN" --db "$URI" --scale "$SCALE"
else
  echo "PostgreSQL could not be started; skipped"
fi
