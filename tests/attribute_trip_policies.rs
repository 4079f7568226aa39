//! The attribute's trip-policy keys reach the breaker's configuration, and `ignore = pred`
//! reports the errors it matches as ignored: counted in `Snapshot::ignored`, returned
//! unchanged, moving no state, never running the fallback.

mod common;

use circuit_core::config::Setting;
use circuit_core::{circuit_breaker, Backoff, CircuitOpen, SlidingWindow, State};
use common::{manual_clock, quiet_deliberate_panics, secs, DELIBERATE};
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

/// The errors of the functions below.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CallError {
    /// The breaker rejected the call, in this state.
    Rejected(State),
    /// The service failed: counts against it.
    Down,
    /// The service answered "not found": excluded (a success).
    NotFound,
    /// The caller gave up before the service could answer: ignored.
    Cancelled,
}

impl From<CircuitOpen> for CallError {
    fn from(open: CircuitOpen) -> Self {
        CallError::Rejected(open.state())
    }
}

fn is_not_found(e: &CallError) -> bool {
    *e == CallError::NotFound
}

fn is_cancelled(e: &CallError) -> bool {
    *e == CallError::Cancelled
}

/// Polls `fut` once: every future here is ready at once.
fn run<F: Future>(fut: F) -> F::Output {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("the future waited"),
    }
}

#[circuit_breaker(
    failure_rate_threshold = 0.5,
    sliding_window = "60s",
    minimum_calls = 20,
    slow_call_duration = "2s",
    slow_call_rate_threshold = 0.8,
    backoff = "exponential(2, 5m)",
    jitter = 0.2,
    half_open_max_wait = "30s"
)]
fn every_policy_key(outcome: Result<u32, CallError>) -> Result<u32, CallError> {
    outcome
}

#[test]
fn the_trip_policy_keys_reach_the_breakers_config() {
    let c = every_policy_key::breaker().config();
    assert_eq!(c.failure_rate_threshold(), Some(0.5));
    assert_eq!(c.sliding_window(), SlidingWindow::Time(secs(60)));
    assert_eq!(c.minimum_calls(), 20);
    assert_eq!(c.slow_call_duration(), Some(secs(2)));
    assert_eq!(c.slow_call_rate_threshold(), Some(0.8));
    assert_eq!(
        c.backoff(),
        Backoff::exponential(2.0, secs(300)).with_jitter(0.2)
    );
    assert_eq!(c.half_open_max_wait(), secs(30));
    // The rate rules replace the consecutive one: `failure_threshold` was not given.
    assert!(!c.trips_on_consecutive_failures());
    for setting in [Setting::FailureRateThreshold, Setting::Jitter] {
        assert!(c.is_set(setting), "{setting:?}");
    }
    assert!(!c.is_set(Setting::FailureThreshold));
}

#[circuit_breaker(
    failure_rate_threshold = 1,
    failure_threshold = 5,
    sliding_window = "10 calls"
)]
fn both_rules(outcome: Result<u32, CallError>) -> Result<u32, CallError> {
    outcome
}

#[test]
fn a_failure_threshold_in_the_attribute_counts_as_given_and_keeps_the_consecutive_rule() {
    let c = both_rules::breaker().config();
    assert_eq!(c.failure_rate_threshold(), Some(1.0));
    assert_eq!(c.sliding_window(), SlidingWindow::Count(10));
    assert_eq!(c.minimum_calls(), 10, "100, capped at the window's size");
    assert!(c.is_set(Setting::FailureThreshold));
    assert!(c.trips_on_consecutive_failures());
}

#[circuit_breaker(backoff = "constant", jitter = 0)]
fn constant_backoff(outcome: Result<u32, CallError>) -> Result<u32, CallError> {
    outcome
}

#[test]
fn a_constant_backoff_and_no_jitter_can_be_written_too() {
    let c = constant_backoff::breaker().config();
    assert_eq!(c.backoff(), Backoff::constant());
    assert!(c.is_set(Setting::Backoff) && c.is_set(Setting::Jitter));
}

