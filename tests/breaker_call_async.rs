//! `call_async`'s future at every stage it can end in: never polled, rejected, finished at
//! once, finished after pending, dropped while pending, panicked. Each ends with the call
//! counted once (or not at all when cancelled) and its classifier dropped exactly once.

mod common;
use circuit_core::{CircuitBreaker, CircuitError, Config, State};
use common::*;
use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Counts its drops, so a classifier holding one shows whether it was dropped exactly once.
struct DropCount(Rc<Cell<u32>>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// A classifier that owns a `DropCount`: every error is a failure.
fn classifier(drops: &Rc<Cell<u32>>) -> impl FnOnce(&&'static str) -> bool {
    let owned = DropCount(drops.clone());
    move |_| {
        let _owned = &owned;
        true
    }
}

/// Pending on its first poll, then ready with `result`.
struct PendingOnce(bool, Option<Result<u32, &'static str>>);

impl Future for PendingOnce {
    type Output = Result<u32, &'static str>;
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        if std::mem::replace(&mut self.0, true) {
            Poll::Ready(self.1.take().expect("polled after ready"))
        } else {
            Poll::Pending
        }
    }
}

fn counts(b: &CircuitBreaker) -> (u64, u64, u64) {
    let s = b.snapshot();
    (s.successes, s.failures, s.rejected)
}

#[test]
fn a_future_never_polled_asks_nothing_and_drops_its_classifier() {
    let (b, _clock) = breaker();
    let drops = Rc::new(Cell::new(0));
    drop(b.call_async_with(PendingOnce(false, Some(Ok(1))), classifier(&drops)));
    assert_eq!(drops.get(), 1);
    assert_eq!(counts(&b), (0, 0, 0));
}

#[test]
fn a_rejected_call_drops_its_classifier_once() {
    let (b, _clock) = breaker_with(Config::builder().failure_threshold(1));
    let _ = fail(&b);
    let drops = Rc::new(Cell::new(0));
    let fut = b.call_async_with(PendingOnce(false, Some(Ok(1))), classifier(&drops));
    let out = poll_once(fut).expect("a rejection is ready at once");
    assert!(matches!(out, Err(CircuitError::Open(_))));
    assert_eq!(drops.get(), 1);
    assert_eq!(counts(&b), (0, 1, 1));
}

#[test]
fn a_call_pending_then_ready_counts_once_under_its_first_admission() {
    let (b, _clock) = breaker();
    let drops = Rc::new(Cell::new(0));
    let mut fut =
        pin!(b.call_async_with(PendingOnce(false, Some(Err("down"))), classifier(&drops)));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    assert_eq!(counts(&b), (0, 0, 0), "nothing counted while pending");
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(Err(CircuitError::Inner("down"))) => {}
        other => panic!("expected the inner error, got {other:?}"),
    }
    assert_eq!(drops.get(), 1, "the classifier ran and was dropped");
    assert_eq!(counts(&b), (0, 1, 0));
    // Polled again after it finished: a contract violation, refused loudly, nothing counted.
    let again = catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx)));
    assert!(again.is_err());
    assert_eq!((drops.get(), counts(&b)), (1, (0, 1, 0)));
}

#[test]
fn a_call_dropped_while_pending_counts_nothing_and_drops_its_classifier_once() {
    let (b, _clock) = breaker();
    let drops = Rc::new(Cell::new(0));
    let fut = b.call_async_with(PendingOnce(false, Some(Ok(1))), classifier(&drops));
    assert!(poll_once(fut).is_none());
    assert_eq!(drops.get(), 1);
    assert_eq!(counts(&b), (0, 0, 0));
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn a_panicking_poll_counts_one_failure_and_a_second_poll_is_refused() {
    quiet_deliberate_panics();
    let (b, _clock) = breaker();
    let drops = Rc::new(Cell::new(0));
    let panicking =
        async { panic!("{DELIBERATE}: inside the future") as Result<u32, &'static str> };
    // Boxed, so that the test can drop the future itself (`pin!` would drop only the pointer).
    let mut fut = Box::pin(b.call_async_with(panicking, classifier(&drops)));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx))).is_err());
    assert_eq!(counts(&b), (0, 1, 0));
    assert!(catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx))).is_err());
    assert_eq!(counts(&b), (0, 1, 0), "the refused poll counts nothing");
    assert_eq!(drops.get(), 0, "still owned by the future");
    drop(fut);
    assert_eq!(drops.get(), 1);
}

#[test]
fn a_ready_success_counts_once_and_drops_its_classifier_once() {
    let (b, _clock) = breaker();
    let drops = Rc::new(Cell::new(0));
    let fut = b.call_async_with(std::future::ready(Ok(7)), classifier(&drops));
    assert_eq!(poll_once(fut).expect("ready").ok(), Some(7));
    assert_eq!(drops.get(), 1);
    assert_eq!(counts(&b), (1, 0, 0));
}
