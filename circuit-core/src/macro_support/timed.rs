//! What the expansion of an `async fn` with the `timeout` key calls: the call goes through
//! [`CircuitBreaker::call_async_with`], which cancels it after the breaker's timeout, and a
//! timeout reaches the function's caller as `Err(E::from(CallTimedOut))`, or its fallback.
//!
//! Only a function with the key gets here, so only its error type must convert from
//! [`CallTimedOut`]; the others take the untimed path and ignore a `timeout` given by the
//! environment or a file. Without the `tokio` feature there is no timer, and the key is a
//! compile error ([`TimeoutNeedsTokio`]).

use crate::breaker::error::{CallTimedOut, CircuitError};
use crate::macro_support::{Apply, CircuitResult, FromOpen, IntoFallback};
use crate::{CircuitBreaker, Outcome};
use std::future::Future;

/// An error type that can stand for a call cut short by its timeout.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold the timeout of a `#[circuit_breaker]` call with the `timeout` key",
    label = "implement `From<circuit_core::CallTimedOut>` for `{Self}`"
)]
pub trait FromTimedOut {
    /// `E::from(timed_out)`.
    fn from_timed_out(timed_out: CallTimedOut) -> Self;
}

impl<E: From<CallTimedOut>> FromTimedOut for E {
    #[inline]
    fn from_timed_out(timed_out: CallTimedOut) -> Self {
        E::from(timed_out)
    }
}

/// Met only with the `tokio` feature, which gives the `timeout` key its timer.
#[diagnostic::on_unimplemented(
    message = "the `timeout` key needs the `tokio` feature of circuit-core",
    label = "enable it: `circuit-core = {{ version = \"...\", features = [\"tokio\"] }}`"
)]
pub trait TimeoutNeedsTokio {}

#[cfg(feature = "tokio")]
impl<R> TimeoutNeedsTokio for R {}

/// The call's result, and whether it counted as a failure (a rejection or a timeout
/// included): the fallback runs then.
async fn call<R: CircuitResult>(
    breaker: &CircuitBreaker,
    body: impl Future<Output = R>,
    classify: impl FnOnce(&R::Error) -> Outcome,
) -> (Result<R::Value, CircuitError<R::Error>>, bool) {
    let mut failed = true;
    let body = async move { body.await.into_result() };
    let result = breaker
        .call_async_with(body, |e| {
            let outcome = classify(e);
            failed = outcome.is_failure();
            outcome
        })
        .await;
    if result.is_ok() {
        failed = false;
    }
    (result, failed)
}

/// `exclude` as an outcome: what it matches is a successful round trip.
fn excluding<E>(exclude: impl FnOnce(&E) -> bool) -> impl FnOnce(&E) -> Outcome {
    move |e| {
        if exclude(e) {
            Outcome::Success
        } else {
            Outcome::Failure
        }
    }
}

/// `ignore`, asked first, then `exclude`, as an outcome (as the `ignoring` variants do).
fn ignoring<E>(
    exclude: impl FnOnce(&E) -> bool,
    ignore: impl FnOnce(&E) -> bool,
) -> impl FnOnce(&E) -> Outcome {
    move |e| {
        if ignore(e) {
            Outcome::Ignored
        } else if exclude(e) {
            Outcome::Success
        } else {
            Outcome::Failure
        }
    }
}

fn flatten<E: FromOpen + FromTimedOut>(error: CircuitError<E>) -> E {
    match error {
        CircuitError::Inner(e) => e,
        CircuitError::Open(open) => E::from_open(open),
        CircuitError::Timeout(timed_out) => E::from_timed_out(timed_out),
    }
}

/// Without a fallback: the result, a rejection or a timeout as the function's error.
fn plain<R>(result: Result<R::Value, CircuitError<R::Error>>) -> R
where
    R: CircuitResult,
    R::Error: FromOpen + FromTimedOut,
{
    R::from_result(result.map_err(flatten))
}

/// With a fallback: it answers a rejection, a timeout or a counted failure.
async fn or_fallback<R, A, F, M>(
    breaker: &CircuitBreaker,
    (result, failed): (Result<R::Value, CircuitError<R::Error>>, bool),
    args: A,
    fallback: F,
) -> R
where
    R: CircuitResult,
    F: Apply<A>,
    F::Output: IntoFallback<R, M>,
{
    match result {
        Ok(value) => R::from_result(Ok(value)),
        // An excluded or ignored error: the service answered; no fallback.
        Err(CircuitError::Inner(error)) if !failed => R::from_result(Err(error)),
        Err(_) => {
            breaker.record_fallback();
            fallback.apply(args).into_fallback().await
        }
    }
}

/// [`run_async`](super::run_async) with a timeout.
#[inline]
pub async fn run_async_timed<R>(
    breaker: &CircuitBreaker,
    body: impl Future<Output = R>,
    exclude: impl FnOnce(&R::Error) -> bool,
) -> R
where
    R: CircuitResult + TimeoutNeedsTokio,
    R::Error: FromOpen + FromTimedOut,
{
    let (result, _) = call::<R>(breaker, body, excluding(exclude)).await;
    plain(result)
}

/// [`run_async_or_fallback`](super::run_async_or_fallback) with a timeout: the fallback also
/// answers a call that timed out. The error type need not convert from
/// [`CircuitOpen`](crate::CircuitOpen) nor [`CallTimedOut`], since the fallback answers both.
#[inline]
pub async fn run_async_timed_or_fallback<R, A, F, M>(
    breaker: &CircuitBreaker,
    args: A,
    body: impl Future<Output = R>,
    exclude: impl FnOnce(&R::Error) -> bool,
    fallback: F,
) -> R
where
    R: CircuitResult + TimeoutNeedsTokio,
    F: Apply<A>,
    F::Output: IntoFallback<R, M>,
{
    let called = call::<R>(breaker, body, excluding(exclude)).await;
    or_fallback(breaker, called, args, fallback).await
}

/// [`run_async_ignoring`](super::run_async_ignoring) with a timeout.
#[inline]
pub async fn run_async_timed_ignoring<R>(
    breaker: &CircuitBreaker,
    body: impl Future<Output = R>,
    exclude: impl FnOnce(&R::Error) -> bool,
    ignore: impl FnOnce(&R::Error) -> bool,
) -> R
where
    R: CircuitResult + TimeoutNeedsTokio,
    R::Error: FromOpen + FromTimedOut,
{
    let (result, _) = call::<R>(breaker, body, ignoring(exclude, ignore)).await;
    plain(result)
}

/// [`run_async_ignoring_or_fallback`](super::run_async_ignoring_or_fallback) with a timeout.
#[inline]
pub async fn run_async_timed_ignoring_or_fallback<R, A, F, M>(
    breaker: &CircuitBreaker,
    args: A,
    body: impl Future<Output = R>,
    exclude: impl FnOnce(&R::Error) -> bool,
    ignore: impl FnOnce(&R::Error) -> bool,
    fallback: F,
) -> R
where
    R: CircuitResult + TimeoutNeedsTokio,
    F: Apply<A>,
    F::Output: IntoFallback<R, M>,
{
    let called = call::<R>(breaker, body, ignoring(exclude, ignore)).await;
    or_fallback(breaker, called, args, fallback).await
}
