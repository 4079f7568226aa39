//! Abandoned calls: an async call its caller drops before it finishes. Always counted in
//! `Snapshot::abandoned`; by default nothing more (its trial slot goes back), and with
//! `abandoned_call_duration` one that had waited at least that long is also a failure. The
//! futures are polled by hand and time is the breaker's `ManualClock`.

mod common;
use circuit_core::{CircuitBreaker, Config, Reason, State};
use common::*;
use std::future::{pending, Future};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A call that never finishes, polled once (it waits), then left to the test to drop.
fn waiting(b: &CircuitBreaker) -> Pin<Box<dyn Future<Output = ()> + '_>> {
    let mut call = Box::pin(async move {
        let _ = b.call_async(pending::<Result<(), &str>>()).await;
    });
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(call.as_mut().poll(&mut cx), Poll::Pending);
    call
}

fn abandoning_after(
    after: Duration,
    failures: u32,
) -> (CircuitBreaker, circuit_core::clock::ManualClock) {
    breaker_with(
        Config::builder()
            .abandoned_call_duration(after)
            .failure_threshold(failures),
    )
}

#[test]
fn by_default_an_abandoned_call_is_counted_as_abandoned_and_nothing_else() {
    let (b, clock) = breaker();
    let call = waiting(&b);
    clock.advance(secs(3600));
    drop(call);
    let s = b.snapshot();
    assert_eq!((s.abandoned, s.failures, s.successes), (1, 0, 0));
    assert_eq!(s.failure_count, 0);
}

#[test]
fn a_call_dropped_after_the_duration_counts_as_a_failure() {
    let (b, clock) = abandoning_after(ms(500), 5);
    let call = waiting(&b);
    clock.advance(ms(500));
    drop(call);
    let s = b.snapshot();
    assert_eq!((s.abandoned, s.failures), (1, 1));
    assert_eq!(s.failure_count, 1);
    assert!(s.last_failure.is_some());
}

#[test]
fn a_call_dropped_sooner_counts_as_nothing_more() {
    let (b, clock) = abandoning_after(ms(500), 5);
    let call = waiting(&b);
    clock.advance(ms(499));
    drop(call);
    let s = b.snapshot();
    assert_eq!((s.abandoned, s.failures), (1, 0));
}

#[test]
fn clients_that_give_up_on_a_slow_upstream_trip_the_breaker() {
    // The trial that found this: clients giving up after 0.5 s on an upstream that answers
    // in 1.5 s; every call dropped, none counted, the breaker stayed closed.
    let (b, clock) = abandoning_after(ms(500), 3);
    for _ in 0..3 {
        let call = waiting(&b);
        clock.advance(ms(500));
        drop(call);
    }
    assert_eq!(b.state(), State::Open);
    let s = b.snapshot();
    assert_eq!((s.abandoned, s.failures), (3, 3));
}

#[test]
fn a_long_abandoned_trial_fails_its_half_open_period() {
    let (b, clock) = abandoning_after(ms(500), 1);
    let _ = fail(&b);
    clock.advance(secs(60));
    assert_eq!(b.state(), State::HalfOpen);
    let transitions = record_transitions(&b);
    let call = waiting(&b);
    clock.advance(ms(500));
    drop(call);
    assert_eq!(b.state(), State::Open);
    assert_eq!(
        transitions.lock().unwrap().last().map(|t| t.reason),
        Some(Reason::TrialFailed)
    );
}

#[test]
fn a_short_abandoned_trial_gives_its_slot_back() {
    let (b, clock) = breaker_with(
        Config::builder()
            .abandoned_call_duration(ms(500))
            .failure_threshold(1)
            .half_open_max_calls(1)
            .success_threshold(1),
    );
    let _ = fail(&b);
    clock.advance(secs(60));
    let call = waiting(&b);
    // Its one slot is taken while it waits...
    assert!(succeed(&b).unwrap_err().is_open());
    drop(call);
    // ...and free again once it is dropped early: the next trial closes the breaker.
    assert_eq!(succeed(&b).unwrap(), 1);
    assert_eq!(b.state(), State::Closed);
}

#[test]
fn a_call_never_polled_or_finished_is_not_abandoned() {
    let (b, _clock) = abandoning_after(ms(500), 5);
    drop(b.call_async(pending::<Result<(), &str>>()));
    let mut cx = Context::from_waker(Waker::noop());
    let mut done = Box::pin(b.call_async(async { Ok::<_, &str>(1) }));
    assert!(matches!(done.as_mut().poll(&mut cx), Poll::Ready(Ok(1))));
    drop(done);
    let s = b.snapshot();
    assert_eq!((s.abandoned, s.successes, s.failures), (0, 1, 0));
}

#[test]
fn a_disabled_breaker_records_no_abandoned_call() {
    let (b, clock) = abandoning_after(ms(500), 5);
    b.disable();
    let call = waiting(&b);
    clock.advance(ms(500));
    drop(call);
    let s = b.snapshot();
    assert_eq!((s.abandoned, s.failures), (0, 0));
}

#[test]
fn reconfigure_sets_the_duration() {
    let (b, clock) = breaker();
    b.reconfigure(
        Config::builder()
            .abandoned_call_duration(ms(100))
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    let call = waiting(&b);
    clock.advance(ms(100));
    drop(call);
    assert_eq!(b.snapshot().failures, 1);
}
