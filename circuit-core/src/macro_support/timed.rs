//! What the expansion of an `async fn` with the `timeout` key calls: the call goes through
//! [`CircuitBreaker::call_async_with`], which cancels it after the breaker's timeout. A timeout
//! reaches the function's caller as the function's `finish` says (`Err(E::from(CallTimedOut))`,
//! or `CircuitError::Timeout` for a function returning `CircuitError<E>`), or its fallback,
//! with [`FallbackReason::TimedOut`](crate::FallbackReason::TimedOut).
//!
//! Only a function with the key gets here, so only its error type must convert from
//! [`CallTimedOut`](crate::CallTimedOut); the others take the untimed path and ignore a
//! `timeout` given by the environment or a file. Without the `tokio` feature there is no
//! timer, and the key is a compile error ([`TimeoutNeedsTokio`]).

use crate::breaker::error::CircuitError;
use crate::macro_support::{Apply, CircuitResult, Finish, IntoFallback, RejectTimeout};
use crate::{CircuitBreaker, Outcome};
use std::future::Future;

/// Met only with the `tokio` feature, which gives the `timeout` key its timer.
#[diagnostic::on_unimplemented(
    message = "the `timeout` key needs the `tokio` feature of circuit-core",
    label = "enable it: `circuit-core = {{ version = \"...\", features = [\"tokio\"] }}`"
)]
pub trait TimeoutNeedsTokio {}

#[cfg(feature = "tokio")]
impl<R> TimeoutNeedsTokio for R {}

/// [`run_async`](super::run_async) with a timeout.
#[inline]
pub async fn run_async_timed<R, K>(
    breaker: &CircuitBreaker,
    body: impl Future<Output = R>,
    classify: impl FnOnce(&R::Error) -> Outcome,
    finish: K,
) -> K::Output
where
    R: CircuitResult + TimeoutNeedsTokio,
    K: RejectTimeout<R::Value, R::Error>,
{
    let body = async move { body.await.into_result() };
    match breaker.call_async_with(body, classify).await {
        Ok(value) => finish.done(Ok(value)),
        Err(CircuitError::Inner(error)) => finish.done(Err(error)),
        Err(CircuitError::Open(open)) => finish.rejected(open),
        Err(CircuitError::Timeout(timed_out)) => finish.timed_out(timed_out),
    }
}

/// [`run_async_or_fallback`](super::run_async_or_fallback) with a timeout: the fallback also
/// answers a call that timed out. The error type need not convert from
/// [`CircuitOpen`](crate::CircuitOpen) nor [`CallTimedOut`](crate::CallTimedOut), since the
/// fallback answers both.
#[inline]
pub async fn run_async_timed_or_fallback<R, K, A, F, M, N>(
    breaker: &CircuitBreaker,
    args: A,
    body: impl Future<Output = R>,
    classify: impl FnOnce(&R::Error) -> Outcome,
    finish: K,
    fallback: F,
) -> K::Output
where
    R: CircuitResult + TimeoutNeedsTokio,
    K: Finish<R::Value, R::Error>,
    F: Apply<A, R::Error, M>,
    F::Output: IntoFallback<K::Output, N>,
{
    let mut failed = false;
    let body = async move { body.await.into_result() };
    let result = breaker
        .call_async_with(body, |e| {
            let outcome = classify(e);
            failed = outcome.is_failure();
            outcome
        })
        .await;
    match result {
        Ok(value) => finish.done(Ok(value)),
        // An excluded or ignored error: no fallback.
        Err(CircuitError::Inner(error)) if !failed => finish.done(Err(error)),
        // Rejected, timed out, or a counted failure.
        Err(why) => {
            breaker.record_fallback();
            fallback.apply(args, why.into()).into_fallback().await
        }
    }
}
