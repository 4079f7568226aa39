//! Clock jumps of any length: after a jump at least `recovery_timeout` long the breaker reads
//! HalfOpen, and `retry_after` never says more than the time left.
//!
//! Regression: `ManualClock::advance(Duration::MAX)` while Open left the breaker Open for good,
//! `retry_after` saying 60 s; so did any jump past about 17.4 years. The state word keeps
//! deadlines modulo 2^40 ms, and the jump wrapped the comparison.

mod common;
use circuit_core::clock::{Clock, ManualClock};
use circuit_core::{CircuitBreaker, Config, State};
use common::*;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(60);
const MS: u64 = 1_000_000;

/// Jumps, in nanoseconds, around every boundary of the word's millisecond range: half of it
/// (17.4 years), all of it (34.8 years), and the ends of `u64`.
fn jumps() -> Vec<u64> {
    let half = (1u64 << 39) * MS;
    let full = (1u64 << 40) * MS;
    let timeout = TIMEOUT.as_nanos() as u64;
    let mut jumps = vec![
        timeout,
        timeout + 1,
        24 * 3600 * 1_000_000_000,
        half - timeout,
        half - 1,
        half,
        half + 1,
        half + timeout,
        full - timeout,
        full - 1,
        full,
        full + 1,
        full + timeout,
        full + half,
        100 * 365 * 24 * 3600 * 1_000_000_000,
        u64::MAX - 1,
        u64::MAX,
    ];
    // And a spread of others between the timeout and u64::MAX (a fixed generator, so a failure
    // is repeatable).
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        jumps.push(timeout + x % (u64::MAX - timeout));
    }
    jumps
}

/// A breaker with `failure_threshold(1)`, tripped when its clock reads `at`.
fn tripped_at(at: Duration) -> (CircuitBreaker, ManualClock) {
    let (b, clock) = breaker_with(
        Config::builder()
            .failure_threshold(1)
            .success_threshold(1)
            .recovery_timeout(TIMEOUT),
    );
    clock.advance(at);
    let _ = fail(&b);
    assert_eq!(b.state(), State::Open);
    (b, clock)
}

#[test]
fn after_a_jump_of_duration_max_the_breaker_reads_half_open() {
    let (b, clock) = tripped_at(Duration::from_millis(5));
    clock.advance(Duration::MAX);
    assert_eq!(b.retry_after(), Some(Duration::ZERO), "no time is left");
    assert_eq!(b.state(), State::HalfOpen);
    assert!(matches!(succeed(&b), Ok(1)));
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn after_any_jump_at_least_the_recovery_timeout_the_breaker_reads_half_open() {
    let jumps = jumps();
    for at in [Duration::ZERO, Duration::from_nanos(1_500_001), secs(3600)] {
        for &jump in &jumps {
            let (b, clock) = tripped_at(at);
            clock.advance(Duration::from_nanos(jump));
            assert_eq!(
                b.retry_after(),
                Some(Duration::ZERO),
                "tripped at {at:?}, jumped {jump} ns: no time is left"
            );
            assert_eq!(
                b.state(),
                State::HalfOpen,
                "tripped at {at:?}, jumped {jump} ns"
            );
        }
    }
    assert_eq!(jumps.len(), 2017);
}

#[test]
fn a_jump_shorter_than_the_timeout_leaves_exactly_the_rest() {
    for jump in [1, MS, 59_999 * MS, 60_000 * MS - 1] {
        let (b, clock) = tripped_at(Duration::from_millis(7));
        clock.advance(Duration::from_nanos(jump));
        let left = b.retry_after().expect("still open");
        assert_eq!(left, TIMEOUT - Duration::from_nanos(jump));
        clock.advance(left);
        assert_eq!(b.state(), State::HalfOpen, "jumped {jump} ns");
    }
}

/// At the end of its time (the clock jumped past 17 years) the breaker keeps deciding: it
/// trips, and its Open period ends at once since the clock no longer moves for it.
#[test]
fn a_breaker_whose_clock_has_stopped_still_trips_and_recovers() {
    let (b, clock) = tripped_at(Duration::ZERO);
    clock.advance(Duration::MAX);
    assert_eq!(b.state(), State::HalfOpen);
    let _ = fail(&b);
    assert_eq!(b.retry_after(), Some(Duration::ZERO));
    assert_eq!(b.state(), State::HalfOpen);
    assert!(matches!(succeed(&b), Ok(1)));
    assert_eq!(b.state(), State::Closed);
}

/// A custom clock counting from 1970 reads past 2^40 ms; the breaker counts from when it took
/// the clock, so Open periods are exact on it too.
#[test]
fn a_clock_with_a_distant_origin_keeps_exact_open_periods() {
    let clock = ManualClock::new();
    clock.advance(Duration::from_secs(56 * 365 * 24 * 3600));
    assert!(clock.now() > Duration::from_millis(1 << 40));
    let config = Config::builder()
        .failure_threshold(1)
        .clock(clock.clone())
        .build()
        .unwrap();
    let b = CircuitBreaker::new("distant", config);
    let _ = fail(&b);
    assert_eq!(b.retry_after(), Some(TIMEOUT));
    clock.advance(TIMEOUT - Duration::from_nanos(1));
    assert_eq!(b.state(), State::Open);
    clock.advance(Duration::from_nanos(1));
    assert_eq!(b.state(), State::HalfOpen);
}
