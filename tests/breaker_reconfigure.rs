//! A reload (`reconfigure`, `Registry::configure`, a file or the environment applied again)
//! leaves the breaker in a state that decides: it closes, reopens or admits a trial.
//!
//! Regression: HalfOpen with two of three trial successes in, lowering `success_threshold` and
//! `half_open_max_calls` to 1 left it HalfOpen, rejecting every call for good with
//! `retry_after` None: the successes already met the new threshold, but only a further success
//! could close it, and the new limit admitted no further trial.

mod common;
use circuit_core::{CircuitBreaker, CircuitError, Config, Permit, Reason, Registry, State};
use common::*;
use std::time::Duration;

/// A breaker with `success_threshold` `threshold` and `half_open_max_calls` `max`, tripped and
/// recovered to HalfOpen, with `successes` trials succeeded.
fn half_open_with(threshold: u32, max: u32, successes: u32) -> (CircuitBreaker, Clock) {
    let (b, clock) = breaker_with(limits(threshold, max).failure_threshold(1));
    let _ = fail(&b);
    clock.advance(secs(60));
    for _ in 0..successes {
        assert!(ran(succeed(&b)));
    }
    assert_eq!(b.state(), State::HalfOpen);
    (b, clock)
}

type Clock = circuit_core::clock::ManualClock;

fn limits(threshold: u32, max: u32) -> circuit_core::ConfigBuilder {
    Config::builder()
        .success_threshold(threshold)
        .half_open_max_calls(max)
}

/// Applies new limits, keeping the rest of the breaker's configuration (its clock).
fn reload(b: &CircuitBreaker, threshold: u32, max: u32) {
    let config = b
        .config()
        .to_builder()
        .success_threshold(threshold)
        .half_open_max_calls(max)
        .build()
        .unwrap();
    b.reconfigure(config);
}

fn ran(r: Result<u32, CircuitError<&'static str>>) -> bool {
    matches!(r, Ok(1))
}

fn rejected(r: Result<u32, CircuitError<&'static str>>) -> bool {
    matches!(r, Err(CircuitError::Open(_)))
}

#[test]
fn lowering_both_limits_below_the_successes_in_closes_the_breaker() {
    let (b, _clock) = half_open_with(3, 3, 2);
    let seen = record_transitions(&b);
    reload(&b, 1, 1);
    assert_eq!(b.state(), State::Closed);
    let heard = seen.lock().unwrap().clone();
    assert_eq!(heard.len(), 1);
    assert_eq!(heard[0].reason, Reason::TrialsSucceeded(2));
    assert!(ran(succeed(&b)));
}

#[test]
fn lowering_both_limits_with_the_last_trial_in_flight_closes_and_counts_it_late() {
    let (b, _clock) = half_open_with(3, 3, 2);
    let in_flight = b.try_acquire().expect("the third slot");
    reload(&b, 1, 1);
    assert_eq!(b.state(), State::Closed);
    in_flight.success(); // admitted in the closed period: counted, moves nothing
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.snapshot().successes, 3);
}