#[circuit_breaker(failure_threshold = 2, ignore = is_cancelled, exclude = is_not_found)]
fn ignoring(outcome: Result<u32, CallError>) -> Result<u32, CallError> {
    outcome
}

#[test]
fn an_ignored_error_is_returned_counted_as_ignored_and_moves_no_state() {
    let b = ignoring::breaker();
    assert_eq!(ignoring(Err(CallError::Down)), Err(CallError::Down));
    assert_eq!(b.snapshot().failure_count, 1);
    // Ignored: returned as it is, the consecutive failure stays, nothing else is counted.
    assert_eq!(
        ignoring(Err(CallError::Cancelled)),
        Err(CallError::Cancelled)
    );
    let s = b.snapshot();
    assert_eq!((s.failure_count, s.ignored), (1, 1));
    assert_eq!((s.successes, s.failures), (0, 1));
    // Excluded: a success, which clears the consecutive failures.
    assert_eq!(ignoring(Err(CallError::NotFound)), Err(CallError::NotFound));
    let s = b.snapshot();
    assert_eq!((s.failure_count, s.successes, s.ignored), (0, 1, 1));
    // Two failures in a row open it, however many ignored errors come between them.
    let _ = ignoring(Err(CallError::Down));
    let _ = ignoring(Err(CallError::Cancelled));
    let _ = ignoring(Err(CallError::Cancelled));
    assert_eq!(b.state(), State::Closed);
    let _ = ignoring(Err(CallError::Down));
    assert_eq!(b.state(), State::Open);
    assert_eq!(ignoring(Ok(1)), Err(CallError::Rejected(State::Open)));
    assert_eq!(b.snapshot().ignored, 3);
}

#[circuit_breaker(
    failure_threshold = 1,
    half_open_max_calls = 1,
    success_threshold = 1,
    ignore = is_cancelled
)]
fn one_trial(outcome: Result<u32, CallError>) -> Result<u32, CallError> {
    outcome
}

#[test]
fn an_ignored_trial_gives_its_half_open_slot_back_and_adds_no_success() {
    let clock = manual_clock(one_trial::breaker());
    let b = one_trial::breaker();
    let _ = one_trial(Err(CallError::Down));
    clock.advance(secs(60));
    assert_eq!(b.state(), State::HalfOpen);
    // The only trial slot, taken and given back by an ignored error.
    assert_eq!(
        one_trial(Err(CallError::Cancelled)),
        Err(CallError::Cancelled)
    );
    assert_eq!(b.state(), State::HalfOpen);
    assert_eq!(b.snapshot().success_count, 0);
    assert_eq!(one_trial(Ok(2)), Ok(2), "the slot came back");
    assert_eq!(b.state(), State::Closed);
}

static FALLBACKS: AtomicU32 = AtomicU32::new(0);

fn fallback(_outcome: Result<u32, CallError>) -> Result<u32, CallError> {
    FALLBACKS.fetch_add(1, Ordering::SeqCst);
    Ok(0)
}

#[circuit_breaker(failure_threshold = 1, ignore = is_cancelled, fallback = fallback)]
fn ignoring_with_fallback(outcome: Result<u32, CallError>) -> Result<u32, CallError> {
    outcome
}

#[test]
fn an_ignored_error_never_runs_the_fallback_and_a_failure_does() {
    let b = ignoring_with_fallback::breaker();
    assert_eq!(
        ignoring_with_fallback(Err(CallError::Cancelled)),
        Err(CallError::Cancelled)
    );
    assert_eq!(FALLBACKS.load(Ordering::SeqCst), 0);
    assert_eq!(b.snapshot().fallbacks, 0);
    assert_eq!(ignoring_with_fallback(Err(CallError::Down)), Ok(0));
    assert_eq!(b.state(), State::Open);
    assert_eq!(
        ignoring_with_fallback(Ok(5)),
        Ok(0),
        "rejected: the fallback"
    );
    assert_eq!(FALLBACKS.load(Ordering::SeqCst), 2);
    let s = b.snapshot();
    assert_eq!(
        (s.fallbacks, s.ignored, s.failures, s.rejected),
        (2, 1, 1, 1)
    );
}

