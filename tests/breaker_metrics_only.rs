//! Metrics-only mode: the breaker counts and moves through its states as usual, announces its
//! transitions marked "would have", and never rejects, except when forced open.

mod common;
use circuit_core::{Config, Reason, Registry, State};
use common::*;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(60);

fn shadow() -> (
    circuit_core::CircuitBreaker,
    circuit_core::clock::ManualClock,
) {
    let (b, clock) = breaker_with(
        Config::builder()
            .failure_threshold(2)
            .success_threshold(1)
            .half_open_max_calls(1)
            .recovery_timeout(TIMEOUT),
    );
    b.set_metrics_only(true);
    (b, clock)
}

#[test]
fn a_metrics_only_breaker_opens_and_still_runs_every_call() {
    let (b, _) = shadow();
    let seen = record_transitions(&b);
    let _ = fail(&b);
    let _ = fail(&b);
    assert_eq!(b.state(), State::Open, "it moves through its states");
    for _ in 0..3 {
        assert_eq!(
            succeed(&b).unwrap(),
            1,
            "a call it would have rejected runs"
        );
    }
    let _ = fail(&b);
    let s = b.snapshot();
    assert_eq!(
        (s.rejected, s.would_reject, s.successes, s.failures),
        (0, 4, 3, 3)
    );
    let t = seen.lock().unwrap()[0].clone();
    assert_eq!((t.from, t.to), (State::Closed, State::Open));
    assert!(t.metrics_only, "announced as a would-have");
    assert!(t
        .to_string()
        .ends_with("(metrics only: no call is rejected)"));
}

#[test]
fn calls_run_while_shadow_open_move_no_state() {
    let (b, _) = shadow();
    let _ = fail(&b);
    let _ = fail(&b);
    let left = b.retry_after();
    for _ in 0..5 {
        let _ = fail(&b);
        let _ = succeed(&b);
    }
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.retry_after(), left, "the Open period did not restart");
}

#[test]
fn the_recovery_timeout_still_leads_to_trials_that_decide() {
    let (b, clock) = shadow();
    let seen = record_transitions(&b);
    let _ = fail(&b);
    let _ = fail(&b);
    clock.advance(TIMEOUT);
    let trial = b.try_acquire().unwrap();
    assert_eq!(b.state(), State::HalfOpen);
    // Every slot is taken: the next call would have been rejected; it runs, moving nothing.
    assert!(fail(&b).is_err());
    assert_eq!(
        b.state(),
        State::HalfOpen,
        "a would-reject call is no trial"
    );
    trial.success();
    assert_eq!(b.state(), State::Closed);
    assert_eq!(
        moves(&seen),
        [
            (State::Closed, State::Open),
            (State::Open, State::HalfOpen),
            (State::HalfOpen, State::Closed)
        ]
    );
    assert!(seen.lock().unwrap().iter().all(|t| t.metrics_only));
    assert_eq!(b.snapshot().would_reject, 1);
}

#[test]
fn force_open_still_rejects_in_metrics_only_mode() {
    let (b, _) = shadow();
    let seen = record_transitions(&b);
    b.force_open();
    assert!(succeed(&b).is_err(), "an operator's order");
    assert_eq!(b.snapshot().rejected, 1);
    let t = seen.lock().unwrap()[0].clone();
    assert_eq!(t.reason, Reason::ForcedOpen);
    assert!(!t.metrics_only, "it really rejects");
}

#[test]
fn turning_it_off_makes_an_open_breaker_reject() {
    let (b, _) = shadow();
    let _ = fail(&b);
    let _ = fail(&b);
    assert!(b.is_metrics_only());
    b.set_metrics_only(false);
    assert!(!b.is_metrics_only());
    assert!(succeed(&b).is_err());
    let s = b.snapshot();
    assert_eq!((s.rejected, s.would_reject), (1, 0));
}

#[test]
fn the_mode_outlasts_reset_and_reconfigure() {
    let (b, _) = shadow();
    b.reset();
    b.reconfigure(b.config());
    assert!(b.is_metrics_only());
    let _ = fail(&b);
    let _ = fail(&b);
    assert!(succeed(&b).is_ok());
}

#[test]
fn transitions_outside_metrics_only_mode_are_not_marked() {
    let (b, _) = breaker_with(Config::builder().failure_threshold(1));
    let seen = record_transitions(&b);
    let _ = fail(&b);
    assert!(!seen.lock().unwrap()[0].metrics_only);
}

#[test]
fn a_registry_sets_the_mode_by_name() {
    let registry = Registry::new();
    let b = registry.get_or_create(
        "shadow",
        Config::builder().failure_threshold(1).build().unwrap(),
    );
    registry.set_metrics_only("shadow", true).unwrap();
    let _ = fail(&b);
    assert_eq!(b.state(), State::Open);
    assert!(succeed(&b).is_ok());
    assert_eq!(
        registry
            .set_metrics_only("nobody", true)
            .unwrap_err()
            .name(),
        "nobody"
    );
    registry.set_metrics_only("shadow", false).unwrap();
    assert!(succeed(&b).is_err());
}

#[test]
fn prometheus_counts_would_reject_calls() {
    let registry = Registry::new();
    let b = registry.get_or_create(
        "shadow-metrics",
        Config::builder().failure_threshold(1).build().unwrap(),
    );
    b.set_metrics_only(true);
    let _ = fail(&b);
    let _ = succeed(&b);
    let mut text = String::new();
    let mut metrics = prometheus_client::registry::Registry::default();
    circuit_core::prometheus::register(&mut metrics, std::sync::Arc::new(registry));
    prometheus_client::encoding::text::encode(&mut text, &metrics).unwrap();
    assert!(
        text.contains(
            r#"circuit_breaker_calls_total{name="shadow-metrics",result="would_reject"} 1"#
        ),
        "{text}"
    );
}
