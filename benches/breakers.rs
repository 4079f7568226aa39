//! circuit against failsafe and recloser, side by side in one run.
//!
//! Every group holds a baseline (a plain call through `black_box`) so results read as ratios
//! measured in the same run. `benches/report.py` turns criterion's output into the table of
//! BENCHMARKS.md. Run: `cargo bench --bench breakers`.

mod alloc_counter;

use circuit_core::{registry, CircuitBreaker, Config, KeyedLimits, SlidingWindow};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use failsafe::CircuitBreaker as _;
use std::future::{ready, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: alloc_counter::Counting = alloc_counter::Counting;

/// Long enough that an opened breaker stays open for the whole run.
const HOUR: Duration = Duration::from_secs(3600);

/// The protected call: opaque to the optimiser, so every variant does the same work.
#[inline(never)]
fn work() -> Result<u64, ()> {
    Ok(black_box(1))
}

/// A breaker on the heap, as users hold one (the registry hands out `Arc`s): a breaker on the
/// bench's own stack, beside the hot frames, measured up to 3x slower on some paths.
fn circuit() -> Arc<CircuitBreaker> {
    let config = Config::builder()
        .failure_threshold(1000)
        .recovery_timeout(HOUR)
        .build()
        .expect("valid config");
    Arc::new(CircuitBreaker::new("bench", config))
}

type Failsafe = failsafe::StateMachine<
    failsafe::failure_policy::ConsecutiveFailures<failsafe::backoff::Constant>,
    (),
>;

fn failsafe() -> Failsafe {
    let policy =
        failsafe::failure_policy::consecutive_failures(3, failsafe::backoff::constant(HOUR));
    failsafe::Config::new().failure_policy(policy).build()
}

fn recloser() -> recloser::Recloser {
    recloser::Recloser::custom()
        .error_rate(0.5)
        .closed_len(10)
        .half_open_len(5)
        .open_wait(HOUR)
        .build()
}

fn open_circuit() -> Arc<CircuitBreaker> {
    let breaker = circuit();
    for _ in 0..1000 {
        let _ = breaker.call(|| Err::<(), _>(()));
    }
    assert!(breaker.call(work).is_err(), "circuit should be open");
    breaker
}

fn open_failsafe() -> Failsafe {
    let breaker = failsafe();
    while !matches!(
        breaker.call(|| Err::<(), _>(())),
        Err(failsafe::Error::Rejected)
    ) {}
    breaker
}

fn open_recloser() -> recloser::Recloser {
    let breaker = recloser();
    while !matches!(
        breaker.call(|| Err::<(), _>(())),
        Err(recloser::Error::Rejected)
    ) {}
    breaker
}

/// Target 1: a successful call on a Closed breaker, one thread.
fn closed_success(c: &mut Criterion) {
    let mut g = c.benchmark_group("closed_success");
    let atomic = AtomicU64::new(1);
    let (cb, fs, rc) = (circuit(), failsafe(), recloser());
    g.bench_function("plain_call", |b| b.iter(|| black_box(work().ok())));
    g.bench_function("atomic_load", |b| {
        b.iter(|| black_box(atomic.load(Ordering::Acquire)))
    });
    g.bench_function("circuit", |b| b.iter(|| black_box(cb.call(work).ok())));
    g.bench_function("failsafe", |b| b.iter(|| black_box(fs.call(work).ok())));
    g.bench_function("recloser", |b| b.iter(|| black_box(rc.call(work).ok())));
    g.finish();
}

/// Target 2: a call rejected by an Open breaker.
fn open_rejected(c: &mut Criterion) {
    let mut g = c.benchmark_group("open_rejected");
    let (cb, fs, rc) = (open_circuit(), open_failsafe(), open_recloser());
    g.bench_function("plain_call", |b| b.iter(|| black_box(work().ok())));
    g.bench_function("circuit", |b| b.iter(|| black_box(cb.call(work).ok())));
    g.bench_function("failsafe", |b| b.iter(|| black_box(fs.call(work).ok())));
    g.bench_function("recloser", |b| b.iter(|| black_box(rc.call(work).ok())));
    g.finish();
}

/// Runs `op` `iters` times on each of `threads` threads at once and returns the wall time per
/// call of the combined throughput (wall time / (threads * iters)).
fn on_threads(threads: u64, iters: u64, op: &(dyn Fn() + Sync)) -> Duration {
    let start_line = Barrier::new(threads as usize + 1);
    let mut started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                start_line.wait();
                for _ in 0..iters {
                    op();
                }
            });
        }
        start_line.wait();
        started = Instant::now();
    });
    started.elapsed() / threads as u32
}

