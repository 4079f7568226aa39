//! The call path allocates nothing: success, failure below the threshold, rejection, a
//! half-open trial, an async call on a ready future, and a call timed for the duration
//! histogram. A counting global allocator proves it.
//!
//! Keep this file a test binary of its own: `#[global_allocator]` replaces the allocator of the
//! whole binary, so every test sharing it would run on the counting allocator, and a binary can
//! have only one (a second file declaring its own would not build).

use circuit_core::clock::ManualClock;
use circuit_core::{CircuitBreaker, Config};
use std::future::{ready, Future};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{allocations, Counting};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn breaker(failure_threshold: u32) -> (CircuitBreaker, ManualClock) {
    let clock = ManualClock::new();
    let config = Config::builder()
        .failure_threshold(failure_threshold)
        .half_open_max_calls(1000)
        .success_threshold(1000)
        .clock(clock.clone())
        .build()
        .unwrap();
    let breaker = CircuitBreaker::new("alloc", config);
    // Warm up: the thread's stripe lease and the breaker's first call may allocate once.
    let _ = breaker.call(|| Ok::<_, ()>(()));
    (breaker, clock)
}

#[test]
fn a_successful_call_allocates_nothing() {
    let (b, _) = breaker(5);
    assert_eq!(
        allocations(10_000, || assert!(b.call(|| Ok::<_, ()>(1)).is_ok())),
        0
    );
}

#[test]
fn a_failure_below_the_threshold_allocates_nothing() {
    let (b, _) = breaker(u32::MAX);
    assert_eq!(
        allocations(10_000, || assert!(b.call(|| Err::<(), _>(())).is_err())),
        0
    );
}

#[test]
fn a_rejected_call_allocates_nothing() {
    let (b, _) = breaker(1);
    let _ = b.call(|| Err::<(), _>(()));
    assert_eq!(
        allocations(10_000, || assert!(b.call(|| Ok::<_, ()>(1)).is_err())),
        0
    );
    b.force_open();
    assert_eq!(
        allocations(10_000, || assert!(b.call(|| Ok::<_, ()>(1)).is_err())),
        0
    );
}

#[test]
fn a_half_open_trial_allocates_nothing() {
    let (b, clock) = breaker(1);
    let _ = b.call(|| Err::<(), _>(()));
    clock.advance(Duration::from_secs(60));
    let _ = b.state(); // the transition itself builds an event; the trials after it must not
    assert_eq!(
        allocations(999, || assert!(b.call(|| Ok::<_, ()>(1)).is_ok())),
        0
    );
}

#[test]
fn an_async_call_on_a_ready_future_allocates_nothing() {
    let (b, _) = breaker(5);
    let n = allocations(10_000, || {
        let fut = pin!(b.call_async(ready(Ok::<_, ()>(1))));
        let mut fut = fut;
        match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(r) => assert!(r.is_ok()),
            Poll::Pending => panic!("a ready future must finish on its first poll"),
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn a_breaker_that_records_call_durations_allocates_nothing_per_call() {
    let clock = ManualClock::new();
    let config = Config::builder()
        .record_call_durations(true)
        .failure_threshold(u32::MAX)
        .clock(clock.clone())
        .build()
        .unwrap();
    let b = CircuitBreaker::new("alloc-durations", config);
    // Warm up: the histogram's stripe table and this thread's stripe, once.
    let _ = b.call(|| Ok::<_, ()>(()));
    let n = allocations(10_000, || {
        assert!(b.call(|| Ok::<_, ()>(1)).is_ok());
        assert!(b.call(|| Err::<(), _>(())).is_err());
    });
    assert_eq!(n, 0);
    assert_eq!(b.durations().unwrap().count(), 20_001);
}

#[test]
fn the_counter_sees_allocations() {
    // Without this, a broken counter would let every test above pass.
    let n = allocations(10, || drop(std::hint::black_box(Box::new(7_u64))));
    assert_eq!(n, 10);
}
