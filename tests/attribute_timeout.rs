//! The attribute's `timeout` key on an `async fn`: a call past it is cancelled, counted as a
//! failure and returned as `Err(E::from(CallTimedOut))`, or answered by the fallback. Time is
//! tokio's paused clock.

use circuit_core::{circuit_breaker, registry, CallTimedOut, CircuitOpen, Config, State};
use std::time::Duration;
use tokio::time::sleep;

#[derive(Debug, PartialEq)]
enum UpstreamError {
    Rejected,
    TimedOut(Duration),
    NotFound,
}

impl From<CircuitOpen> for UpstreamError {
    fn from(_: CircuitOpen) -> Self {
        UpstreamError::Rejected
    }
}

impl From<CallTimedOut> for UpstreamError {
    fn from(timed_out: CallTimedOut) -> Self {
        UpstreamError::TimedOut(timed_out.timeout())
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[circuit_breaker(name = "attribute-timeout", timeout = "500ms", failure_threshold = 2)]
async fn fetch(answers_after: Duration) -> Result<u32, UpstreamError> {
    sleep(answers_after).await;
    Ok(1)
}

#[tokio::test(start_paused = true)]
async fn a_call_past_the_timeout_returns_the_users_error_and_trips_the_breaker() {
    assert_eq!(fetch(ms(100)).await, Ok(1));
    assert_eq!(fetch(ms(1500)).await, Err(UpstreamError::TimedOut(ms(500))));
    assert_eq!(fetch(ms(1500)).await, Err(UpstreamError::TimedOut(ms(500))));
    assert_eq!(fetch::breaker().state(), State::Open);
    assert_eq!(fetch(ms(100)).await, Err(UpstreamError::Rejected));
    let s = fetch::breaker().snapshot();
    assert_eq!(
        (s.successes, s.failures, s.timeouts, s.rejected),
        (1, 2, 2, 1)
    );
}

fn fallback_answer(_: Duration) -> Result<u32, UpstreamError> {
    Ok(0)
}

#[circuit_breaker(name = "attribute-timeout-fallback", timeout = "1s", fallback = fallback_answer)]
async fn fetch_or_default(answers_after: Duration) -> Result<u32, UpstreamError> {
    sleep(answers_after).await;
    Ok(1)
}

#[tokio::test(start_paused = true)]
async fn the_fallback_answers_a_timed_out_call() {
    assert_eq!(fetch_or_default(ms(2000)).await, Ok(0));
    let s = fetch_or_default::breaker().snapshot();
    assert_eq!((s.failures, s.timeouts, s.fallbacks), (1, 1, 1));
}

fn is_not_found(e: &UpstreamError) -> bool {
    *e == UpstreamError::NotFound
}

#[circuit_breaker(name = "attribute-timeout-ignore", timeout = "1s", ignore = is_not_found)]
async fn fetch_ignoring(answers_after: Duration, found: bool) -> Result<u32, UpstreamError> {
    sleep(answers_after).await;
    if found {
        Ok(1)
    } else {
        Err(UpstreamError::NotFound)
    }
}

#[tokio::test(start_paused = true)]
async fn ignore_and_timeout_work_together() {
    assert_eq!(
        fetch_ignoring(ms(10), false).await,
        Err(UpstreamError::NotFound)
    );
    assert_eq!(
        fetch_ignoring(ms(5000), true).await,
        Err(UpstreamError::TimedOut(ms(1000)))
    );
    let s = fetch_ignoring::breaker().snapshot();
    assert_eq!((s.ignored, s.failures, s.timeouts), (1, 1, 1));
}

/// An error type without `From<CallTimedOut>`: fine on a function without the key.
#[derive(Debug, PartialEq)]
struct PlainError;

impl From<CircuitOpen> for PlainError {
    fn from(_: CircuitOpen) -> Self {
        PlainError
    }
}

#[circuit_breaker(name = "attribute-timeout-untimed")]
async fn untimed(answers_after: Duration) -> Result<u32, PlainError> {
    sleep(answers_after).await;
    Ok(1)
}

#[tokio::test(start_paused = true)]
async fn a_timeout_from_configuration_does_not_reach_a_function_without_the_key() {
    // Its error type cannot hold a timeout, so the attribute never times it out: a `timeout`
    // from the environment or a file does nothing here.
    registry().configure(
        "attribute-timeout-untimed",
        Config::builder().timeout(ms(10)).build().unwrap(),
    );
    assert_eq!(untimed(ms(1000)).await, Ok(1));
    assert_eq!(untimed::breaker().snapshot().timeouts, 0);
}

#[tokio::test(start_paused = true)]
async fn configuration_changes_the_timeout_of_a_function_with_the_key() {
    registry().configure(
        "attribute-timeout-configured",
        Config::builder().timeout(ms(50)).build().unwrap(),
    );
    assert_eq!(
        configured(ms(100)).await,
        Err(UpstreamError::TimedOut(ms(50)))
    );
}

#[circuit_breaker(name = "attribute-timeout-configured", timeout = "1s")]
async fn configured(answers_after: Duration) -> Result<u32, UpstreamError> {
    sleep(answers_after).await;
    Ok(1)
}

#[circuit_breaker(
    name = "attribute-abandoned-ignore",
    abandoned_call_duration = "1s",
    ignore = is_not_found
)]
async fn never_answers() -> Result<u32, UpstreamError> {
    std::future::pending::<()>().await;
    Ok(1)
}

