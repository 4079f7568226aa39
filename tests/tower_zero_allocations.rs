//! A call through `CircuitBreakerLayer` allocates nothing: admitted (registry breaker or
//! `Arc`), failed, rejected, and through a per-key layer once the key's breaker exists. A
//! counting global allocator proves it.
//!
//! Keep this file a test binary of its own: `#[global_allocator]` replaces the allocator of the
//! whole binary.

use circuit_core::clock::ManualClock;
use circuit_core::tower::{CircuitBreakerLayer, ErrorsFail, KeyedCircuitBreakerLayer};
use circuit_core::{registry, CircuitBreaker, Config, KeyedLimits};
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tower::{Layer, Service};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{allocations, Counting};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// An inner service answering `Ok(n)` for even numbers and `Err` for odd ones, at once.
#[derive(Clone, Copy)]
struct Even;

impl Service<u64> for Even {
    type Response = u64;
    type Error = u64;
    type Future = Ready<Result<u64, u64>>;
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), u64>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, n: u64) -> Self::Future {
        ready(if n.is_multiple_of(2) { Ok(n) } else { Err(n) })
    }
}

/// Polls a ready future to its output.
fn finish<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the inner service answers at once"),
    }
}

fn config(failure_threshold: u32, clock: &ManualClock) -> Config {
    Config::builder()
        .failure_threshold(failure_threshold)
        .recovery_timeout(Duration::from_secs(3600))
        .clock(clock.clone())
        .build()
        .unwrap()
}

#[test]
fn calls_through_a_layer_allocate_nothing() {
    let clock = ManualClock::new();
    let mut named = CircuitBreakerLayer::named_with("tower-alloc-named", config(1_000_000, &clock))
        .classifier(ErrorsFail)
        .layer(Even);
    let arc = Arc::new(CircuitBreaker::new(
        "tower-alloc-arc",
        config(1_000_000, &clock),
    ));
    let mut shared = CircuitBreakerLayer::new(arc.clone())
        .classifier(ErrorsFail)
        .layer(Even);
    // Warm up: thread-local totals stripes and the like are made on first use.
    let _ = finish(named.call(2));
    let _ = finish(shared.call(2));

    assert_eq!(
        allocations(10_000, || assert!(finish(named.call(2)).is_ok())),
        0
    );
    assert_eq!(
        allocations(10_000, || assert!(finish(shared.call(2)).is_ok())),
        0
    );
    // Failures below the threshold.
    assert_eq!(
        allocations(100, || assert!(finish(named.call(3)).is_err())),
        0
    );

    // Rejections.
    let mut open = CircuitBreakerLayer::named_with("tower-alloc-open", config(1, &clock))
        .classifier(ErrorsFail)
        .layer(Even);
    let _ = finish(open.call(1));
    assert!(finish(open.call(2)).unwrap_err().is_open());
    assert_eq!(
        allocations(10_000, || assert!(finish(open.call(2))
            .unwrap_err()
            .is_open())),
        0
    );
    assert_eq!(arc.snapshot().successes, 10_001);
}

#[test]
fn a_keyed_layer_allocates_nothing_once_the_key_has_its_breaker() {
    let clock = ManualClock::new();
    let set = registry().keyed(
        "tower-alloc-keyed",
        config(1_000_000, &clock),
        KeyedLimits::default(),
    );
    let mut service = KeyedCircuitBreakerLayer::new(set, |_: &u64| "tenant-a")
        .classifier(ErrorsFail)
        .layer(Even);
    let _ = finish(service.call(2));
    assert_eq!(
        allocations(10_000, || assert!(finish(service.call(2)).is_ok())),
        0
    );
}
