#!/usr/bin/env bash
# Installs Debian's PostgreSQL server for the differential tests, only if no server binary is
# present (CI machines may be fresh; developer machines usually already have it).
# Idempotent: a second run does nothing.
set -euo pipefail

if compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "install.sh: PostgreSQL is missing and installing it needs root" >&2
    exit 1
fi

# The package lists are only refreshed when something is installed: they are slow to fetch.
export DEBIAN_FRONTEND=noninteractive
timeout 600 apt-get update -q
timeout 900 apt-get install -y -q --no-install-recommends postgresql
# Debian's package starts a cluster of its own on port 5432; the tests never use it.
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
