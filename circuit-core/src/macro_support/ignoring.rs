//! What the expansion of an attribute with `ignore = pred` calls: errors `pred` matches are
//! reported with [`Permit::ignore`] (counted as ignored, moving no state), errors `exclude`
//! matches as successes, other errors as failures. `ignore` is asked first.
//!
//! These report through a [`Permit`] of their own rather than through `call_with`, whose
//! classifier answers only "failure or not"; an attribute without `ignore` keeps the
//! `call_with` path (`run`, `run_async`, ...).

use crate::breaker::error::CircuitError;
use crate::breaker::permit::{OnDrop, Permit};
use crate::macro_support::{Apply, CircuitResult, FromOpen, IntoFallback, SameAs};
use crate::CircuitBreaker;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

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

/// Awaits `body` under `breaker`'s permit, asked for when first polled: `Err` if the
/// breaker rejected it.
async fn call_async<R: CircuitResult>(
    breaker: &CircuitBreaker,
    body: impl Future<Output = R>,
    exclude: impl FnOnce(&R::Error) -> bool,
    ignore: impl FnOnce(&R::Error) -> bool,
) -> Reported<R> {
    let permit = breaker.try_acquire()?;
    let (permit, result) = Admitted {
        fut: body,
        permit: Some(permit),
    }
    .await;
    let result = result.into_result();
    let verdict = report(permit, &result, exclude, ignore);
    Ok((result, verdict))
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

/// `fut` polled under `permit`, which it hands back with the output. While `fut` is polled
/// the permit is on the poll's stack, set to report a failure should the poll panic; between
/// polls it is parked here, set to cancel, so that a future dropped unfinished counts as
/// nothing and gives its half-open slot back (as `call_async`).
struct Admitted<'a, F> {
    /// Pinned structurally: reached only through `Pin::new_unchecked` in `poll`, never moved
    /// out, dropped in place.
    fut: F,
    /// `None` once the output is handed back, or after a poll that panicked.
    permit: Option<Permit<'a>>,
}

impl<'a, F: Future> Future for Admitted<'a, F> {
    type Output = (Permit<'a>, F::Output);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `fut` is reached only through the `Pin` built below and never moved out
        // (`Admitted` has no `Drop` that could); `permit` is not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let mut permit = this
            .permit
            .take()
            .expect("an attribute's call polled after it finished or panicked");
        permit.on_drop = OnDrop::Failure;
        // SAFETY: see above.
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        match fut.poll(cx) {
            Poll::Pending => {
                permit.on_drop = OnDrop::Cancel;
                this.permit = Some(permit);
                Poll::Pending
            }
            Poll::Ready(output) => Poll::Ready((permit, output)),
        }
    }
}
