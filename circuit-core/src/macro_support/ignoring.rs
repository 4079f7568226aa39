//! What the expansion of an attribute with `ignore = pred` calls: errors `pred` matches are
//! reported with [`Permit::ignore`] (counted as ignored, moving no state), errors `exclude`
//! matches as successes, other errors as failures. `ignore` is asked first.
//!
//! The sync ones report through a [`Permit`] of their own rather than through `call_with`,
//! whose classifier the expansion gives only "failure or not"; the async ones go through
//! `call_async`'s future with an [`Outcome`] classifier, so that an abandoned call counts as
//! it does everywhere else. An attribute without `ignore` keeps the `call_with` path (`run`,
//! `run_async`, ...).

use crate::breaker::error::CircuitError;
use crate::breaker::permit::{OnDrop, Permit};
use crate::macro_support::{Apply, CircuitResult, FromOpen, IntoFallback, SameAs};
use crate::{CircuitBreaker, Outcome};
use std::future::Future;

/// How a call's result is reported.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// A success, or an error `exclude` matched.
    Success,
    /// An error that counts against the service: the fallback runs.
    Failure,
    /// An error `ignore` matched: counted as ignored, returned unchanged, no fallback.
    Ignored,
}

/// The call's result and how it counted; `Err` if the breaker rejected it.
type Reported<R> = Result<
    (
        Result<<R as CircuitResult>::Value, <R as CircuitResult>::Error>,
        Verdict,
    ),
    CircuitError<<R as CircuitResult>::Error>,
>;

/// Reports `result` through `permit`, and says how it counted.
#[inline(always)]
fn report<T, E>(
    permit: Permit<'_>,
    result: &Result<T, E>,
    exclude: impl FnOnce(&E) -> bool,
    ignore: impl FnOnce(&E) -> bool,
) -> Verdict {
    let verdict = match result {
        Ok(_) => Verdict::Success,
        Err(e) if ignore(e) => Verdict::Ignored,
        Err(e) if exclude(e) => Verdict::Success,
        Err(_) => Verdict::Failure,
    };
    match verdict {
        Verdict::Success => permit.success(),
        Verdict::Failure => permit.failure(),
        Verdict::Ignored => permit.ignore(),
    }
    verdict
}

/// Runs `body` under a permit of `breaker`: `Err` if the breaker rejected it.
#[inline(always)]
fn call<R: CircuitResult>(
    breaker: &CircuitBreaker,
    body: impl FnOnce() -> R,
    exclude: impl FnOnce(&R::Error) -> bool,
    ignore: impl FnOnce(&R::Error) -> bool,
) -> Reported<R> {
    let mut permit = breaker.try_acquire()?;
    // Should `body` panic, the unwinding drops the permit, which then reports a failure.
    permit.on_drop = OnDrop::Failure;
    let result = body().into_result();
    let verdict = report(permit, &result, exclude, ignore);
    Ok((result, verdict))
}

/// [`run`](super::run) with `ignore`.
#[inline]
pub fn run_ignoring<R>(
    breaker: &CircuitBreaker,
    body: impl FnOnce() -> R,
    exclude: impl FnOnce(&R::Error) -> bool,
    ignore: impl FnOnce(&R::Error) -> bool,
) -> R
where
    R: CircuitResult,
    R::Error: FromOpen,
{
    match call(breaker, body, exclude, ignore) {
        Ok((result, _)) => R::from_result(result),
        Err(CircuitError::Open(open)) => R::from_result(Err(R::Error::from_open(open))),
        Err(CircuitError::Inner(e)) => R::from_result(Err(e)),
        // A sync call never times out, nor does `Admitted`, which has no timer.
        Err(CircuitError::Timeout(_)) => unreachable!("an untimed call timed out"),
    }
}

/// [`run_or_fallback`](super::run_or_fallback) with `ignore`: the fallback runs for a
/// rejection or a counted failure, never for an ignored or excluded error.
#[inline]
pub fn run_ignoring_or_fallback<R, A, F>(
    breaker: &CircuitBreaker,
    args: A,
    body: impl FnOnce() -> R,
    exclude: impl FnOnce(&R::Error) -> bool,
    ignore: impl FnOnce(&R::Error) -> bool,
    fallback: F,
) -> R
where
    R: CircuitResult,
    F: Apply<A>,
    F::Output: SameAs<R>,
{
    match call(breaker, body, exclude, ignore) {
        Ok((result, Verdict::Success | Verdict::Ignored)) => R::from_result(result),
        Ok((_, Verdict::Failure)) | Err(_) => {
            breaker.record_fallback();
            fallback.apply(args).same()
        }
    }
}

/// Awaits `body` through [`CircuitBreaker::call_async_untimed`] (so an abandoned call counts
/// as `call_async`'s do), with `ignore` and `exclude` as one classifier: `Err` if the breaker
/// rejected it.
async fn call_async<R: CircuitResult>(
    breaker: &CircuitBreaker,
    body: impl Future<Output = R>,
    exclude: impl FnOnce(&R::Error) -> bool,
    ignore: impl FnOnce(&R::Error) -> bool,
) -> Reported<R> {
    let mut verdict = Verdict::Success;
    let body = async move { body.await.into_result() };
    let result = breaker
        .call_async_untimed(body, |e| {
            verdict = if ignore(e) {
                Verdict::Ignored
            } else if exclude(e) {
                Verdict::Success
            } else {
                Verdict::Failure
            };
            match verdict {
                Verdict::Success => Outcome::Success,
                Verdict::Failure => Outcome::Failure,
                Verdict::Ignored => Outcome::Ignored,
            }
        })
        .await;
    match result {
        Ok(value) => Ok((Ok(value), Verdict::Success)),
        Err(CircuitError::Inner(e)) => Ok((Err(e), verdict)),
        Err(rejected) => Err(rejected),
    }
}

/// [`run_async`](super::run_async) with `ignore`.
#[inline]
pub async fn run_async_ignoring<R>(
    breaker: &CircuitBreaker,
    body: impl Future<Output = R>,
    exclude: impl FnOnce(&R::Error) -> bool,
    ignore: impl FnOnce(&R::Error) -> bool,
) -> R
where
    R: CircuitResult,
    R::Error: FromOpen,
{
    match call_async(breaker, body, exclude, ignore).await {
        Ok((result, _)) => R::from_result(result),
        Err(CircuitError::Open(open)) => R::from_result(Err(R::Error::from_open(open))),
        Err(CircuitError::Inner(e)) => R::from_result(Err(e)),
        // A sync call never times out, nor does `Admitted`, which has no timer.
        Err(CircuitError::Timeout(_)) => unreachable!("an untimed call timed out"),
    }
}

/// [`run_async_or_fallback`](super::run_async_or_fallback) with `ignore`: the fallback runs
/// for a rejection or a counted failure, never for an ignored or excluded error.
#[inline]
pub async fn run_async_ignoring_or_fallback<R, A, F, M>(
    breaker: &CircuitBreaker,
    args: A,
    body: impl Future<Output = R>,
    exclude: impl FnOnce(&R::Error) -> bool,
    ignore: impl FnOnce(&R::Error) -> bool,
    fallback: F,
) -> R
where
    R: CircuitResult,
    F: Apply<A>,
    F::Output: IntoFallback<R, M>,
{
    match call_async(breaker, body, exclude, ignore).await {
        Ok((result, Verdict::Success | Verdict::Ignored)) => R::from_result(result),
        Ok((_, Verdict::Failure)) | Err(_) => {
            breaker.record_fallback();
            fallback.apply(args).into_fallback().await
        }
    }
}
