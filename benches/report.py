#!/usr/bin/env python3
"""Runs `cargo bench --bench breakers` several times and prints BENCHMARKS.md's table.

Every number is a ratio measured within one run (criterion's median of each case over the
plain call, or over a peer, from the same run); the table gives the median over runs and the
range [min, max]. Usage: python3 benches/report.py [--runs N] [--no-run]
"""

import argparse
import json
import pathlib
import shutil
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRITERION = ROOT / "target" / "criterion"
RUNS_DIR = ROOT / "target" / "bench-runs"

# (label, case, reference): a ratio of two criterion medians, both `group/function[/param]`.
RATIOS = [
    ("T1 closed success / plain call (<= 1.5)", "closed_success/circuit", "closed_success/plain_call"),
    ("T1 failsafe / circuit, closed success (>= 3)", "closed_success/failsafe", "closed_success/circuit"),
    ("T1 recloser / circuit, closed success (>= 3)", "closed_success/recloser", "closed_success/circuit"),
    ("T2 open rejected / plain call (<= 4)", "open_rejected/circuit", "open_rejected/plain_call"),
    ("T2 failsafe / circuit, rejected (>= 3)", "open_rejected/failsafe", "open_rejected/circuit"),
    ("T2 recloser / circuit, rejected (>= 3)", "open_rejected/recloser", "open_rejected/circuit"),
    ("T3 circuit, 2 threads over 1 (>= 1.6)", "threads/circuit/1", "threads/circuit/2"),
    ("T3 plain call, 2 threads over 1", "threads/plain_call/1", "threads/plain_call/2"),
    ("T3 shared fetch_add, 2 threads over 1", "threads/shared_fetch_add/1", "threads/shared_fetch_add/2"),
    ("T3 failsafe, 2 threads over 1", "threads/failsafe/1", "threads/failsafe/2"),
    ("T3 recloser, 2 threads over 1", "threads/recloser/1", "threads/recloser/2"),
    ("T4 1% failures / plain call (<= 2)", "one_percent_failures/circuit", "one_percent_failures/plain_call"),
    ("T5 attribute / CircuitBreaker::call (~1)", "attribute/attribute", "attribute/circuit_call"),
    ("T6 call_async ready / sync call (<= 2)", "async_ready/circuit_call_async", "async_ready/circuit_call"),
    ("T8 lookup by name + call, registry().lookup_or_create / held Arc", "lookup/registry_lookup_or_create", "lookup/held_arc"),
    ("T8 lookup by name + call, registry().get / held Arc", "lookup/registry_get", "lookup/held_arc"),
    ("T8 lookup_or_create, 2 threads over 1 (>= 1.8)", "lookup_threads/registry_lookup_or_create/1", "lookup_threads/registry_lookup_or_create/2"),
    ("T8 registry().get, 2 threads over 1", "lookup_threads/registry_get/1", "lookup_threads/registry_get/2"),
    ("T8 plain call, 2 threads over 1 (what the machine allowed)", "lookup_threads/plain_call/1", "lookup_threads/plain_call/2"),
    ("T8 held Arc, 2 threads over 1", "lookup_threads/held_arc/1", "lookup_threads/held_arc/2"),
    ("T8 KeyedBreakers::get + call / held Arc", "lookup/keyed_get", "lookup/held_arc"),
    ("T6 call_async / sync call polled the same way", "async_ready/circuit_call_async", "async_ready/circuit_call_in_async_block"),
    ("P1 rate rule, count window / consecutive, success", "rate_success/count_window/1", "rate_success/consecutive/1"),
    ("P1 rate rule, time window / consecutive, success", "rate_success/time_window/1", "rate_success/consecutive/1"),
    ("P1 slow-call rule / consecutive, success", "rate_success/slow_call/1", "rate_success/consecutive/1"),
    ("P1 count window, 2 threads over 1 (>= 1.6)", "rate_success/count_window/1", "rate_success/count_window/2"),
    ("P1 time window, 2 threads over 1 (>= 1.6)", "rate_success/time_window/1", "rate_success/time_window/2"),
    ("P1 slow-call rule, 2 threads over 1 (>= 1.6)", "rate_success/slow_call/1", "rate_success/slow_call/2"),
]


def medians(directory: pathlib.Path) -> dict:
    """criterion's median estimate (ns) of every case found below `directory`."""
    found = {}
    for estimates in directory.glob("**/new/estimates.json"):
        case = estimates.parent.parent.relative_to(directory).as_posix()
        found[case] = json.loads(estimates.read_text())["median"]["point_estimate"]
    return found


def run_benches(runs: int) -> None:
    shutil.rmtree(RUNS_DIR, ignore_errors=True)
    for k in range(runs):
        print(f"run {k + 1} of {runs} ...", file=sys.stderr)
        # Start each run clean, so no case left over from an older bench is reported.
        shutil.rmtree(CRITERION, ignore_errors=True)
        subprocess.run(["cargo", "bench", "--bench", "breakers"], cwd=ROOT, check=True)
        shutil.copytree(CRITERION, RUNS_DIR / f"run-{k}")


def fmt(values: list) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}, {max(values):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-run", action="store_true", help="report the runs already made")
    args = parser.parse_args()
    if not args.no_run:
        run_benches(args.runs)
    runs = [medians(d) for d in sorted(RUNS_DIR.glob("run-*"))]
    if not runs:
        sys.exit("no runs found: run without --no-run first")

    cases = sorted(set().union(*runs))
    print(f"| case | median ns over {len(runs)} runs [min, max] |")
    print("|---|---|")
    for case in cases:
        values = [r[case] for r in runs if case in r]
        print(f"| `{case}` | {fmt(values)} |")
    print()
    print("| ratio (target) | median [min, max] |")
    print("|---|---|")
    for label, case, reference in RATIOS:
        values = [r[case] / r[reference] for r in runs if case in r and reference in r]
        print(f"| {label} | {fmt(values) if values else 'not measured'} |")


if __name__ == "__main__":
    main()
