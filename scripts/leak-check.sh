#!/usr/bin/env bash
# Runs every test binary of the workspace under valgrind's leak checker. Fails on any memory
# error and on memory definitely or indirectly lost. Not counted: memory still reachable at
# exit (the interned breaker names and the process-wide registry live as long as the process,
# by design) and "possibly lost" blocks (hashbrown keeps pointers into the middle of its
# tables, so the interner's static set reads so).
set -euo pipefail
cd "$(dirname "$0")/.."

# The machine may be new: install valgrind (and the servers) when missing.
scripts/install-packages.sh
if ! command -v valgrind >/dev/null 2>&1; then
  echo "valgrind not found: install it (Debian: apt-get install valgrind)" >&2
  exit 1
fi

# tests/reliability_memory.rs and tests/reliability_million_breakers.rs are left out: they
# measure resident memory, which valgrind's allocator (it holds freed blocks back to catch
# use-after-free) makes grow; their churn of breakers and state changes runs here anyway in the
# stress, property and registry tests.
# The fleet's tests on a real Redis (tests/fleet_*.rs) are left out too: they time leases and
# propagation in real milliseconds across processes, which valgrind's slowdown (tens of times)
# turns into failures that say nothing about memory. The fleet's messages, books and breaker
# hooks still run here, in circuit-core's unit tests; its task on a live Redis does not.
binaries=$(cargo test --workspace --no-run 2>&1 \
  | sed -n 's/^ *Executable .*(\(.*\))$/\1/p' \
  | grep -v -e '/reliability_memory-' -e '/reliability_million_breakers-' -e '/fleet_registries-' \
    -e '/fleet_processes-')

# The proc-macro crate's test binary links libstd dynamically.
# Tests on real sockets lengthen their client timeouts under valgrind (tests/common/mod.rs).
export CIRCUIT_UNDER_VALGRIND=1

export LD_LIBRARY_PATH="$(rustc --print target-libdir)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

failed=0
for bin in $binaries; do
  echo "== valgrind $bin"
  if ! valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    "$bin" --test-threads=1 -q "$@"; then
    echo "FAILED under valgrind: $bin" >&2
    failed=1
  fi
done
if [ "$failed" -ne 0 ]; then
  exit 1
fi
echo "valgrind: no memory errors and nothing lost in any test binary"