/// Target 3: successful calls from 1 and 2 threads on one shared breaker. Criterion's time per
/// iteration is the wall time per call of the combined throughput, so the scaling is the
/// 1-thread time over the 2-thread time (ideal: 2.0).
fn shared_by_threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("threads");
    let counter = AtomicU64::new(0);
    let (cb, fs, rc) = (circuit(), failsafe(), recloser());
    let cases: [(&str, &(dyn Fn() + Sync)); 5] = [
        ("plain_call", &|| {
            let _ = black_box(work().ok());
        }),
        ("shared_fetch_add", &|| {
            let _ = black_box(counter.fetch_add(1, Ordering::Relaxed));
        }),
        ("circuit", &|| {
            let _ = black_box(cb.call(work).ok());
        }),
        ("failsafe", &|| {
            let _ = black_box(fs.call(work).ok());
        }),
        ("recloser", &|| {
            let _ = black_box(rc.call(work).ok());
        }),
    ];
    for threads in [1, 2] {
        for (name, op) in cases {
            g.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &t| {
                b.iter_custom(|iters| on_threads(t, iters, op))
            });
        }
    }
    g.finish();
}

/// A breaker of the failure-rate rule over `window`, never tripped by the bench's successes.
fn rate_circuit(window: SlidingWindow) -> Arc<CircuitBreaker> {
    let config = Config::builder()
        .failure_rate_threshold(0.5)
        .sliding_window(window)
        .minimum_calls(10)
        .recovery_timeout(HOUR)
        .build()
        .expect("valid config");
    Arc::new(CircuitBreaker::new("bench-rate", config))
}

/// A breaker of the slow-call rule: every call is timed (read twice on the coarse clock).
fn slow_call_circuit() -> Arc<CircuitBreaker> {
    let config = Config::builder()
        .slow_call_duration(HOUR)
        .slow_call_rate_threshold(0.5)
        .minimum_calls(10)
        .recovery_timeout(HOUR)
        .build()
        .expect("valid config");
    Arc::new(CircuitBreaker::new("bench-slow", config))
}

/// The trip policies' success path (target: at most 10 ns, and 2 threads at least 1.6x one):
/// a failure-rate breaker over a count window and over a time window (which reads the coarse
/// clock on each success), and a slow-call breaker (which times each call), beside today's
/// consecutive breaker, on one thread and on two.
fn rate_success(c: &mut Criterion) {
    let mut g = c.benchmark_group("rate_success");
    let consecutive = circuit();
    let count = rate_circuit(SlidingWindow::Count(100));
    let time = rate_circuit(SlidingWindow::Time(Duration::from_secs(60)));
    let slow = slow_call_circuit();
    let cases: [(&str, &(dyn Fn() + Sync)); 5] = [
        ("plain_call", &|| {
            let _ = black_box(work().ok());
        }),
        ("consecutive", &|| {
            let _ = black_box(consecutive.call(work).ok());
        }),
        ("count_window", &|| {
            let _ = black_box(count.call(work).ok());
        }),
        ("time_window", &|| {
            let _ = black_box(time.call(work).ok());
        }),
        ("slow_call", &|| {
            let _ = black_box(slow.call(work).ok());
        }),
    ];
    for threads in [1, 2] {
        for (name, op) in cases {
            g.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &t| {
                b.iter_custom(|iters| on_threads(t, iters, op))
            });
        }
    }
    g.finish();
}

/// `record_call_durations`: what timing each call for the histogram costs (two reads of the
/// precise clock and two counts on the thread's own stripe), against the same breaker without
/// it, on one thread and on two (no shared write either way, so both should scale alike).
fn call_durations(c: &mut Criterion) {
    let mut g = c.benchmark_group("call_durations");
    let off = circuit();
    let config = Config::builder()
        .record_call_durations(true)
        .recovery_timeout(HOUR)
        .build()
        .expect("valid config");
    let on = Arc::new(CircuitBreaker::new("bench-durations", config));
    let cases: [(&str, &(dyn Fn() + Sync)); 3] = [
        ("plain_call", &|| {
            let _ = black_box(work().ok());
        }),
        ("off", &|| {
            let _ = black_box(off.call(work).ok());
        }),
        ("recording", &|| {
            let _ = black_box(on.call(work).ok());
        }),
    ];
    for threads in [1, 2] {
        for (name, op) in cases {
            g.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &t| {
                b.iter_custom(|iters| on_threads(t, iters, op))
            });
        }
    }
    g.finish();
}

