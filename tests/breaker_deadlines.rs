//! Open deadlines at any clock reading: a breaker that trips between two whole milliseconds is
//! Open for exactly `recovery_timeout`, and `retry_after` is exactly the time left, so a caller
//! that waits what it was told finds the breaker HalfOpen.
//!
//! Regression: a trip at 1.5 ms with a 1 s timeout stayed Open until 1002 ms (the deadline was
//! rounded up to a whole millisecond) while `retry_after` said 1 s, so waiting exactly that long
//! was rejected again with half a millisecond left.

mod common;
use circuit_core::clock::ManualClock;
use circuit_core::{CircuitBreaker, CircuitError, Config, State};
use common::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const NS: Duration = Duration::from_nanos(1);

/// Clock readings at which the tests trip breakers: on, just after, between and just before
/// whole milliseconds.
const READINGS_NS: [u64; 7] = [0, 1, 500_000, 1_500_000, 999_999, 7_250_001, 59_999_999_999];

/// Recovery timeouts, whole and not: the shortest the builder takes, a millisecond, a second,
/// the defaults', one with a sub-millisecond part.
const TIMEOUTS: [Duration; 5] = [
    Duration::from_nanos(1),
    Duration::from_millis(1),
    Duration::from_secs(1),
    Duration::from_secs(60),
    Duration::from_nanos(2_000_300_001),
];

/// A breaker with `failure_threshold(1)`, tripped when its clock reads `at_ns`.
fn tripped_at(at_ns: u64, timeout: Duration) -> (CircuitBreaker, ManualClock) {
    let (b, clock) = breaker_with(
        Config::builder()
            .failure_threshold(1)
            .recovery_timeout(timeout),
    );
    clock.advance(Duration::from_nanos(at_ns));
    assert!(matches!(fail(&b), Err(CircuitError::Inner(_))));
    assert_eq!(b.state(), State::Open);
    (b, clock)
}

fn each_trip(mut check: impl FnMut(CircuitBreaker, ManualClock, Duration, &str)) {
    for at in READINGS_NS {
        for timeout in TIMEOUTS {
            let (b, clock) = tripped_at(at, timeout);
            check(
                b,
                clock,
                timeout,
                &format!("tripped at {at} ns, timeout {timeout:?}"),
            );
        }
    }
}

#[test]
fn waiting_exactly_retry_after_finds_the_breaker_half_open() {
    each_trip(|b, clock, _, at| {
        let wait = b.retry_after().expect("open");
        clock.advance(wait);
        assert_eq!(b.state(), State::HalfOpen, "{at}, waited {wait:?}");
    });
}

#[test]
fn waiting_what_a_rejection_said_lets_the_next_call_through_as_a_trial() {
    each_trip(|b, clock, timeout, at| {
        clock.advance(timeout / 3);
        let Err(CircuitError::Open(open)) = succeed(&b) else {
            panic!("{at}: expected a rejection")
        };
        clock.advance(open.retry_after().expect("open"));
        assert_eq!(succeed(&b).unwrap(), 1, "{at}");
        assert_eq!(b.state(), State::HalfOpen, "{at}");
    });
}

#[test]
fn the_open_period_is_exactly_the_recovery_timeout() {
    each_trip(|b, clock, timeout, at| {
        clock.advance(timeout - NS);
        assert_eq!(b.state(), State::Open, "{at}: ended early");
        assert_eq!(b.retry_after(), Some(NS), "{at}");
        clock.advance(NS);
        assert_eq!(b.state(), State::HalfOpen, "{at}: ended late");
        assert_eq!(b.retry_after(), None, "{at}");
    });
}

#[test]
fn retry_after_is_the_time_left_to_the_nanosecond() {
    each_trip(|b, clock, timeout, at| {
        assert_eq!(b.retry_after(), Some(timeout), "{at}, right after the trip");
        let mut waited = Duration::ZERO;
        // Steps that cross millisecond boundaries at every offset.
        for step in [333_333, 1, 999_999, 250_001, 1_000_000] {
            let step = Duration::from_nanos(step);
            if waited + step >= timeout {
                break;
            }
            clock.advance(step);
            waited += step;
            assert_eq!(
                b.retry_after(),
                Some(timeout - waited),
                "{at}, after {waited:?}"
            );
            let Err(CircuitError::Open(open)) = succeed(&b) else {
                panic!("{at}: expected a rejection after {waited:?}")
            };
            assert_eq!(open.retry_after(), Some(timeout - waited), "{at}");
        }
    });
}

#[test]
fn a_failed_trial_at_a_sub_millisecond_reading_reopens_for_exactly_the_timeout() {
    each_trip(|b, clock, timeout, at| {
        clock.advance(timeout + Duration::from_nanos(123_457));
        assert_eq!(b.state(), State::HalfOpen, "{at}");
        assert!(matches!(fail(&b), Err(CircuitError::Inner(_))), "{at}");
        assert_eq!(
            b.retry_after(),
            Some(timeout),
            "{at}, after the failed trial"
        );
        clock.advance(timeout - NS);
        assert_eq!(b.state(), State::Open, "{at}");
        clock.advance(NS);
        assert_eq!(b.state(), State::HalfOpen, "{at}");
    });
}

#[test]
fn a_listener_hearing_the_trip_reads_the_whole_timeout() {
    let (b, clock) = breaker_with(Config::builder().failure_threshold(1));
    clock.advance(Duration::from_nanos(1_500_000));
    let heard = Arc::new(Mutex::new(Vec::new()));
    let breaker = Arc::new(b);
    // A weak handle: the listener lives inside the breaker it reads.
    let weak = Arc::downgrade(&breaker);
    let h = heard.clone();
    breaker.on_state_change(move |t| {
        if let Some(b) = weak.upgrade() {
            h.lock().unwrap().push((t.to, b.retry_after()));
        }
    });
    let _ = fail(&breaker);
    assert_eq!(*heard.lock().unwrap(), [(State::Open, Some(secs(60)))]);
}

#[test]
fn a_new_clock_restarts_the_open_period_exactly() {
    let (b, _old) = tripped_at(1_500_000, secs(1));
    let clock = ManualClock::new();
    clock.advance(Duration::from_nanos(42_000_001));
    let config = Config::builder()
        .failure_threshold(1)
        .recovery_timeout(secs(1))
        .clock(clock.clone())
        .build()
        .unwrap();
    b.reconfigure(config);
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.retry_after(), Some(secs(1)));
    clock.advance(secs(1) - NS);
    assert_eq!(b.state(), State::Open);
    clock.advance(NS);
    assert_eq!(b.state(), State::HalfOpen);
}
