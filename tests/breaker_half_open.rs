//! HalfOpen: a limited number of trials; successes close the breaker, a failure re-opens it.

mod common;
use circuit_core::{CircuitError, Config, State};
use common::*;

fn half_open(
    builder: circuit_core::ConfigBuilder,
) -> (
    circuit_core::CircuitBreaker,
    circuit_core::clock::ManualClock,
) {
    let (b, clock) = breaker_with(builder.failure_threshold(1));
    let _ = fail(&b);
    clock.advance(secs(60));
    assert_eq!(b.state(), State::HalfOpen);
    (b, clock)
}

#[test]
fn admits_at_most_half_open_max_calls_trials() {
    let (b, _clock) = half_open(
        Config::builder()
            .half_open_max_calls(3)
            .success_threshold(3),
    );
    let permits: Vec<_> = (0..3)
        .map(|_| b.try_acquire().expect("a trial slot"))
        .collect();
    let Err(open) = b.try_acquire() else {
        panic!("a fourth trial was admitted")
    };
    assert_eq!(open.state(), State::HalfOpen);
    // A hint: the whole recovery timeout (60 s) is shorter than the wait left (120 s).
    assert_eq!(open.retry_after(), Some(secs(60)));
    for p in permits {
        p.success();
    }
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn closes_after_success_threshold_successes() {
    let (b, _clock) = half_open(
        Config::builder()
            .half_open_max_calls(3)
            .success_threshold(2),
    );
    let _ = succeed(&b);
    assert_eq!(b.state(), State::HalfOpen);
    let _ = succeed(&b);
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.snapshot().failure_count, 0);
}

#[test]
fn any_failure_reopens_it_for_a_new_recovery_timeout() {
    let (b, clock) = half_open(Config::builder());
    let _ = succeed(&b);
    assert!(matches!(fail(&b), Err(CircuitError::Inner("boom"))));
    assert_eq!(b.state(), State::Open);
    let Err(CircuitError::Open(open)) = succeed(&b) else {
        panic!("expected a rejection")
    };
    assert_eq!(open.retry_after(), Some(secs(60)), "a whole new timeout");
    clock.advance(secs(60));
    assert_eq!(b.state(), State::HalfOpen);
}

#[test]
fn trials_beyond_the_limit_are_rejected_even_when_earlier_ones_finished() {
    // Three trials admitted and finished, two successes short of closing with threshold 3
    // is impossible by construction; here one succeeded and the breaker waits for more.
    let (b, _clock) = half_open(
        Config::builder()
            .half_open_max_calls(2)
            .success_threshold(2),
    );
    let _ = succeed(&b);
    let held = b.try_acquire().expect("second slot");
    assert!(
        b.try_acquire().is_err(),
        "the limit counts trials, not calls in flight"
    );
    held.success();
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn a_rejection_while_every_slot_is_taken_hints_until_the_period_must_decide() {
    let (b, clock) = half_open(
        Config::builder()
            .half_open_max_calls(1)
            .success_threshold(1)
            .half_open_max_wait(secs(30)),
    );
    let trial = b.try_acquire().expect("the one trial slot");
    let hint = |b: &circuit_core::CircuitBreaker| match b.try_acquire() {
        Err(open) => open.retry_after(),
        Ok(_) => panic!("a second trial was admitted"),
    };
    assert_eq!(hint(&b), Some(secs(30)));
    clock.advance(secs(20));
    assert_eq!(hint(&b), Some(secs(10)));
    // Never zero, so a `Retry-After` always asks for a wait.
    clock.advance(std::time::Duration::from_nanos(9_999_999_999));
    assert_eq!(hint(&b), Some(std::time::Duration::from_millis(1)));
    trial.success();
    assert_eq!(b.state(), State::Closed);
}
