//! The call path allocates nothing: success, failure below the threshold, rejection, a
//! half-open trial, and an async call on a ready future. A counting global allocator proves it.
//!
//! Keep this file a test binary of its own: `#[global_allocator]` replaces the allocator of the
//! whole binary, so every test sharing it would run on the counting allocator, and a binary can
//! have only one (a second file declaring its own would not build).

use circuit_core::clock::ManualClock;
use circuit_core::{CircuitBreaker, Config};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::{ready, Future};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

struct Counting;

thread_local! {
    /// Allocations made by this thread. Per thread, so the test harness's other threads
    /// (other tests, output capture) cannot disturb the count.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards every call to `System` unchanged; counting touches a const thread-local
// `Cell`, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged; `ptr` came from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations this thread makes while running `f` `n` times.
fn allocations(n: usize, mut f: impl FnMut()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    for _ in 0..n {
        f();
    }
    ALLOCATIONS.with(Cell::get) - before
}

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
fn the_counter_sees_allocations() {
    // Without this, a broken counter would let every test above pass.
    let n = allocations(10, || drop(std::hint::black_box(Box::new(7_u64))));
    assert_eq!(n, 10);
}
