//! Every key of `#[circuit_breaker]`, through sync functions: each test reads like a rule of
//! `docs/design.md`, with its own breaker and a manual clock.

mod common;

use circuit_core::{circuit_breaker, registry, Config, State};
use common::{is_not_found, manual_clock, secs, AppError};
use std::sync::atomic::{AtomicU32, Ordering};

/// The service behind the functions below: answers with what the test asks for.
fn answer(outcome: Result<u32, AppError>) -> Result<u32, AppError> {
    outcome
}

#[circuit_breaker(failure_threshold = 2)]
fn two_strikes(outcome: Result<u32, AppError>) -> Result<u32, AppError> {
    answer(outcome)
}

#[test]
fn failure_threshold_consecutive_failures_open_the_breaker() {
    assert_eq!(two_strikes(Err(AppError::Down)), Err(AppError::Down));
    assert_eq!(two_strikes(Ok(1)), Ok(1), "a success clears the count");
    assert_eq!(two_strikes(Err(AppError::Down)), Err(AppError::Down));
    assert_eq!(two_strikes::breaker().state(), State::Closed);
    // The tripping call returns its own error; the next is rejected without running.
    assert_eq!(two_strikes(Err(AppError::Down)), Err(AppError::Down));
    assert_eq!(two_strikes::breaker().state(), State::Open);
    assert_eq!(two_strikes(Ok(1)), Err(AppError::Rejected(State::Open)));
}

static RAN: AtomicU32 = AtomicU32::new(0);

#[circuit_breaker(failure_threshold = 1, recovery_timeout = "90s")]
fn counted_runs(outcome: Result<u32, AppError>) -> Result<u32, AppError> {
    RAN.fetch_add(1, Ordering::SeqCst);
    answer(outcome)
}

#[test]
fn recovery_timeout_is_the_time_the_breaker_stays_open() {
    let clock = manual_clock(counted_runs::breaker());
    assert_eq!(
        counted_runs::breaker().config().recovery_timeout(),
        secs(90)
    );
    let _ = counted_runs(Err(AppError::Down));
    let ran = RAN.load(Ordering::SeqCst);
    assert_eq!(counted_runs(Ok(1)), Err(AppError::Rejected(State::Open)));
    assert_eq!(
        RAN.load(Ordering::SeqCst),
        ran,
        "a rejected call does not run"
    );
    clock.advance(secs(89));
    assert_eq!(counted_runs::breaker().state(), State::Open);
    clock.advance(secs(1));
    assert_eq!(counted_runs::breaker().state(), State::HalfOpen);
    assert_eq!(
        counted_runs(Ok(7)),
        Ok(7),
        "the first call after the timeout is a trial"
    );
}

#[circuit_breaker(
    failure_threshold = 1,
    success_threshold = 2,
    half_open_max_calls = 2,
    recovery_timeout = "500ms"
)]
fn trial(outcome: Result<u32, AppError>) -> Result<u32, AppError> {
    answer(outcome)
}

#[test]
fn success_threshold_trial_successes_close_the_breaker() {
    let clock = manual_clock(trial::breaker());
    let _ = trial(Err(AppError::Down));
    clock.advance(std::time::Duration::from_millis(500));
    assert_eq!(trial(Ok(1)), Ok(1));
    assert_eq!(trial::breaker().state(), State::HalfOpen);
    assert_eq!(trial(Ok(2)), Ok(2));
    assert_eq!(trial::breaker().state(), State::Closed);
}

#[circuit_breaker(failure_threshold = 1, success_threshold = 1, half_open_max_calls = 1)]
fn one_trial(outcome: Result<u32, AppError>) -> Result<u32, AppError> {
    // A trial that is still running when the next call comes: the nested call is the next.
    match outcome {
        Err(AppError::NotFound) => one_trial(Ok(0)),
        other => answer(other),
    }
}

#[test]
fn half_open_max_calls_limits_the_trials_in_flight() {
    let clock = manual_clock(one_trial::breaker());
    let _ = one_trial(Err(AppError::Down));
    clock.advance(secs(60));
    // The outer call holds the only trial slot; the nested one is rejected.
    assert_eq!(
        one_trial(Err(AppError::NotFound)),
        Err(AppError::Rejected(State::HalfOpen))
    );
}

#[circuit_breaker(failure_threshold = 1, exclude = is_not_found)]
fn lookup(outcome: Result<u32, AppError>) -> Result<u32, AppError> {
    answer(outcome)
}

#[test]
fn exclude_errors_are_returned_unchanged_and_count_as_successes() {
    for _ in 0..3 {
        assert_eq!(lookup(Err(AppError::NotFound)), Err(AppError::NotFound));
    }
    assert_eq!(lookup::breaker().state(), State::Closed);
    let snapshot = lookup::breaker().snapshot();
    assert_eq!((snapshot.successes, snapshot.failures), (3, 0));
    assert_eq!(lookup(Err(AppError::Down)), Err(AppError::Down));
    assert_eq!(lookup::breaker().state(), State::Open);
}

fn cached(id: u32, _label: &str) -> Result<u32, AppError> {
    Ok(1000 + id)
}

#[circuit_breaker(failure_threshold = 2, fallback = cached, exclude = is_not_found)]
fn with_fallback(id: u32, label: &str) -> Result<u32, AppError> {
    match label {
        "down" => Err(AppError::Down),
        "missing" => Err(AppError::NotFound),
        _ => Ok(id),
    }
}

