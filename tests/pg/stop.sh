#!/usr/bin/env bash
# Stops the private server that start.sh started and removes its temporary folder.
# Does nothing if none is recorded. Every wait is bounded.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
state="$root/target/pg"
[ -f "$state/base-dir" ] || exit 0
base="$(cat "$state/base-dir")"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"

as_server_user() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if [ -d "$base/data" ] && [ -n "$bin" ]; then
    as_server_user timeout 60 "$bin/pg_ctl" -D "$base/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
        as_server_user timeout 30 "$bin/pg_ctl" -D "$base/data" -m immediate -w -t 20 stop >/dev/null 2>&1 ||
        true
fi
# Only ever remove the folder start.sh made.
case "$base" in
/tmp/lockstep-pg.*) rm -rf "$base" ;;
esac
rm -f "$state/base-dir" "$state/conninfo"
