#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for tests and benchmarks and prints its connection URI
# on stdout. Idempotent: a cluster already running in the same directory is reused.
#   scripts/start-postgres.sh          start (or reuse); print the URI
#   scripts/start-postgres.sh --fresh-db NAME   also (re)create an empty database NAME and
#                                               print its URI instead
#   scripts/start-postgres.sh stop     stop it and delete its directory
# Environment: MLSC_PG_DIR (default ${TMPDIR:-/tmp}/mlsc-pg-$UID), MLSC_PG_PORT (default 55432).
# As root, the server runs as the 'postgres' user (PostgreSQL refuses to run as root).
# Listens only on a unix socket inside the directory; authentication is 'trust' for that socket.
set -euo pipefail

DIR=${MLSC_PG_DIR:-${TMPDIR:-/tmp}/mlsc-pg-$(id -u)}
PORT=${MLSC_PG_PORT:-55432}
DB=mlsc_graph
ROLE=mlsc

bindir=""
if command -v pg_config >/dev/null && [[ -x "$(pg_config --bindir)/initdb" ]]; then
  bindir=$(pg_config --bindir)
fi
if [[ -z "$bindir" ]]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
  echo "start-postgres: no PostgreSQL server found (install the 'postgresql' package:" \
    "scripts/install-deps.sh)" >&2
  exit 1
fi

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [[ "${1:-}" == "--fresh-db" ]]; then
  FRESH=${2:?--fresh-db needs a database name}
  [[ "$FRESH" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "start-postgres: bad database name" >&2; exit 2; }
fi
if [[ "${1:-}" == "stop" ]]; then
  if [[ -d "$DIR/data" ]]; then as_owner "$bindir/pg_ctl" -D "$DIR/data" -m fast stop >&2 || true; fi
  rm -rf "$DIR"
  exit 0
fi

mkdir -p "$DIR/socket"
if [[ $(id -u) -eq 0 ]]; then chown -R postgres: "$DIR"; fi
if [[ ! -f "$DIR/data/PG_VERSION" ]]; then
  as_owner "$bindir/initdb" -D "$DIR/data" -U "$ROLE" -A trust --no-sync -E UTF8 >"$DIR/initdb.log" 2>&1 ||
    { cat "$DIR/initdb.log" >&2; exit 1; }
fi
if ! as_owner "$bindir/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
  # A throwaway cluster: durability off, larger buffers for the bulk benchmark.
  as_owner "$bindir/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-k $DIR/socket -p $PORT -c listen_addresses='' -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off -c shared_buffers=256MB -c max_wal_size=4GB" start >&2 ||
    { tail -n 20 "$DIR/server.log" >&2; exit 1; }
fi
if ! as_owner "$bindir/psql" -h "$DIR/socket" -p "$PORT" -U "$ROLE" -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  as_owner "$bindir/createdb" -h "$DIR/socket" -p "$PORT" -U "$ROLE" "$DB" >&2
fi
if [[ -n "${FRESH:-}" ]]; then
  as_owner "$bindir/psql" -h "$DIR/socket" -p "$PORT" -U "$ROLE" -d postgres -q \
    -c "DROP DATABASE IF EXISTS $FRESH" -c "CREATE DATABASE $FRESH" >&2
  DB=$FRESH
fi
echo "postgresql:///$DB?host=$DIR/socket&port=$PORT&user=$ROLE"
