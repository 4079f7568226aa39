//! Closed: consecutive failures trip the breaker; a success clears them.

mod common;
use circuit_core::{CircuitError, Config, State};
use common::*;

#[test]
fn consecutive_failures_open_the_breaker_and_the_tripping_call_returns_its_own_error() {
    let (b, _clock) = breaker();
    for i in 1..=4 {
        assert!(matches!(fail(&b), Err(CircuitError::Inner("boom"))));
        assert_eq!(b.snapshot().failure_count, i);
        assert_eq!(b.state(), State::Closed);
    }
    // The fifth failure trips it, and that call still sees its own error.
    assert!(matches!(fail(&b), Err(CircuitError::Inner("boom"))));
    assert_eq!(b.state(), State::Open);
}

#[test]
fn a_success_sets_the_failure_count_back_to_zero() {
    let (b, _clock) = breaker();
    for _ in 0..4 {
        let _ = fail(&b);
    }
    assert_eq!(b.snapshot().failure_count, 4);
    assert_eq!(succeed(&b).unwrap(), 1);
    assert_eq!(b.snapshot().failure_count, 0);
    for _ in 0..4 {
        let _ = fail(&b);
    }
    assert_eq!(b.state(), State::Closed, "failures must be consecutive");
}

#[test]
fn calls_after_the_trip_are_rejected_without_running() {
    let (b, _clock) = breaker_with(Config::builder().failure_threshold(1));
    let _ = fail(&b);
    let mut ran = false;
    let r: Result<(), CircuitError<()>> = b.call(|| {
        ran = true;
        Ok(())
    });
    assert!(!ran);
    let Err(CircuitError::Open(open)) = r else {
        panic!("expected a rejection")
    };
    assert_eq!(open.name(), "test");
    assert_eq!(open.state(), State::Open);
}

#[test]
fn call_with_counts_only_the_errors_it_classifies_as_failures() {
    let (b, _clock) = breaker_with(Config::builder().failure_threshold(2));
    for _ in 0..5 {
        let r: Result<(), _> = b.call_with(|| Err("not found"), |e| *e != "not found");
        assert!(matches!(r, Err(CircuitError::Inner("not found"))));
    }
    assert_eq!(b.state(), State::Closed);
    let s = b.snapshot();
    assert_eq!(
        (s.successes, s.failures),
        (5, 0),
        "an excluded error is a successful round trip"
    );
}

#[test]
fn totals_count_successes_failures_and_rejections() {
    let (b, _clock) = breaker_with(Config::builder().failure_threshold(2));
    let _ = succeed(&b);
    let _ = fail(&b);
    let _ = fail(&b);
    let _ = succeed(&b);
    let _ = succeed(&b);
    b.record_fallback();
    let s = b.snapshot();
    assert_eq!(
        (s.successes, s.failures, s.rejected, s.fallbacks),
        (1, 2, 2, 1)
    );
    assert!(s.last_failure.is_some());
}