/// Target 4: Closed with one call in a hundred failing.
fn one_percent_failures(c: &mut Criterion) {
    let mut g = c.benchmark_group("one_percent_failures");
    let cb = circuit();
    let calls = std::cell::Cell::new(0_u64);
    // Captures only a reference, so the closure is `Copy` and both cases can call it.
    let flaky = || {
        let i = calls.get() + 1;
        calls.set(i);
        if i.is_multiple_of(100) {
            Err(())
        } else {
            Ok(black_box(i))
        }
    };
    g.bench_function("plain_call", |b| b.iter(|| black_box(flaky().ok())));
    g.bench_function("circuit", |b| b.iter(|| black_box(cb.call(flaky).ok())));
    g.finish();
}

/// Target 6: `call_async` on a future that is ready at once, against the sync path.
fn async_ready(c: &mut Criterion) {
    let mut g = c.benchmark_group("async_ready");
    let cb = circuit();
    g.bench_function("plain_call", |b| b.iter(|| black_box(work().ok())));
    g.bench_function("circuit_call", |b| b.iter(|| black_box(cb.call(work).ok())));
    g.bench_function("circuit_call_async", |b| {
        b.iter(|| black_box(poll_ready(cb.call_async(ready(work()))).ok()))
    });
    // The sync call behind the same polling boundary as the async one: the difference between
    // this case and `circuit_call_async` is the breaker's async path alone.
    g.bench_function("circuit_call_in_async_block", |b| {
        b.iter(|| black_box(poll_ready(async { cb.call(work) }).ok()))
    });
    g.finish();
}

/// The design's HTTP client looks its breaker up by service name on every request. Here: the
/// four services of the design in the process-wide registry, one looked up and called per
/// iteration, against a call on a held `Arc`; by `get` (an `Arc` cloned under a read lock, as
/// before), by `lookup_or_create` (borrowed, lock-free), and by key in a `KeyedBreakers` set.
/// `lookup_threads/*/N`: N threads looking up and calling one name at once, beside a plain call
/// and a call on the held `Arc` from N threads.
fn lookup(c: &mut Criterion) {
    let services = ["users", "products", "orders", "payments"];
    for name in services {
        registry().get_or_create(name, Config::default());
    }
    let held = registry().get("payments").unwrap();
    let keyed = registry().keyed("bench-hosts", Config::default(), KeyedLimits::default());
    for name in services {
        keyed.get(name).unwrap();
    }
    let mut g = c.benchmark_group("lookup");
    g.bench_function("plain_call", |b| b.iter(|| black_box(work().ok())));
    g.bench_function("held_arc", |b| b.iter(|| black_box(held.call(work).ok())));
    g.bench_function("registry_get", |b| {
        b.iter(|| {
            black_box(
                registry()
                    .get(black_box("payments"))
                    .unwrap()
                    .call(work)
                    .ok(),
            )
        })
    });
    g.bench_function("registry_lookup_or_create", |b| {
        b.iter(|| {
            let breaker = registry().lookup_or_create(black_box("payments"), Config::default);
            black_box(breaker.call(work).ok())
        })
    });
    g.bench_function("keyed_get", |b| {
        b.iter(|| black_box(keyed.get(black_box("payments")).unwrap().call(work).ok()))
    });
    g.finish();

    let mut g = c.benchmark_group("lookup_threads");
    // The baselines scale as the machine lets them: on a core busy with other work, no case
    // reaches 2x, so a lookup's scaling is read against theirs in the same run.
    let cases: [(&str, &(dyn Fn() + Sync)); 4] = [
        ("plain_call", &|| {
            let _ = black_box(work().ok());
        }),
        ("held_arc", &|| {
            let _ = black_box(held.call(work).ok());
        }),
        ("registry_get", &|| {
            let _ = black_box(
                registry()
                    .get(black_box("payments"))
                    .unwrap()
                    .call(work)
                    .ok(),
            );
        }),
        ("registry_lookup_or_create", &|| {
            let breaker = registry().lookup_or_create(black_box("payments"), Config::default);
            let _ = black_box(breaker.call(work).ok());
        }),
    ];
    for threads in [1, 2] {
        for (name, op) in cases {
            g.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &t| {
                b.iter_custom(|iters| on_threads(t, iters, op))
            });
        }
    }
    g.finish();
}

