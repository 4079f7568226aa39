//! ForcedOpen, Disabled and reset.

mod common;
use circuit_core::{CircuitError, Config, State};
use common::*;

#[test]
fn forced_open_rejects_everything_until_reset() {
    let (b, clock) = breaker();
    b.force_open();
    assert_eq!(b.state(), State::ForcedOpen);
    clock.advance(secs(3600));
    let Err(CircuitError::Open(open)) = succeed(&b) else {
        panic!("expected a rejection")
    };
    assert_eq!(
        (open.state(), open.retry_after()),
        (State::ForcedOpen, None)
    );
    assert_eq!(b.state(), State::ForcedOpen, "no recovery timeout applies");
    b.reset();
    assert_eq!(succeed(&b).unwrap(), 1);
}

#[test]
fn disabled_lets_everything_through_and_records_nothing() {
    let (b, _clock) = breaker_with(Config::builder().failure_threshold(1));
    b.disable();
    for _ in 0..10 {
        assert!(matches!(fail(&b), Err(CircuitError::Inner("boom"))));
    }
    assert_eq!(succeed(&b).unwrap(), 1);
    let s = b.snapshot();
    assert_eq!(s.state, State::Disabled);
    assert_eq!(
        (s.successes, s.failures, s.failure_count, s.last_failure),
        (0, 0, 0, None)
    );
}

#[test]
fn reset_goes_back_to_closed_with_counters_cleared() {
    let (b, _clock) = breaker_with(Config::builder().failure_threshold(3));
    let _ = fail(&b);
    let _ = fail(&b);
    b.reset();
    assert_eq!(b.snapshot().failure_count, 0);
    let _ = fail(&b);
    let _ = fail(&b);
    assert_eq!(b.state(), State::Closed);
    let _ = fail(&b);
    assert_eq!(b.state(), State::Open);
    b.reset();
    assert_eq!(b.state(), State::Closed);
    assert_eq!(
        b.snapshot().failures,
        5,
        "totals are since start, not cleared"
    );
}

#[test]
fn forcing_or_disabling_twice_is_one_transition() {
    let (b, _clock) = breaker();
    let seen = record_transitions(&b);
    b.force_open();
    b.force_open();
    b.disable();
    b.disable();
    b.reset();
    b.reset();
    assert_eq!(
        moves(&seen),
        [
            (State::Closed, State::ForcedOpen),
            (State::ForcedOpen, State::Disabled),
            (State::Disabled, State::Closed),
        ]
    );
}