#[circuit_breaker(failure_threshold = 2, ignore = is_cancelled)]
fn panicking(outcome: Result<u32, CallError>, panic: bool) -> Result<u32, CallError> {
    if panic {
        panic!("{DELIBERATE} in a function with `ignore`");
    }
    outcome
}

#[test]
fn a_panic_in_a_function_with_ignore_counts_as_a_failure() {
    quiet_deliberate_panics();
    let b = panicking::breaker();
    let unwound = std::panic::catch_unwind(|| panicking(Ok(1), true));
    assert!(unwound.is_err());
    assert_eq!(b.snapshot().failure_count, 1);
    assert_eq!(b.snapshot().failures, 1);
}

#[circuit_breaker(failure_threshold = 2, ignore = is_cancelled, exclude = is_not_found)]
async fn ignoring_async(outcome: Result<u32, CallError>) -> Result<u32, CallError> {
    outcome
}

#[test]
fn an_async_function_ignores_alike() {
    let b = ignoring_async::breaker();
    let _ = run(ignoring_async(Err(CallError::Down)));
    assert_eq!(
        run(ignoring_async(Err(CallError::Cancelled))),
        Err(CallError::Cancelled)
    );
    let s = b.snapshot();
    assert_eq!((s.failure_count, s.ignored, s.failures), (1, 1, 1));
    assert_eq!(
        run(ignoring_async(Err(CallError::NotFound))),
        Err(CallError::NotFound)
    );
    assert_eq!(b.snapshot().failure_count, 0, "excluded: a success");
    let _ = run(ignoring_async(Err(CallError::Down)));
    let _ = run(ignoring_async(Err(CallError::Down)));
    assert_eq!(
        run(ignoring_async(Ok(1))),
        Err(CallError::Rejected(State::Open))
    );
}

static ASYNC_FALLBACKS: AtomicU32 = AtomicU32::new(0);

async fn async_fallback(_outcome: Result<u32, CallError>, _wait: bool) -> Result<u32, CallError> {
    ASYNC_FALLBACKS.fetch_add(1, Ordering::SeqCst);
    Ok(0)
}

#[circuit_breaker(
    failure_threshold = 1,
    half_open_max_calls = 1,
    success_threshold = 1,
    ignore = is_cancelled,
    fallback = async_fallback
)]
async fn async_trial(outcome: Result<u32, CallError>, wait: bool) -> Result<u32, CallError> {
    if wait {
        std::future::pending::<()>().await;
    }
    outcome
}

#[test]
fn an_async_function_with_ignore_and_a_fallback_gives_slots_back_when_ignored_or_dropped() {
    let clock = manual_clock(async_trial::breaker());
    let b = async_trial::breaker();
    assert_eq!(run(async_trial(Err(CallError::Down), false)), Ok(0));
    assert_eq!(ASYNC_FALLBACKS.load(Ordering::SeqCst), 1);
    clock.advance(secs(60));
    // An ignored trial: no fallback, the slot comes back.
    assert_eq!(
        run(async_trial(Err(CallError::Cancelled), false)),
        Err(CallError::Cancelled)
    );
    assert_eq!(ASYNC_FALLBACKS.load(Ordering::SeqCst), 1);
    {
        // A trial that starts, waits, and is dropped: it counts as nothing.
        let mut trial = Box::pin(async_trial(Ok(1), true));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(trial.as_mut().poll(&mut cx).is_pending());
        assert_eq!(
            run(async_trial(Ok(1), false)),
            Ok(0),
            "the only slot is taken: rejected, the fallback answers"
        );
    }
    assert_eq!(run(async_trial(Ok(3), false)), Ok(3), "the slot came back");
    assert_eq!(b.state(), State::Closed);
    let s = b.snapshot();
    assert_eq!((s.ignored, s.fallbacks, s.failures), (1, 2, 1));
}