/// Polls a future that must finish on its first poll.
fn poll_ready<F: Future>(fut: F) -> F::Output {
    match pin!(fut).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!("the bench's futures are ready at once"),
    }
}

/// The error of the attribute case: it must be able to hold a rejection.
#[derive(Debug)]
struct Rejected;

impl From<circuit_core::CircuitOpen> for Rejected {
    fn from(_: circuit_core::CircuitOpen) -> Self {
        Rejected
    }
}

#[inline(never)]
fn work_or_rejected() -> Result<u64, Rejected> {
    Ok(black_box(1))
}

/// The same call through the attribute, whose breaker is resolved once into a static.
#[circuit_core::circuit_breaker(
    name = "bench-attribute",
    failure_threshold = 1000,
    recovery_timeout = "1h"
)]
fn guarded() -> Result<u64, Rejected> {
    work_or_rejected()
}

/// Target 5: a call through the attribute costs what `CircuitBreaker::call` costs.
fn attribute(c: &mut Criterion) {
    let mut g = c.benchmark_group("attribute");
    let cb = circuit();
    g.bench_function("plain_call", |b| {
        b.iter(|| black_box(work_or_rejected().ok()))
    });
    g.bench_function("circuit_call", |b| {
        b.iter(|| black_box(cb.call(work_or_rejected).ok()))
    });
    g.bench_function("attribute", |b| b.iter(|| black_box(guarded().ok())));
    g.finish();
}

/// Target 7: allocations per call, on every path above (printed; the test
/// `tests/reliability_zero_allocations.rs` asserts the same for circuit).
fn allocations(_: &mut Criterion) {
    const CALLS: u64 = 100_000;
    let (cb, open) = (circuit(), open_circuit());
    let (fs, open_fs) = (failsafe(), open_failsafe());
    let (rc, open_rc) = (recloser(), open_recloser());
    let mut i = 0_u64;
    let rows = [
        (
            "circuit closed_success",
            alloc_counter::allocations_per_call(CALLS, || {
                let _ = black_box(cb.call(work).ok());
            }),
        ),
        (
            "circuit open_rejected",
            alloc_counter::allocations_per_call(CALLS, || {
                let _ = black_box(open.call(work).ok());
            }),
        ),
        (
            "circuit one_percent_failures",
            alloc_counter::allocations_per_call(CALLS, || {
                i += 1;
                let _ = black_box(
                    cb.call(|| {
                        if i.is_multiple_of(100) {
                            Err(())
                        } else {
                            Ok(i)
                        }
                    })
                    .ok(),
                );
            }),
        ),
        (
            "circuit call_async ready",
            alloc_counter::allocations_per_call(CALLS, || {
                let _ = black_box(poll_ready(cb.call_async(ready(work()))).ok());
            }),
        ),
        (
            "attribute closed_success",
            alloc_counter::allocations_per_call(CALLS, || {
                let _ = black_box(guarded().ok());
            }),
        ),
        (
            "failsafe closed_success",
            alloc_counter::allocations_per_call(CALLS, || {
                let _ = black_box(fs.call(work).ok());
            }),
        ),
        (
            "failsafe open_rejected",
            alloc_counter::allocations_per_call(CALLS, || {
                let _ = black_box(open_fs.call(work).ok());
            }),
        ),
        (
            "recloser closed_success",
            alloc_counter::allocations_per_call(CALLS, || {
                let _ = black_box(rc.call(work).ok());
            }),
        ),
        (
            "recloser open_rejected",
            alloc_counter::allocations_per_call(CALLS, || {
                let _ = black_box(open_rc.call(work).ok());
            }),
        ),
    ];
    println!("\nallocations per call ({CALLS} calls each):");
    for (case, per_call) in rows {
        println!("  {case:<32} {per_call}");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = closed_success, open_rejected, shared_by_threads, rate_success, call_durations,
        one_percent_failures, async_ready, lookup, attribute, allocations
}
criterion_main!(benches);
