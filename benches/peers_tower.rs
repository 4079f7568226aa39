//! circuit's tower layer against the tower middleware peers, tower-resilience-circuitbreaker
//! and seatbelt, each measured through the tower `Service` path it offers: `poll_ready`,
//! `call`, then the response future polled to its end, as tower's contract asks of a caller.
//!
//! Groups: a successful call on a Closed breaker, a call rejected by an Open one, successful
//! calls from 1 and 2 threads on one breaker (each thread its own clone of the service, as
//! tower callers do), and an async inner service awaited in a tokio runtime. Allocations per
//! call are counted and printed. Run: `cargo bench --bench peers_tower`.

mod alloc_counter;

use circuit_core::tower::{CircuitBreakerLayer, ErrorsFail};
use circuit_core::{CircuitBreaker, CircuitError, Config};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use seatbelt::breaker::Breaker as SeatbeltBreaker;
use seatbelt::{RecoveryInfo, ResilienceContext};
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::sync::{Arc, Barrier, LazyLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tower::{Layer, Service, ServiceExt};
use tower_resilience_circuitbreaker::{
    CircuitBreakerError, CircuitBreakerLayer as ResilienceLayer,
};

#[global_allocator]
static ALLOCATOR: alloc_counter::Counting = alloc_counter::Counting;

/// Long enough that an opened breaker stays open for the whole run.
const HOUR: Duration = Duration::from_secs(3600);

/// The inner service: even numbers succeed, odd ones fail, answered at once.
#[derive(Clone, Copy)]
struct Even;

impl Service<u64> for Even {
    type Response = u64;
    type Error = u64;
    type Future = Ready<Result<u64, u64>>;

    #[inline]
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), u64>> {
        Poll::Ready(Ok(()))
    }

    #[inline(never)]
    fn call(&mut self, n: u64) -> Self::Future {
        ready(if black_box(n).is_multiple_of(2) {
            Ok(n)
        } else {
            Err(n)
        })
    }
}

/// One call the tower way, every future polled with a no-op waker: ready, call, poll to the
/// end. A `Pending` is polled again at once (tower-resilience's lock answers `Pending` while
/// another thread holds it), so contention costs what spinning on it costs.
#[inline(always)]
fn once<S: Service<u64>>(service: &mut S, n: u64) -> Result<S::Response, S::Error> {
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        match service.poll_ready(&mut cx) {
            Poll::Ready(Ok(())) => break,
            Poll::Ready(Err(e)) => return Err(e),
            Poll::Pending => std::hint::spin_loop(),
        }
    }
    let mut future = pin!(service.call(n));
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => std::hint::spin_loop(),
        }
    }
}

fn config(failure_threshold: u32) -> Config {
    Config::builder()
        .failure_threshold(failure_threshold)
        .recovery_timeout(HOUR)
        .build()
        .expect("valid config")
}

/// circuit, bound by name to a registry breaker (the layer's usual form).
fn circuit(
    name: &str,
) -> impl Service<u64, Response = u64, Error = CircuitError<u64>> + Clone + Send {
    CircuitBreakerLayer::named_with(name, config(5))
        .classifier(ErrorsFail)
        .layer(Even)
}

/// circuit, bound to an `Arc` the caller holds: one reference count per admitted call.
fn circuit_arc() -> impl Service<u64, Response = u64, Error = CircuitError<u64>> + Clone + Send {
    CircuitBreakerLayer::new(Arc::new(CircuitBreaker::new("peers-arc", config(5))))
        .classifier(ErrorsFail)
        .layer(Even)
}

/// tower-resilience: five consecutive failures open it, as circuit's configuration above.
fn resilience() -> impl Service<u64, Response = u64, Error = CircuitBreakerError<u64>> + Clone + Send
{
    ResilienceLayer::builder()
        .consecutive_failures(5)
        .wait_duration_in_open(HOUR)
        .build()
        .expect("valid tower-resilience config")
        .layer(Even)
}

