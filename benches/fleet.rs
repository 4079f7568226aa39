//! The fleet's measurements for BENCHMARKS.md, on a real Redis (`redis-server` on 127.0.0.1,
//! started and stopped here): `cargo bench --bench fleet`.
//!
//! 1. Propagation: from the call that trips a breaker on instance A to the moment instance B's
//!    breaker starts rejecting (B's transition to Open), quorum 1, over `TRIPS` trips; p50,
//!    p99 and max. A and B are registries of one process, each with its own fleet (its own
//!    connections and task), so the path is the real one: A's listener, A's task, Redis,
//!    B's subscription, B's task, B's state word.
//! 2. The call path with the fleet attached and without: a Closed success and an Open
//!    rejection, nanoseconds per call, median of 7 runs of 2,000,000 calls.
//! 3. Trial calls reaching the dependency per recovery, with N instances, with and without
//!    the fleet.

#[path = "../tests/common/redis_server.rs"]
#[allow(dead_code)]
mod redis_server;

use circuit_core::fleet::Fleet;
use circuit_core::{CircuitBreaker, Config, Registry, State};
use redis_server::Redis;
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const TRIPS: usize = 300;

fn config(recovery: Duration) -> Config {
    Config::builder()
        .failure_threshold(1)
        .success_threshold(1)
        .half_open_max_calls(1)
        .recovery_timeout(recovery)
        .build()
        .unwrap()
}

fn attach(redis: &Redis, registry: &Arc<Registry>, id: &str, quorum: u32) -> Fleet {
    Fleet::builder(redis.url(), "fleet-bench")
        .instance(id)
        .quorum(quorum)
        .attach(registry.clone())
        .unwrap()
}

async fn until_connected(fleets: &[&Fleet]) {
    let start = Instant::now();
    while !fleets.iter().all(|f| f.is_connected()) {
        assert!(start.elapsed() < Duration::from_secs(10), "no connection");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

async fn propagation(redis: &Redis) {
    let (a, b) = (Arc::new(Registry::new()), Arc::new(Registry::new()));
    let recovery = Duration::from_secs(60);
    let on_a = a.get_or_create("db", config(recovery));
    let on_b = b.get_or_create("db", config(recovery));
    let (opened, mut heard) = mpsc::unbounded_channel::<Instant>();
    b.on_state_change(move |t| {
        if t.to == State::Open {
            let _ = opened.send(Instant::now());
        }
    });
    let (fleet_a, fleet_b) = (attach(redis, &a, "a", 1), attach(redis, &b, "b", 1));
    until_connected(&[&fleet_a, &fleet_b]).await;

    let mut times = Vec::with_capacity(TRIPS);
    for _ in 0..TRIPS {
        let tripped = Instant::now();
        let _ = on_a.call(|| Err::<(), _>("down"));
        let at = tokio::time::timeout(Duration::from_secs(5), heard.recv())
            .await
            .expect("B opened within 5 s")
            .unwrap();
        times.push(at - tripped);
        // Both back to Closed; A's `closed` withdraws its key before the next trip.
        on_a.reset();
        on_b.reset();
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    times.sort();
    println!(
        "propagation, trip on A -> rejecting on B, {TRIPS} trips: p50 {:?}, p99 {:?}, max {:?}, min {:?}",
        percentile(&times, 0.50),
        percentile(&times, 0.99),
        times[times.len() - 1],
        times[0]
    );
    fleet_a.shutdown().await;
    fleet_b.shutdown().await;
}

/// Nanoseconds per call of `call`, median of 7 runs.
fn per_call(calls: u32, mut call: impl FnMut()) -> f64 {
    let mut runs: Vec<f64> = (0..7)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls {
                call();
            }
            start.elapsed().as_nanos() as f64 / f64::from(calls)
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[3]
}

fn call_path(label: &str, breaker: &CircuitBreaker) {
    const CALLS: u32 = 2_000_000;
    breaker.reset();
    let success = per_call(CALLS, || {
        let _ = black_box(breaker.call(|| Ok::<_, ()>(black_box(1))));
    });
    let _ = breaker.call(|| Err::<(), _>(()));
    assert_eq!(breaker.state(), State::Open);
    let rejection = per_call(CALLS, || {
        let _ = black_box(breaker.call(|| Ok::<_, ()>(black_box(1))));
    });
    breaker.reset();
    println!(
        "call path, {label}: closed success {success:.1} ns, open rejection {rejection:.1} ns"
    );
}

async fn call_cost(redis: &Redis) {
    let alone = Registry::new();
    let breaker = alone.get_or_create("db", config(Duration::from_secs(3600)));
    let attached = Arc::new(Registry::new());
    let with_fleet = attached.get_or_create("db", config(Duration::from_secs(3600)));
    let fleet = attach(redis, &attached, "cost", 2);
    until_connected(&[&fleet]).await;
    // Alternated, twice, so that drift of the machine shows as a spread, not as a difference.
    for _ in 0..2 {
        call_path("no fleet", &breaker);
        call_path("fleet attached", &with_fleet);
    }
    fleet.shutdown().await;
}

/// All `n` instances trip, then the dependency answers again; how many trial calls reach it
/// before every instance is Closed.
async fn trials_per_recovery(redis: Option<&Redis>, n: usize, service: &str) -> u32 {
    let recovery = Duration::from_millis(500);
    let registries: Vec<Arc<Registry>> = (0..n).map(|_| Arc::new(Registry::new())).collect();
    let breakers: Vec<_> = registries
        .iter()
        .map(|r| r.get_or_create("db", config(recovery)))
        .collect();
    let fleets: Vec<Fleet> = match redis {
        Some(redis) => registries
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Fleet::builder(redis.url(), service)
                    .instance(format!("i{i}"))
                    .attach(r.clone())
                    .unwrap()
            })
            .collect(),
        None => Vec::new(),
    };
    until_connected(&fleets.iter().collect::<Vec<_>>()).await;
    for b in &breakers {
        let _ = b.call(|| Err::<(), _>("down"));
    }
    let trials = Arc::new(AtomicU32::new(0));
    let start = Instant::now();
    while breakers.iter().any(|b| b.state() != State::Closed) {
        assert!(start.elapsed() < Duration::from_secs(20), "never closed");
        for b in &breakers {
            let (probe, trials) = (b.clone(), trials.clone());
            let _ = b.call(move || {
                if probe.state() == State::HalfOpen {
                    trials.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<_, ()>(())
            });
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    for fleet in fleets {
        fleet.shutdown().await;
    }
    trials.load(Ordering::Relaxed)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let redis = Redis::start();
    propagation(&redis).await;
    call_cost(&redis).await;
    for n in [2, 3, 5] {
        let mut with = Vec::new();
        let mut without = Vec::new();
        for round in 0..5 {
            let service = format!("trials-{n}-{round}");
            with.push(trials_per_recovery(Some(&redis), n, &service).await);
            without.push(trials_per_recovery(None, n, &service).await);
        }
        println!(
            "trial calls per recovery, {n} instances, 5 recoveries: with the fleet {with:?}, without {without:?}"
        );
    }
}
