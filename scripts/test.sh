#!/usr/bin/env bash
# The whole test suite: the one test command README.md gives, and what .ci/run calls.
# About two minutes on two cores once built; RELIABILITY.md says what each part checks.
set -euo pipefail
cd "$(dirname "$0")/.."

# The database tests run a real PostgreSQL server, the fleet's a real redis-server, and the leak
# check valgrind: install those missing (Debian, one `apt-get update`).
scripts/install-packages.sh

# Behaviour, stress, property and memory tests; unit and doc tests.
cargo test --workspace

# Model checks of the lock-free state machine. `--cfg loom` changes how every crate builds, so
# they build in release into a target dir of their own and never invalidate the one above.
# The preemption bound defaults to 4 in the tests; LOOM_MAX_PREEMPTIONS raises it.
RUSTFLAGS="--cfg loom" cargo test -p circuit-core --release --test loom --test loom_periods --target-dir target/loom

# Every test binary again, under valgrind's leak checker.
scripts/leak-check.sh
