#!/usr/bin/env bash
# Start (installing it first if missing) a throwaway PostgreSQL server for the test suite.
#   scripts/postgres.sh start   prints the TEST_DATABASE_URL to use
#   scripts/postgres.sh stop
# Data lives in $PGTEST_DIR (default /tmp/novita-gpu-pg); port $PGTEST_PORT (default 55432).
set -euo pipefail
DIR=${PGTEST_DIR:-/tmp/novita-gpu-pg}
PORT=${PGTEST_PORT:-55432}

bindir() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$found" ] || [ ! -x "$found/postgres" ]; then
    echo "==> installing PostgreSQL (apt-get)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
    found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$found"
}

as_owner() {
  # initdb and postgres refuse to run as root.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local bin; bin=$(bindir)
  if [ ! -f "$DIR/PG_VERSION" ]; then
    mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    as_owner "$bin/initdb" -D "$DIR" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  if ! as_owner "$bin/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
    as_owner "$bin/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w \
      -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
  fi
  echo "postgresql://postgres@127.0.0.1:$PORT/novita_test"
}

stop() {
  local bin; bin=$(bindir)
  as_owner "$bin/pg_ctl" -D "$DIR" -m fast stop >/dev/null 2>&1 || true
}

"${1:-start}"