/// seatbelt: opens at a failure rate over a sampling window with a minimum throughput; set to
/// open once at least 5 calls were seen and half of them failed.
fn seatbelt() -> impl Service<u64, Response = u64, Error = u64> + Clone + Send {
    let clock = clock();
    let context: ResilienceContext<u64, Result<u64, u64>> = ResilienceContext::new(&clock);
    let layer = SeatbeltBreaker::layer("peers", &context)
        .recovery_with(|result: &Result<u64, u64>, _| match result {
            Ok(_) => RecoveryInfo::never(),
            Err(_) => RecoveryInfo::retry(),
        })
        .rejected_input_error(|_, _| u64::MAX)
        .failure_threshold(0.5)
        .min_throughput(5)
        .break_duration(HOUR);
    layer.layer(Even)
}

/// seatbelt's clock: the system's time, with its timers driven by a tokio runtime that lives
/// as long as the bench (its one worker sleeps: nothing here sets a timer).
fn clock() -> tick::Clock {
    static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime")
    });
    let _entered = RUNTIME.enter();
    tick::Clock::new_tokio()
}

/// Fails calls until the service rejects one (its breaker is open), then returns it.
fn opened<S: Service<u64>>(mut service: S, is_rejection: impl Fn(&S::Error) -> bool) -> S {
    for _ in 0..1000 {
        match once(&mut service, 1) {
            Err(e) if is_rejection(&e) => return service,
            _ => {}
        }
    }
    panic!("the breaker never opened");
}

fn closed_success(c: &mut Criterion) {
    let mut g = c.benchmark_group("tower_closed_success");
    let mut plain = Even;
    let (mut cb, mut arc, mut tr, mut sb) = (
        circuit("peers-closed"),
        circuit_arc(),
        resilience(),
        seatbelt(),
    );
    g.bench_function("plain_service", |b| {
        b.iter(|| black_box(once(&mut plain, 2).ok()))
    });
    g.bench_function("circuit", |b| b.iter(|| black_box(once(&mut cb, 2).ok())));
    g.bench_function("circuit_arc", |b| {
        b.iter(|| black_box(once(&mut arc, 2).ok()))
    });
    g.bench_function("tower_resilience", |b| {
        b.iter(|| black_box(once(&mut tr, 2).ok()))
    });
    g.bench_function("seatbelt", |b| b.iter(|| black_box(once(&mut sb, 2).ok())));
    g.finish();
}

fn open_rejected(c: &mut Criterion) {
    let mut g = c.benchmark_group("tower_open_rejected");
    let mut cb = opened(circuit("peers-open"), |e| e.is_open());
    let mut tr = opened(resilience(), |e| {
        matches!(e, CircuitBreakerError::OpenCircuit)
    });
    let mut sb = opened(seatbelt(), |e| *e == u64::MAX);
    g.bench_function("circuit", |b| {
        b.iter(|| black_box(once(&mut cb, 2).is_err()))
    });
    g.bench_function("tower_resilience", |b| {
        b.iter(|| black_box(once(&mut tr, 2).is_err()))
    });
    g.bench_function("seatbelt", |b| {
        b.iter(|| black_box(once(&mut sb, 2).is_err()))
    });
    g.finish();
}

/// Runs `iters` calls on each of `threads` threads, each on its own clone of `service`, and
/// returns the wall time per call of the combined throughput.
fn on_threads<S>(threads: u64, iters: u64, service: &S) -> Duration
where
    S: Service<u64> + Clone + Send,
{
    let start_line = Barrier::new(threads as usize + 1);
    let mut started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let mut mine = service.clone();
            let start_line = &start_line;
            s.spawn(move || {
                start_line.wait();
                for _ in 0..iters {
                    let _ = black_box(once(&mut mine, 2).is_ok());
                }
            });
        }
        start_line.wait();
        started = Instant::now();
    });
    started.elapsed() / threads as u32
}

fn threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("tower_threads");
    let (cb, tr, sb) = (circuit("peers-threads"), resilience(), seatbelt());
    for threads in [1, 2] {
        g.bench_with_input(BenchmarkId::new("circuit", threads), &threads, |b, &t| {
            b.iter_custom(|iters| on_threads(t, iters, &cb))
        });
        g.bench_with_input(
            BenchmarkId::new("tower_resilience", threads),
            &threads,
            |b, &t| b.iter_custom(|iters| on_threads(t, iters, &tr)),
        );
        g.bench_with_input(BenchmarkId::new("seatbelt", threads), &threads, |b, &t| {
            b.iter_custom(|iters| on_threads(t, iters, &sb))
        });
    }
    g.finish();
}

