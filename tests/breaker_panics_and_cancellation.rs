//! A panic is a failure that keeps unwinding; a dropped future is nothing and frees its slot.

mod common;
use circuit_core::{CircuitError, Config, State};
use common::*;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

#[test]
fn a_panic_counts_as_a_failure_and_keeps_unwinding() {
    let (b, _clock) = breaker_with(Config::builder().failure_threshold(1));
    let unwound = catch_unwind(AssertUnwindSafe(|| {
        let _: Result<(), CircuitError<()>> = b.call(|| panic!("inside the call"));
    }));
    assert!(unwound.is_err(), "the panic must reach the caller");
    assert_eq!(b.state(), State::Open);
    assert_eq!(b.snapshot().failures, 1);
}

#[test]
fn a_panic_while_polling_an_async_call_counts_as_a_failure() {
    let (b, _clock) = breaker_with(Config::builder().failure_threshold(1));
    let unwound = catch_unwind(AssertUnwindSafe(|| {
        let fut = b.call_async(async { panic!("inside the future") as Result<(), ()> });
        poll_once(fut);
    }));
    assert!(unwound.is_err());
    assert_eq!(b.state(), State::Open);
}

#[test]
fn a_dropped_future_gives_its_trial_slot_back_and_counts_as_nothing() {
    let (b, clock) = breaker_with(
        Config::builder()
            .failure_threshold(1)
            .half_open_max_calls(1)
            .success_threshold(1),
    );
    let _ = fail(&b);
    clock.advance(secs(60));
    {
        let fut = b.call_async(std::future::pending::<Result<(), ()>>());
        assert!(poll_once(fut).is_none(), "still pending when dropped");
    }
    let s = b.snapshot();
    assert_eq!((s.state, s.successes, s.failures), (State::HalfOpen, 0, 1));
    // The only slot is free again: a new trial runs and closes the breaker.
    assert_eq!(succeed(&b).unwrap(), 1);
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn a_dropped_permit_gives_its_slot_back() {
    let (b, clock) = breaker_with(
        Config::builder()
            .failure_threshold(1)
            .half_open_max_calls(1)
            .success_threshold(1),
    );
    let _ = fail(&b);
    clock.advance(secs(60));
    drop(b.try_acquire().expect("the trial slot"));
    assert!(b.try_acquire().is_ok(), "slot returned");
}

/// Polls a future once with a no-op waker; returns its output if it finished.
fn poll_once<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}
