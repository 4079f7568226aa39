//! Reliability through the attribute: panics, cancellation in half-open, fallbacks that panic
//! or call back into the function they stand in for.

mod common;

use circuit_core::{circuit_breaker, State};
use common::{manual_clock, secs, AppError};
use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

fn poll_once<F: Future>(fut: F) -> Option<F::Output> {
    match pin!(fut).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

#[circuit_breaker(failure_threshold = 1)]
fn panics_inside(explode: bool) -> Result<u32, AppError> {
    if explode {
        panic!("bug inside the protected function");
    }
    Ok(1)
}

#[test]
fn a_panic_inside_an_annotated_function_counts_as_a_failure_and_keeps_unwinding() {
    let _clock = manual_clock(panics_inside::breaker());
    assert!(
        catch_unwind(|| panics_inside(true)).is_err(),
        "the panic reaches the caller"
    );
    let s = panics_inside::breaker().snapshot();
    assert_eq!((s.state, s.failures), (State::Open, 1));
    assert_eq!(panics_inside(false), Err(AppError::Rejected(State::Open)));
}

#[circuit_breaker(failure_threshold = 1)]
async fn panics_inside_async(explode: bool) -> Result<u32, AppError> {
    std::future::ready(()).await;
    if explode {
        panic!("bug inside the protected future");
    }
    Ok(1)
}

#[test]
fn a_panic_inside_an_annotated_async_function_counts_as_a_failure() {
    let _clock = manual_clock(panics_inside_async::breaker());
    let unwound = catch_unwind(AssertUnwindSafe(|| poll_once(panics_inside_async(true))));
    assert!(unwound.is_err());
    assert_eq!(panics_inside_async::breaker().state(), State::Open);
}

#[circuit_breaker(failure_threshold = 1, half_open_max_calls = 1, success_threshold = 1)]
async fn may_hang(hang: bool, fail: bool) -> Result<u32, AppError> {
    if hang {
        std::future::pending::<()>().await;
    }
    if fail {
        return Err(AppError::Down);
    }
    Ok(7)
}

#[test]
fn a_cancelled_annotated_call_in_half_open_gives_its_slot_back() {
    let clock = manual_clock(may_hang::breaker());
    assert_eq!(poll_once(may_hang(false, true)), Some(Err(AppError::Down)));
    clock.advance(secs(60));
    // The only trial slot goes to a call that hangs; the caller gives up on it.
    assert_eq!(poll_once(may_hang(true, false)), None);
    let s = may_hang::breaker().snapshot();
    assert_eq!((s.state, s.successes, s.failures), (State::HalfOpen, 0, 1));
    // The slot is free again: the next trial runs and closes the breaker.
    assert_eq!(poll_once(may_hang(false, false)), Some(Ok(7)));
    assert_eq!(may_hang::breaker().state(), State::Closed);
}

fn exploding_fallback(_fail: bool) -> Result<u32, AppError> {
    panic!("bug inside the fallback");
}

#[circuit_breaker(failure_threshold = 2, half_open_max_calls = 1, success_threshold = 1, fallback = exploding_fallback)]
fn with_exploding_fallback(fail: bool) -> Result<u32, AppError> {
    if fail {
        Err(AppError::Down)
    } else {
        Ok(3)
    }
}

#[test]
fn a_fallback_that_panics_leaves_the_breaker_consistent() {
    let breaker = with_exploding_fallback::breaker();
    let clock = manual_clock(breaker);
    // A counted failure: the failure is recorded before the fallback runs and panics.
    assert!(catch_unwind(|| with_exploding_fallback(true)).is_err());
    assert!(catch_unwind(|| with_exploding_fallback(true)).is_err());
    assert_eq!(breaker.state(), State::Open);
    // A rejection: the fallback panics again; nothing is left half-done.
    assert!(catch_unwind(|| with_exploding_fallback(false)).is_err());
    let s = breaker.snapshot();
    assert_eq!((s.failures, s.rejected, s.fallbacks), (2, 1, 3));
    // The single half-open slot was not leaked by any of the panics.
    clock.advance(secs(60));
    assert_eq!(with_exploding_fallback(false), Ok(3));
    assert_eq!(breaker.state(), State::Closed);
}

thread_local! {
    static FALLBACK_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Retries through the protected function once, then gives a default: re-entering the
/// breaker from its own fallback must neither deadlock nor miscount.
fn retrying_fallback(_fail: bool) -> Result<u32, AppError> {
    let depth = FALLBACK_DEPTH.with(|d| d.replace(d.get() + 1));
    let result = if depth == 0 {
        // The retry asks for the healthy path (as a retry on another replica would).
        with_retrying_fallback(false)
    } else {
        Ok(0)
    };
    FALLBACK_DEPTH.with(|d| d.set(depth));
    result
}

#[circuit_breaker(failure_threshold = 2, fallback = retrying_fallback)]
fn with_retrying_fallback(fail: bool) -> Result<u32, AppError> {
    if fail {
        Err(AppError::Down)
    } else {
        Ok(5)
    }
}

#[test]
fn a_fallback_that_calls_the_protected_function_does_not_deadlock() {
    let breaker = with_retrying_fallback::breaker();
    let _clock = manual_clock(breaker);
    // Closed: the failure's fallback retries through the breaker and succeeds.
    assert_eq!(with_retrying_fallback(true), Ok(5));
    let s = breaker.snapshot();
    assert_eq!(
        (s.state, s.failures, s.successes, s.fallbacks),
        (State::Closed, 1, 1, 1)
    );
    assert_eq!(
        s.failure_count, 0,
        "the retry's success cleared the failure"
    );
    // Open: the fallback's retry is itself rejected and falls back to the default.
    breaker.force_open();
    assert_eq!(with_retrying_fallback(false), Ok(0));
    let s = breaker.snapshot();
    assert_eq!((s.rejected, s.fallbacks), (2, 3));
}