#[test]
fn lowering_the_threshold_to_the_successes_in_closes_the_breaker() {
    let (b, _clock) = half_open_with(3, 3, 2);
    reload(&b, 2, 3);
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn lowering_the_limit_below_the_trials_admitted_lets_the_trials_in_flight_decide() {
    let (b, _clock) = half_open_with(3, 4, 1);
    let a = b.try_acquire().unwrap();
    let c = b.try_acquire().unwrap();
    reload(&b, 2, 2);
    assert!(rejected(succeed(&b)), "three admitted, limit now two");
    assert_eq!(b.state(), State::HalfOpen);
    a.success();
    assert_eq!(
        b.state(),
        State::Closed,
        "two successes meet the new threshold"
    );
    c.success();
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn lowering_the_limit_below_the_trials_admitted_then_cancelling_them_admits_again() {
    let (b, _clock) = half_open_with(3, 4, 1);
    let held: Vec<Permit<'_>> = (0..2).map(|_| b.try_acquire().unwrap()).collect();
    reload(&b, 2, 2);
    drop(held);
    assert!(ran(succeed(&b)), "a slot is free again");
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn lowering_the_limit_then_a_trial_in_flight_failing_reopens() {
    let (b, _clock) = half_open_with(3, 4, 1);
    let a = b.try_acquire().unwrap();
    reload(&b, 2, 2);
    a.failure();
    assert_eq!(b.state(), State::Open);
}

#[test]
fn raising_the_limit_admits_more_trials() {
    let (b, _clock) = half_open_with(2, 2, 1);
    let forgotten = b.try_acquire().unwrap();
    assert!(rejected(succeed(&b)));
    reload(&b, 2, 4);
    assert!(ran(succeed(&b)), "a new slot");
    assert_eq!(b.state(), State::Closed);
    drop(forgotten);
}

#[test]
fn raising_the_threshold_asks_for_more_successes_and_admits_them() {
    let (b, _clock) = half_open_with(2, 3, 1);
    let seen = record_transitions(&b);
    reload(&b, 3, 3);
    assert!(ran(succeed(&b)));
    assert_eq!(b.state(), State::HalfOpen, "two of three");
    assert!(ran(succeed(&b)));
    assert_eq!(b.state(), State::Closed);
    assert_eq!(
        seen.lock().unwrap()[0].reason,
        Reason::TrialsSucceeded(3),
        "closed under the new threshold"
    );
}

#[test]
fn raising_the_threshold_with_every_slot_in_flight_closes_once_they_all_succeed() {
    let (b, _clock) = half_open_with(1, 3, 0);
    let trials: Vec<Permit<'_>> = (0..3).map(|_| b.try_acquire().unwrap()).collect();
    reload(&b, 3, 3);
    let mut trials = trials.into_iter();
    trials.next().unwrap().success();
    trials.next().unwrap().success();
    assert_eq!(b.state(), State::HalfOpen);
    trials.next().unwrap().success();
    assert_eq!(b.state(), State::Closed);
}

/// Every HalfOpen period a reload can meet (limits up to 3, every count of successes in and
/// trials in flight) and every new pair of limits: once the trials in flight report (all
/// succeed, or all are cancelled), new successful calls close the breaker, with no clock
/// advance. Before the fix, 20 of these combinations ended HalfOpen, rejecting everything.
#[test]
fn every_reload_of_a_half_open_breaker_leaves_it_able_to_close() {
    let pairs: Vec<(u32, u32)> = (1..=3)
        .flat_map(|max| (1..=max).map(move |threshold| (threshold, max)))
        .collect();
    let mut tried = 0;
    for &(threshold, max) in &pairs {
        for successes in 0..threshold {
            for in_flight in 0..=(max - successes) {
                for &(new_threshold, new_max) in &pairs {
                    for succeed_in_flight in [true, false] {
                        let case = format!(
                            "({threshold}, {max}) with {successes} in and {in_flight} in \
                             flight, reloaded to ({new_threshold}, {new_max}), in flight \
                             {}",
                            if succeed_in_flight {
                                "succeed"
                            } else {
                                "cancelled"
                            }
                        );
                        let (b, _clock) = half_open_with(threshold, max, successes);
                        let held: Vec<Permit<'_>> =
                            (0..in_flight).map(|_| b.try_acquire().unwrap()).collect();
                        reload(&b, new_threshold, new_max);
                        for permit in held {
                            if succeed_in_flight {
                                permit.success();
                            } else {
                                drop(permit);
                            }
                        }
                        for _ in 0..new_max {
                            if b.state() == State::Closed {
                                break;
                            }
                            let _ = succeed(&b);
                        }
                        assert_eq!(b.state(), State::Closed, "{case}");
                        tried += 1;
                    }
                }
            }
        }
    }
    assert_eq!(tried, 360);
}

#[test]
fn lowering_the_recovery_timeout_while_open_ends_the_period_when_retry_after_says() {
    let (b, clock) = breaker_with(Config::builder().failure_threshold(1));
    let _ = fail(&b);
    clock.advance(secs(10));
    let config = b
        .config()
        .to_builder()
        .recovery_timeout(secs(5))
        .build()
        .unwrap();
    b.reconfigure(config);
    let wait = b.retry_after().expect("open");
    assert_eq!(wait, secs(5), "the period restarts on the new timeout");
    clock.advance(wait);
    assert_eq!(b.state(), State::HalfOpen);
}

#[test]
fn raising_the_recovery_timeout_while_open_keeps_the_deadline_announced() {
    let (b, clock) = breaker_with(Config::builder().failure_threshold(1));
    let _ = fail(&b);
    clock.advance(secs(10));
    let config = b
        .config()
        .to_builder()
        .recovery_timeout(secs(600))
        .build()
        .unwrap();
    b.reconfigure(config);
    assert_eq!(b.retry_after(), Some(secs(50)));
    clock.advance(secs(50));
    assert_eq!(b.state(), State::HalfOpen);
}

#[test]
fn a_registry_configure_of_a_stranded_half_open_breaker_closes_it() {
    let registry = Registry::new();
    let clock = Clock::new();
    let config = limits(3, 3)
        .failure_threshold(1)
        .clock(clock.clone())
        .build()
        .unwrap();
    let b = registry.get_or_create("reload", config.clone());
    let _ = fail(&b);
    clock.advance(Duration::from_secs(60));
    assert!(ran(succeed(&b)));
    assert!(ran(succeed(&b)));
    registry.configure(
        "reload",
        config
            .to_builder()
            .success_threshold(1)
            .half_open_max_calls(1)
            .build()
            .unwrap(),
    );
    assert_eq!(registry.state("reload"), Some(State::Closed));
}
