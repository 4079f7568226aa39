#!/usr/bin/env bash
# The fleet's tests start a real Redis server (redis-server on 127.0.0.1, a free port, a temp
# dir). Install Debian's `redis-server` when the program is missing; do nothing when it is there.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "redis-server is missing: installing Debian's redis-server" >&2
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends redis-server

if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server was installed but is still not found on PATH" >&2
  exit 1
fi
