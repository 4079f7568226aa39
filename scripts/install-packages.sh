#!/usr/bin/env bash
# The suite runs real servers and a real leak checker: PostgreSQL (initdb, pg_ctl) for the
# database tests, redis-server for the fleet's tests, valgrind for scripts/leak-check.sh. On a
# new Debian machine install those that are missing, with one `apt-get update` for all of
# them; do nothing (and touch no package list) when every one is there.
set -euo pipefail

have_postgres() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

missing=()
have_postgres || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "missing, installing from Debian: ${missing[*]}" >&2
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"

# Say which one is still missing rather than failing later inside a test.
have_postgres || { echo "postgresql was installed but initdb/pg_ctl are still not found" >&2; exit 1; }
command -v redis-server >/dev/null 2>&1 || { echo "redis-server is still not found on PATH" >&2; exit 1; }
command -v valgrind >/dev/null 2>&1 || { echo "valgrind is still not found on PATH" >&2; exit 1; }
