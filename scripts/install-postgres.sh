#!/usr/bin/env bash
# The database tests start a real PostgreSQL server (initdb and pg_ctl into a temp dir). Install
# Debian's `postgresql` when those programs are missing; do nothing when they are there.
set -euo pipefail

have_postgres() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

if have_postgres; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "PostgreSQL (initdb, pg_ctl) is missing: installing Debian's postgresql" >&2
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends postgresql

if ! have_postgres; then
  echo "postgresql was installed but initdb/pg_ctl are still not found" >&2
  exit 1
fi
