//! Administration: ForcedOpen, Disabled and reset, on a breaker and by name on the registry,
//! as an admin endpoint would use them.

mod common;
use circuit_core::{CircuitError, Config, Registry, State, Transition};
use common::*;
use std::sync::{Arc, Mutex};

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

// By name, on a registry: what an admin endpoint calls.

/// A registry holding one breaker, `payments`, and the transitions it announces.
fn registry_with_payments() -> (Registry, Arc<Mutex<Vec<Transition>>>) {
    let registry = Registry::new();
    let payments = registry.get_or_create("payments", Default::default());
    let seen = record_transitions(&payments);
    (registry, seen)
}

#[test]
fn force_open_disable_and_reset_by_name() {
    let (registry, seen) = registry_with_payments();
    registry.force_open("payments").unwrap();
    assert_eq!(registry.state("payments"), Some(State::ForcedOpen));
    registry.disable("payments").unwrap();
    assert_eq!(registry.state("payments"), Some(State::Disabled));
    registry.reset("payments").unwrap();
    assert_eq!(registry.state("payments"), Some(State::Closed));
    let reasons: Vec<String> = seen.lock().unwrap().iter().map(|t| t.to_string()).collect();
    assert_eq!(
        reasons,
        [
            "payments: closed -> forced_open by force_open",
            "payments: forced_open -> disabled by disable",
            "payments: disabled -> closed by reset",
        ]
    );
}

#[test]
fn an_unknown_name_is_a_clear_error_and_changes_nothing() {
    let (registry, seen) = registry_with_payments();
    for op in [Registry::force_open, Registry::disable, Registry::reset] {
        let err = op(&registry, "paymnets").unwrap_err();
        assert_eq!(err.name(), "paymnets");
        assert_eq!(err.to_string(), "no circuit breaker is named \"paymnets\"");
    }
    assert_eq!(registry.names(), ["payments"], "no breaker was created");
    assert_eq!(registry.state("payments"), Some(State::Closed));
    assert!(seen.lock().unwrap().is_empty());
}