/// An async inner service (an `async` block per call), each call awaited in a tokio runtime.
fn async_service(c: &mut Criterion) {
    let mut g = c.benchmark_group("tower_async");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let inner = tower::service_fn(|n: u64| async move {
        if black_box(n).is_multiple_of(2) {
            Ok::<u64, u64>(n)
        } else {
            Err(n)
        }
    });
    fn run<S: Service<u64> + Clone>(
        rt: &tokio::runtime::Runtime,
        service: &S,
        iters: u64,
    ) -> Duration {
        let mut service = service.clone();
        rt.block_on(async move {
            let start = Instant::now();
            for _ in 0..iters {
                let ready = service.ready().await.ok().expect("ready");
                let _ = black_box(ready.call(2).await.is_ok());
            }
            start.elapsed()
        })
    }
    let cb = CircuitBreakerLayer::named_with("peers-async", config(5))
        .classifier(ErrorsFail)
        .layer(inner);
    let tr = ResilienceLayer::builder()
        .consecutive_failures(5)
        .wait_duration_in_open(HOUR)
        .build()
        .unwrap()
        .layer(inner);
    let clock = clock();
    let context: ResilienceContext<u64, Result<u64, u64>> = ResilienceContext::new(&clock);
    let sb = SeatbeltBreaker::layer("peers-async", &context)
        .recovery_with(|result: &Result<u64, u64>, _| match result {
            Ok(_) => RecoveryInfo::never(),
            Err(_) => RecoveryInfo::retry(),
        })
        .rejected_input_error(|_, _| u64::MAX)
        .break_duration(HOUR)
        .layer(inner);
    g.bench_function("plain_service", |b| {
        b.iter_custom(|iters| run(&rt, &inner, iters))
    });
    g.bench_function("circuit", |b| b.iter_custom(|iters| run(&rt, &cb, iters)));
    g.bench_function("tower_resilience", |b| {
        b.iter_custom(|iters| run(&rt, &tr, iters))
    });
    g.bench_function("seatbelt", |b| b.iter_custom(|iters| run(&rt, &sb, iters)));
    g.finish();
}

/// Allocations per call on the success and rejection paths (printed).
fn allocations(_: &mut Criterion) {
    const CALLS: u64 = 10_000;
    let per_call = |mut service: Box<dyn FnMut() -> bool>| {
        service(); // warm up: thread-local state made on first use
        alloc_counter::allocations_per_call(CALLS, || {
            black_box(service());
        })
    };
    let (mut cb, mut arc, mut tr, mut sb) = (
        circuit("peers-alloc"),
        circuit_arc(),
        resilience(),
        seatbelt(),
    );
    let mut cb_open = opened(circuit("peers-alloc-open"), |e| e.is_open());
    let mut tr_open = opened(resilience(), |e| {
        matches!(e, CircuitBreakerError::OpenCircuit)
    });
    let mut sb_open = opened(seatbelt(), |e| *e == u64::MAX);
    let rows = [
        (
            "circuit, success",
            per_call(Box::new(move || once(&mut cb, 2).is_ok())),
        ),
        (
            "circuit (Arc), success",
            per_call(Box::new(move || once(&mut arc, 2).is_ok())),
        ),
        (
            "tower_resilience, success",
            per_call(Box::new(move || once(&mut tr, 2).is_ok())),
        ),
        (
            "seatbelt, success",
            per_call(Box::new(move || once(&mut sb, 2).is_ok())),
        ),
        (
            "circuit, rejected",
            per_call(Box::new(move || once(&mut cb_open, 2).is_err())),
        ),
        (
            "tower_resilience, rejected",
            per_call(Box::new(move || once(&mut tr_open, 2).is_err())),
        ),
        (
            "seatbelt, rejected",
            per_call(Box::new(move || once(&mut sb_open, 2).is_err())),
        ),
    ];
    println!("\nallocations per call through tower ({CALLS} calls each):");
    for (name, allocs) in rows {
        println!("  {name:<28} {allocs:.2}");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    targets = closed_success, open_rejected, threads, async_service, allocations
}
criterion_main!(benches);
