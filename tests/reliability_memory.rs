//! Leak check: millions of state changes keep resident memory flat, with no listener and with
//! one. (recloser was measured growing by about 94 MB per million transitions.)
//!
//! Keep this file a test binary of its own, with its one test: it reads the resident memory of
//! the whole process (`VmRSS`), so any other test running in the same process, on another
//! thread, would move the reading with its own allocations and fail or mask a leak.
#![cfg(target_os = "linux")]

use circuit_core::clock::ManualClock;
use circuit_core::{CircuitBreaker, CircuitError, Config, State};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// More than 2^21, the state word's epoch range, so the epochs (and the events queue that
/// orders deliveries by them) wrap around at least once.
const CHANGES: u64 = 2_200_000;
/// Far below a leak of even a few bytes per change (2.2 M changes x 8 B = 17 MiB), far above
/// the allocator's noise.
const ALLOWED_GROWTH_KIB: u64 = 4 * 1024;

/// Resident memory of this process, in KiB.
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS in /proc/self/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Drives `b` through `changes` transitions: Closed -> Open -> HalfOpen -> Closed, with a
/// forced-open-and-reset now and then. Returns how many it made (`changes` or a few more).
fn churn(b: &CircuitBreaker, clock: &ManualClock, changes: u64) -> u64 {
    let mut done = 0;
    while done < changes {
        let _: Result<(), CircuitError<()>> = b.call(|| Err(()));
        clock.advance(Duration::from_millis(1));
        assert_eq!(b.state(), State::HalfOpen);
        let _: Result<(), CircuitError<()>> = b.call(|| Ok(()));
        done += 3;
        if done % 300 == 0 {
            b.force_open();
            b.reset();
            done += 2;
        }
    }
    done
}

fn breaker() -> (CircuitBreaker, ManualClock) {
    let clock = ManualClock::new();
    let config = Config::builder()
        .failure_threshold(1)
        .success_threshold(1)
        .half_open_max_calls(1)
        .recovery_timeout(Duration::from_millis(1))
        .clock(clock.clone())
        .build()
        .unwrap();
    (CircuitBreaker::new("memory", config), clock)
}

/// Growth of resident memory over `CHANGES` transitions, after a warm-up that lets the
/// allocator and the events queue reach their working size; and the transitions made in all.
fn growth_kib(b: &CircuitBreaker, clock: &ManualClock) -> (u64, u64) {
    let warm_up = churn(b, clock, 30_000);
    let before = resident_kib();
    let measured = churn(b, clock, CHANGES);
    let growth = resident_kib().saturating_sub(before);
    println!("{growth} KiB over {measured} state changes");
    (growth, warm_up + measured)
}

#[test]
fn millions_of_state_changes_keep_resident_memory_flat() {
    let (quiet, clock) = breaker();
    let (growth, _) = growth_kib(&quiet, &clock);
    assert!(
        growth <= ALLOWED_GROWTH_KIB,
        "no listener: resident memory grew by {growth} KiB over {CHANGES} state changes"
    );

    let (heard, clock) = breaker();
    let count = Arc::new(AtomicU64::new(0));
    let c = count.clone();
    heard.on_state_change(move |_| {
        c.fetch_add(1, Ordering::Relaxed);
    });
    let (growth, changes) = growth_kib(&heard, &clock);
    assert!(
        growth <= ALLOWED_GROWTH_KIB,
        "one listener: resident memory grew by {growth} KiB over {CHANGES} state changes"
    );
    // Every change reached the listener, across the epochs' wrap-around.
    assert_eq!(count.load(Ordering::Relaxed), changes);
}
