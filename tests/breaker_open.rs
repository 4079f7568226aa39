//! Open: rejections with the time left, then HalfOpen once the recovery timeout has passed.

mod common;
use circuit_core::{CircuitError, Config, State};
use common::*;
use std::time::Duration;

fn tripped() -> (
    circuit_core::CircuitBreaker,
    circuit_core::clock::ManualClock,
) {
    let (b, clock) = breaker_with(Config::builder().failure_threshold(1));
    let _ = fail(&b);
    assert_eq!(b.state(), State::Open);
    (b, clock)
}

#[test]
fn a_rejection_reports_the_time_left() {
    let (b, clock) = tripped();
    clock.advance(secs(20));
    let Err(CircuitError::Open(open)) = succeed(&b) else {
        panic!("expected a rejection")
    };
    assert_eq!(open.retry_after(), Some(secs(40)));
    assert_eq!(b.retry_after(), Some(secs(40)));
    assert!(open.to_string().contains("\"test\""), "{open}");
}

#[test]
fn state_reads_half_open_once_the_recovery_timeout_has_passed() {
    let (b, clock) = tripped();
    clock.advance(secs(60) - Duration::from_millis(1));
    assert_eq!(b.state(), State::Open);
    clock.advance(Duration::from_millis(1));
    assert_eq!(b.state(), State::HalfOpen);
}

#[test]
fn the_first_call_after_the_timeout_is_a_trial_that_runs() {
    let (b, clock) = tripped();
    clock.advance(secs(60));
    assert_eq!(succeed(&b).unwrap(), 1);
    assert_eq!(b.state(), State::HalfOpen);
    assert_eq!(b.snapshot().success_count, 1);
}

#[test]
fn a_zero_length_wait_does_not_count_as_the_timeout() {
    let (b, _clock) = tripped();
    for _ in 0..10 {
        assert!(matches!(succeed(&b), Err(CircuitError::Open(_))));
    }
    assert_eq!(b.snapshot().rejected, 10);
}
