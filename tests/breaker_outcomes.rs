//! Outcomes beyond success and failure: an ignored call moves no state in any state, and
//! "failure, open for D" (a Retry-After) opens the breaker at once for max(D, its own period).
//! An excluded error is a success, counted as excluded too. Classifiers answer a `bool` or an
//! `Outcome`; one that panics counts as a failure.

mod common;
use circuit_core::{Backoff, CircuitError, Config, Outcome, Reason, State};
use common::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(60);

fn config() -> circuit_core::ConfigBuilder {
    Config::builder()
        .failure_threshold(3)
        .success_threshold(2)
        .half_open_max_calls(2)
        .recovery_timeout(TIMEOUT)
}

fn ignore(b: &circuit_core::CircuitBreaker) {
    b.try_acquire().expect("admitted").report(Outcome::Ignored);
}

#[test]
fn an_ignored_call_while_closed_keeps_the_failures_pending() {
    let (b, _) = breaker_with(config());
    let _ = fail(&b);
    let _ = fail(&b);
    ignore(&b);
    let s = b.snapshot();
    assert_eq!((s.state, s.failure_count, s.ignored), (State::Closed, 2, 1));
    let _ = fail(&b);
    assert_eq!(b.state(), State::Open, "the third failure still trips it");
}

#[test]
fn an_ignored_trial_gives_its_slot_back_and_adds_no_success() {
    let (b, clock) = breaker_with(config());
    for _ in 0..3 {
        let _ = fail(&b);
    }
    clock.advance(TIMEOUT);
    let first = b.try_acquire().unwrap();
    let second = b.try_acquire().unwrap();
    assert!(b.try_acquire().is_err(), "both slots taken");
    first.success();
    second.report(Outcome::Ignored);
    let s = b.snapshot();
    assert_eq!(
        (s.state, s.success_count, s.ignored),
        (State::HalfOpen, 1, 1)
    );
    assert!(succeed(&b).is_ok(), "the slot came back");
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn an_ignored_call_admitted_before_a_transition_moves_nothing_after_it() {
    let (b, _) = breaker_with(config());
    let early = b.try_acquire().unwrap();
    for _ in 0..3 {
        let _ = fail(&b);
    }
    let seen = record_transitions(&b);
    early.ignore();
    let s = b.snapshot();
    assert_eq!((s.state, s.ignored), (State::Open, 1));
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn an_ignored_call_while_disabled_records_nothing() {
    let (b, _) = breaker_with(config());
    b.disable();
    ignore(&b);
    assert_eq!(b.snapshot().ignored, 0);
    assert_eq!(b.state(), State::Disabled);
}

#[test]
fn open_and_forced_open_admit_no_call_to_ignore() {
    let (b, _) = breaker_with(config());
    for _ in 0..3 {
        let _ = fail(&b);
    }
    assert!(b.try_acquire().is_err());
    b.force_open();
    assert!(b.try_acquire().is_err());
    assert_eq!(b.snapshot().ignored, 0);
}

#[test]
fn open_for_from_closed_opens_at_once_for_the_longer_period() {
    let (b, clock) = breaker_with(config());
    let seen = record_transitions(&b);
    b.try_acquire().unwrap().open_for(TIMEOUT * 2);
    assert_eq!(b.state(), State::Open, "no threshold needed");
    assert_eq!(b.retry_after(), Some(TIMEOUT * 2));
    assert_eq!(
        seen.lock().unwrap()[0].reason,
        Reason::RetryAfter(TIMEOUT * 2)
    );
    assert_eq!(b.snapshot().failures, 1);
    assert!(b.last_failure().is_some());
    clock.advance(TIMEOUT * 2);
    assert_eq!(b.state(), State::HalfOpen);
}

#[test]
fn open_for_shorter_than_the_own_period_opens_for_the_own_period() {
    let (b, _) = breaker_with(config());
    b.try_acquire().unwrap().open_for(Duration::from_secs(1));
    assert_eq!(b.retry_after(), Some(TIMEOUT));
}

#[test]
fn open_for_from_half_open_reopens_for_the_longer_of_it_and_the_backed_off_period() {
    let (b, clock) = breaker_with(config().backoff(Backoff::exponential(2.0, TIMEOUT * 10)));
    for _ in 0..3 {
        let _ = fail(&b);
    }
    clock.advance(TIMEOUT);
    // Its own next period is 120 s (one re-opening): a 90 s Retry-After does not shorten it...
    b.try_acquire().unwrap().open_for(Duration::from_secs(90));
    assert_eq!(b.retry_after(), Some(TIMEOUT * 2));
    clock.advance(TIMEOUT * 2);
    // ...and a 1000 s one lengthens the next (own: 240 s).
    let seen = record_transitions(&b);
    b.try_acquire()
        .unwrap()
        .report(Outcome::OpenFor(Duration::from_secs(1000)));
    assert_eq!(b.retry_after(), Some(Duration::from_secs(1000)));
    let t = seen.lock().unwrap()[1].clone();
    assert_eq!((t.from, t.to), (State::HalfOpen, State::Open));
    assert_eq!(t.reason, Reason::RetryAfter(Duration::from_secs(1000)));
}

#[test]
fn open_for_after_the_breaker_moved_on_counts_but_opens_nothing() {
    let (b, _) = breaker_with(config());
    let early = b.try_acquire().unwrap();
    b.reset();
    early.open_for(TIMEOUT);
    assert_eq!(b.state(), State::Closed);
    assert_eq!(b.snapshot().failures, 1);
}

#[test]
fn open_for_while_disabled_records_nothing() {
    let (b, _) = breaker_with(config());
    b.disable();
    b.try_acquire().unwrap().open_for(TIMEOUT);
    assert_eq!(b.state(), State::Disabled);
    assert_eq!(b.snapshot().failures, 0);
}

#[test]
fn an_excluded_error_is_a_success_counted_as_excluded_too() {
    let (b, _) = breaker_with(config());
    let _ = fail(&b);
    let _ = fail(&b);
    let r: Result<(), _> = b.call_with(|| Err("not found"), |_| Outcome::Excluded);
    assert!(matches!(r, Err(CircuitError::Inner("not found"))));
    let s = b.snapshot();
    assert_eq!(s.failure_count, 0, "it clears the consecutive failures");
    assert_eq!((s.successes, s.excluded, s.failures), (1, 1, 2));
    // A plain success is not excluded.
    let _ = succeed(&b);
    let s = b.snapshot();
    assert_eq!((s.successes, s.excluded), (2, 1));
}

#[test]
fn an_excluded_trial_counts_toward_closing() {
    let (b, clock) = breaker_with(config());
    for _ in 0..3 {
        let _ = fail(&b);
    }
    clock.advance(TIMEOUT);
    b.try_acquire().expect("a trial").exclude();
    assert_eq!(b.snapshot().success_count, 1);
    b.try_acquire().expect("a trial").report(Outcome::Excluded);
    assert_eq!(b.state(), State::Closed, "two excluded trials close it");
    assert_eq!(b.snapshot().excluded, 2);
}

#[test]
fn an_excluded_call_while_disabled_records_nothing() {
    let (b, _) = breaker_with(config());
    b.disable();
    b.try_acquire().unwrap().exclude();
    let s = b.snapshot();
    assert_eq!((s.successes, s.excluded), (0, 0));
}

#[test]
fn call_with_takes_a_bool_classifier() {
    let (b, _) = breaker_with(config());
    for _ in 0..5 {
        let r: Result<(), _> = b.call_with(|| Err("not found"), |e| *e != "not found");
        assert!(matches!(r, Err(CircuitError::Inner("not found"))));
    }
    let s = b.snapshot();
    assert_eq!(s.successes, 5, "`false` is a round trip");
    assert_eq!(s.excluded, 0, "`false` means success, not excluded");
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn call_with_takes_an_outcome_classifier() {
    let (b, _) = breaker_with(config());
    let classify = |e: &&str| match *e {
        "cancelled" => Outcome::Ignored,
        "slow down" => Outcome::OpenFor(TIMEOUT * 3),
        _ => Outcome::Failure,
    };
    let _ = b.call_with(|| Err::<(), _>("refused"), classify);
    let _ = b.call_with(|| Err::<(), _>("cancelled"), classify);
    assert_eq!(
        b.snapshot().failure_count,
        1,
        "the ignored call cleared nothing"
    );
    let r = b.call_with(|| Err::<(), _>("slow down"), classify);
    assert!(matches!(r, Err(CircuitError::Inner("slow down"))));
    assert_eq!(b.retry_after(), Some(TIMEOUT * 3));
    let s = b.snapshot();
    assert_eq!((s.failures, s.ignored), (2, 1));
}

#[test]
fn call_async_with_takes_an_outcome_classifier() {
    let (b, _) = breaker_with(config());
    let fut = b.call_async_with(async { Err::<(), _>(429) }, |_| {
        Outcome::OpenFor(Duration::from_secs(300))
    });
    let r = poll_once(fut).expect("ready at once");
    assert!(matches!(r, Err(CircuitError::Inner(429))));
    assert_eq!(b.retry_after(), Some(Duration::from_secs(300)));
}

#[test]
fn a_panicking_classifier_counts_as_a_failure_and_frees_the_trial_slot() {
    let (b, clock) = breaker_with(config());
    for _ in 0..3 {
        let _ = fail(&b);
    }
    clock.advance(TIMEOUT);
    let seen = record_transitions(&b);
    quiet_deliberate_panics();
    let r = catch_unwind(AssertUnwindSafe(|| {
        b.call_with(
            || Err::<(), _>("odd"),
            |_| -> Outcome { panic!("{DELIBERATE}") },
        )
    }));
    assert!(r.is_err(), "the panic goes on unwinding");
    assert_eq!(b.state(), State::Open, "the trial failed");
    assert_eq!(
        seen.lock().unwrap().last().unwrap().reason,
        Reason::TrialFailed
    );
    assert_eq!(b.snapshot().failures, 4);
}

#[test]
fn a_panicking_async_classifier_counts_as_a_failure() {
    let (b, _) = breaker_with(config().failure_threshold(1));
    quiet_deliberate_panics();
    let r = catch_unwind(AssertUnwindSafe(|| {
        poll_once(
            b.call_async_with(async { Err::<(), _>("odd") }, |_| -> bool {
                panic!("{DELIBERATE}")
            }),
        )
    }));
    assert!(r.is_err());
    assert_eq!(b.state(), State::Open);
}

#[test]
fn from_bool_is_failure_on_true() {
    assert_eq!(Outcome::from(true), Outcome::Failure);
    assert_eq!(Outcome::from(false), Outcome::Success);
    assert!(Outcome::OpenFor(TIMEOUT).is_failure() && Outcome::Failure.is_failure());
    assert!(!Outcome::Ignored.is_failure() && !Outcome::Success.is_failure());
}

#[test]
fn a_retry_after_classifier_opens_the_breaker_for_what_the_service_asked() {
    use circuit_core::tower::{Classify, RetryAfter, ServerErrors};
    let (b, _) = breaker_with(config());
    let response = http::Response::builder()
        .status(503)
        .header("retry-after", "600")
        .body(())
        .unwrap();
    let outcome = RetryAfter(ServerErrors).classify(&Ok::<_, ()>(response));
    b.try_acquire().unwrap().report(outcome);
    assert_eq!(b.retry_after(), Some(Duration::from_secs(600)));
    // The same for a reqwest response.
    let (b, _) = breaker_with(config());
    let response: reqwest::Response = http::Response::builder()
        .status(429)
        .header("retry-after", "120")
        .body("slow down")
        .unwrap()
        .into();
    let outcome = RetryAfter(ServerErrors).classify(&Ok::<_, ()>(response));
    assert_eq!(outcome, Outcome::OpenFor(Duration::from_secs(120)));
    b.try_acquire().unwrap().report(outcome);
    assert_eq!(b.retry_after(), Some(Duration::from_secs(120)));
}