#[test]
fn fallback_answers_counted_failures_and_rejections_never_excluded_errors() {
    let breaker = with_fallback::breaker();
    assert_eq!(with_fallback(1, "up"), Ok(1));
    assert_eq!(
        with_fallback(2, "missing"),
        Err(AppError::NotFound),
        "excluded"
    );
    assert_eq!(breaker.snapshot().fallbacks, 0);
    assert_eq!(with_fallback(3, "down"), Ok(1003), "a counted failure");
    assert_eq!(
        with_fallback(4, "down"),
        Ok(1004),
        "the failure that trips it"
    );
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(with_fallback(5, "up"), Ok(1005), "a rejection");
    let snapshot = breaker.snapshot();
    assert_eq!(snapshot.fallbacks, 3);
    assert_eq!(snapshot.rejected, 1);
    assert_eq!(snapshot.failures, 2);
}

#[circuit_breaker(failure_threshold = 1)]
fn without_fallback(fail: bool) -> Result<u32, AppError> {
    if fail {
        Err(AppError::Down)
    } else {
        Ok(1)
    }
}

#[test]
fn without_a_fallback_a_rejection_becomes_the_functions_error() {
    let _ = without_fallback(true);
    assert_eq!(
        without_fallback(false),
        Err(AppError::Rejected(State::Open))
    );
    assert_eq!(without_fallback::breaker().snapshot().fallbacks, 0);
}

/// Counts the clones the fallback's arguments cost.
#[derive(Debug)]
struct Counted(u32);

static CLONES: AtomicU32 = AtomicU32::new(0);

impl Clone for Counted {
    fn clone(&self) -> Self {
        CLONES.fetch_add(1, Ordering::SeqCst);
        Counted(self.0)
    }
}

#[circuit_breaker]
fn no_fallback_takes_owned(arg: Counted) -> Result<u32, AppError> {
    Ok(arg.0)
}

#[test]
fn arguments_are_not_cloned_without_a_fallback() {
    let before = CLONES.load(Ordering::SeqCst);
    assert_eq!(no_fallback_takes_owned(Counted(4)), Ok(4));
    assert_eq!(CLONES.load(Ordering::SeqCst), before);
}

#[circuit_breaker(name = "attribute-keys-named")]
fn named() -> Result<(), AppError> {
    Ok(())
}

#[circuit_breaker]
fn unnamed() -> Result<(), AppError> {
    Ok(())
}

#[test]
fn name_is_the_registry_key_and_defaults_to_module_path_and_function_name() {
    assert_eq!(named::breaker().name(), "attribute-keys-named");
    assert_eq!(unnamed::breaker().name(), "attribute_keys::unnamed");
    let by_name = registry()
        .get("attribute_keys::unnamed")
        .expect("registered");
    assert!(std::sync::Arc::ptr_eq(&by_name, unnamed::breaker()));
}

#[circuit_breaker(name = "attribute-keys-shared", failure_threshold = 2)]
fn shared_a(fail: bool) -> Result<(), AppError> {
    if fail {
        Err(AppError::Down)
    } else {
        Ok(())
    }
}

#[circuit_breaker(name = "attribute-keys-shared", failure_threshold = 2)]
fn shared_b() -> Result<(), AppError> {
    Ok(())
}

#[test]
fn functions_with_one_name_share_one_breaker() {
    assert!(std::sync::Arc::ptr_eq(
        shared_a::breaker(),
        shared_b::breaker()
    ));
    let _ = shared_a(true);
    assert_eq!(shared_b::breaker().snapshot().failure_count, 1);
    assert_eq!(shared_b(), Ok(()));
    assert_eq!(shared_a::breaker().snapshot().failure_count, 0);
}

#[circuit_breaker(name = "attribute-keys-configured-early", failure_threshold = 1)]
fn configured_early() -> Result<(), AppError> {
    Err(AppError::Down)
}

#[circuit_breaker(name = "attribute-keys-configured-late", failure_threshold = 1)]
fn configured_late() -> Result<(), AppError> {
    Err(AppError::Down)
}

#[test]
fn configure_wins_over_the_literals_before_and_after_the_first_call() {
    let three = || Config::builder().failure_threshold(3).build().unwrap();
    registry().configure("attribute-keys-configured-early", three());
    for _ in 0..2 {
        let _ = configured_early();
    }
    assert_eq!(configured_early::breaker().state(), State::Closed);

    let _ = configured_late();
    assert_eq!(configured_late::breaker().state(), State::Open);
    configured_late::breaker().reset();
    registry().configure("attribute-keys-configured-late", three());
    for _ in 0..2 {
        let _ = configured_late();
    }
    assert_eq!(configured_late::breaker().state(), State::Closed);
}

#[circuit_breaker(half_open_max_calls = 1_048_575, success_threshold = 1_048_575)]
fn widest() -> Result<(), AppError> {
    Ok(())
}

#[test]
fn the_largest_half_open_max_calls_the_attribute_accepts_is_the_runtimes() {
    let config = widest::breaker().config();
    assert_eq!(
        config.half_open_max_calls(),
        circuit_core::config::MAX_HALF_OPEN_CALLS
    );
    assert_eq!(
        config.success_threshold(),
        circuit_core::config::MAX_HALF_OPEN_CALLS
    );
}