#[tokio::test(start_paused = true)]
async fn an_abandoned_call_of_a_function_with_ignore_counts_too() {
    let clock = circuit_core::clock::ManualClock::new();
    let breaker = never_answers::breaker();
    breaker.reconfigure(
        breaker
            .config()
            .to_builder()
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    let mut call = Box::pin(never_answers());
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(std::future::Future::poll(call.as_mut(), &mut cx).is_pending());
    clock.advance(Duration::from_secs(1));
    drop(call);
    let s = breaker.snapshot();
    assert_eq!((s.abandoned, s.failures), (1, 1));
}

fn told_fallback(
    _: Duration,
    why: circuit_core::FallbackReason<UpstreamError>,
) -> Result<u32, UpstreamError> {
    match why {
        circuit_core::FallbackReason::TimedOut(t) => Ok(t.timeout().as_millis() as u32),
        circuit_core::FallbackReason::Rejected(_) => Ok(7),
        _ => Ok(9),
    }
}

#[circuit_breaker(
    name = "attribute-timeout-reason",
    timeout = "300ms",
    failure_threshold = 1,
    fallback = told_fallback
)]
async fn fetch_told(answers_after: Duration) -> Result<u32, UpstreamError> {
    sleep(answers_after).await;
    Ok(1)
}

#[tokio::test(start_paused = true)]
async fn the_fallback_is_told_the_call_timed_out() {
    assert_eq!(
        fetch_told(ms(1000)).await,
        Ok(300),
        "timed out after 300 ms"
    );
    assert_eq!(
        fetch_told(ms(10)).await,
        Ok(7),
        "then rejected: the breaker opened"
    );
}

/// An error type of another crate, without `From<CircuitOpen>` or `From<CallTimedOut>`.
#[derive(Debug, PartialEq)]
struct ForeignError;

#[circuit_breaker(
    name = "attribute-timeout-kept",
    timeout = "200ms",
    failure_threshold = 1
)]
async fn fetch_kept(
    answers_after: Duration,
) -> Result<u32, circuit_core::CircuitError<ForeignError>> {
    sleep(answers_after).await;
    Ok(1)
}

#[tokio::test(start_paused = true)]
async fn a_function_returning_circuit_error_gets_the_timeout_as_its_variant() {
    match fetch_kept(ms(1000)).await {
        Err(circuit_core::CircuitError::Timeout(t)) => assert_eq!(t.timeout(), ms(200)),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(matches!(
        fetch_kept(ms(10)).await,
        Err(circuit_core::CircuitError::Open(_))
    ));
}
