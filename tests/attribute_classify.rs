//! The attribute's predicates: `classify` gives each error an `Outcome`; `exclude` (not a
//! failure) and `ignore` (nothing at all) keep working; each takes a function's path or a
//! closure. Excluded errors are successes counted as excluded too.

mod common;

use circuit_core::{circuit_breaker, Outcome, State};
use common::{manual_clock, secs, AppError};
use std::future::Future;

/// The errors of the functions below.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CallError {
    Rejected(State),
    Down,
    NotFound,
    Cancelled,
    SlowDown,
}

impl From<circuit_core::CircuitOpen> for CallError {
    fn from(open: circuit_core::CircuitOpen) -> Self {
        CallError::Rejected(open.state())
    }
}

fn classify_call(e: &CallError) -> Outcome {
    match e {
        CallError::NotFound => Outcome::Excluded,
        CallError::Cancelled => Outcome::Ignored,
        CallError::SlowDown => Outcome::OpenFor(secs(300)),
        _ => Outcome::Failure,
    }
}

#[circuit_breaker(failure_threshold = 2, classify = classify_call)]
fn classified(outcome: Result<u32, CallError>) -> Result<u32, CallError> {
    outcome
}

#[test]
fn classify_gives_each_error_its_outcome() {
    let b = classified::breaker();
    let _clock = manual_clock(b);
    assert_eq!(classified(Err(CallError::Down)), Err(CallError::Down));
    assert_eq!(b.snapshot().failure_count, 1);
    // Ignored: returned, moving nothing.
    assert_eq!(
        classified(Err(CallError::Cancelled)),
        Err(CallError::Cancelled)
    );
    let s = b.snapshot();
    assert_eq!((s.failure_count, s.ignored), (1, 1));
    // Excluded: a success, which clears the failure, counted as excluded too.
    assert_eq!(
        classified(Err(CallError::NotFound)),
        Err(CallError::NotFound)
    );
    let s = b.snapshot();
    assert_eq!(
        (s.failure_count, s.successes, s.excluded, s.failures),
        (0, 1, 1, 1)
    );
    // "Open for": opens at once, below the threshold.
    assert_eq!(
        classified(Err(CallError::SlowDown)),
        Err(CallError::SlowDown)
    );
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.retry_after(), Some(secs(300)));
    assert_eq!(classified(Ok(1)), Err(CallError::Rejected(State::Open)));
}

#[circuit_breaker(
    failure_threshold = 1,
    exclude = |e| *e == CallError::NotFound,
    ignore = |e: &CallError| *e == CallError::Cancelled
)]
fn closures(outcome: Result<u32, CallError>) -> Result<u32, CallError> {
    outcome
}

#[test]
fn exclude_and_ignore_take_closures_with_or_without_the_argument_type() {
    let b = closures::breaker();
    let _clock = manual_clock(b);
    for _ in 0..3 {
        assert_eq!(closures(Err(CallError::NotFound)), Err(CallError::NotFound));
        assert_eq!(
            closures(Err(CallError::Cancelled)),
            Err(CallError::Cancelled)
        );
    }
    let s = b.snapshot();
    assert_eq!(s.state, State::Closed);
    assert_eq!((s.successes, s.excluded, s.ignored), (3, 3, 3));
    assert_eq!(closures(Err(CallError::Down)), Err(CallError::Down));
    assert_eq!(b.state(), State::Open, "other errors still count");
}

#[circuit_breaker(
    failure_threshold = 1,
    classify = |e: &CallError| if *e == CallError::NotFound {
        Outcome::Excluded
    } else {
        Outcome::Failure
    }
)]
fn closure_classifier(outcome: Result<u32, CallError>) -> Result<u32, CallError> {
    outcome
}

#[test]
fn classify_takes_a_closure() {
    let b = closure_classifier::breaker();
    let _clock = manual_clock(b);
    let _ = closure_classifier(Err(CallError::NotFound));
    assert_eq!(b.snapshot().excluded, 1);
    let _ = closure_classifier(Err(CallError::Down));
    assert_eq!(b.state(), State::Open);
}

#[circuit_breaker(failure_threshold = 1, exclude = common::is_not_found)]
fn excluded_with_path(outcome: Result<u32, AppError>) -> Result<u32, AppError> {
    outcome
}

#[test]
fn an_excluded_error_is_counted_as_excluded_and_as_a_success() {
    let b = excluded_with_path::breaker();
    let _clock = manual_clock(b);
    let _ = excluded_with_path(Ok(1));
    let _ = excluded_with_path(Err(AppError::NotFound));
    let s = b.snapshot();
    assert_eq!((s.successes, s.excluded, s.failures), (2, 1, 0));
    assert_eq!(s.state, State::Closed);
}

fn recorded_fallback(_outcome: Result<u32, CallError>) -> Result<u32, CallError> {
    Ok(0)
}

#[circuit_breaker(
    failure_threshold = 1,
    classify = classify_call,
    fallback = recorded_fallback
)]
async fn classified_async(outcome: Result<u32, CallError>) -> Result<u32, CallError> {
    std::future::ready(outcome).await
}

/// Polls a future that never waits to its end.
fn run<F: Future>(fut: F) -> F::Output {
    common::poll_once(fut).expect("the future waited")
}

#[test]
fn with_classify_the_fallback_runs_only_for_failures_and_rejections() {
    let b = classified_async::breaker();
    let _clock = manual_clock(b);
    // Neither excluded nor ignored errors reach the fallback.
    assert_eq!(
        run(classified_async(Err(CallError::NotFound))),
        Err(CallError::NotFound)
    );
    assert_eq!(
        run(classified_async(Err(CallError::Cancelled))),
        Err(CallError::Cancelled)
    );
    assert_eq!(b.snapshot().fallbacks, 0);
    // A failure does, and so does the rejection after it.
    assert_eq!(run(classified_async(Err(CallError::Down))), Ok(0));
    assert_eq!(run(classified_async(Ok(5))), Ok(0));
    let s = b.snapshot();
    assert_eq!(
        (s.fallbacks, s.rejected, s.excluded, s.ignored),
        (2, 1, 1, 1)
    );
}
