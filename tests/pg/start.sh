#!/usr/bin/env bash
# Starts a private PostgreSQL server for the differential tests: its own data directory in a
# fresh temporary folder owned by the `postgres` user, listening only on a Unix socket in that
# folder, fsync off. Writes the libpq connection string to target/pg/conninfo (and the folder to
# target/pg/base-dir for stop.sh) and prints `export LOCKSTEP_PG=...`.
# Every wait is bounded. If a server started by this script is still running, it is reused.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
state="$root/target/pg"
mkdir -p "$state"

bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$bin" ] || [ ! -x "$bin/postgres" ]; then
    echo "start.sh: no PostgreSQL server binaries; run tests/pg/install.sh first" >&2
    exit 1
fi

# initdb and postgres refuse to run as root, so run them as the package's `postgres` user.
as_server_user() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if [ -f "$state/base-dir" ]; then
    base="$(cat "$state/base-dir")"
    if [ -d "$base/data" ] && as_server_user timeout 10 "$bin/pg_ctl" -D "$base/data" status >/dev/null 2>&1; then
        echo "export LOCKSTEP_PG='$(cat "$state/conninfo")'"
        exit 0
    fi
    rm -f "$state/base-dir" "$state/conninfo"
fi

base="$(mktemp -d /tmp/lockstep-pg.XXXXXX)"
chmod 755 "$base"
if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$base"
fi

as_server_user timeout 120 "$bin/initdb" -D "$base/data" --auth=trust --username=postgres \
    --no-locale --encoding=UTF8 --no-sync >"$base/initdb.log" 2>&1 || {
    cat "$base/initdb.log" >&2
    exit 1
}

# Messages in English (the expected files are); no TCP; a test database needs no durability.
cat >>"$base/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$base'
port = 5432
fsync = off
synchronous_commit = off
full_page_writes = off
autovacuum = off
max_connections = 40
shared_buffers = 32MB
lc_messages = 'C'
CONF

as_server_user timeout 90 "$bin/pg_ctl" -D "$base/data" -l "$base/server.log" -w -t 60 start >/dev/null || {
    cat "$base/server.log" >&2
    exit 1
}

conninfo="host=$base port=5432 user=postgres dbname=postgres"
echo "$base" >"$state/base-dir"
echo "$conninfo" >"$state/conninfo"
echo "export LOCKSTEP_PG='$conninfo'"
