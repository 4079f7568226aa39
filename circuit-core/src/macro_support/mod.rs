//! What the `#[circuit_breaker]` expansion calls. Not public API (reached through the hidden
//! `__private` module), but every user of the attribute runs it, so it is kept small, typed and
//! free of locks and allocations on the call path.
//!
//! Type checks live here as trait bounds with `diagnostic::on_unimplemented`, so a user who
//! gets the function's shape wrong reads one sentence about the attribute, spanned on their
//! own code, instead of a mismatch inside generated code.

use crate::breaker::error::CircuitError;
use crate::{registry, CircuitBreaker, Outcome};
use std::future::Future;
use std::sync::Arc;

use crate::registry::declarations::Declaration;

mod classify;
mod fallback;
mod finish;
mod keyed;
mod timed;
pub use classify::{classifying, every_error_fails, excluding, ignoring, no_exclusion};
pub use fallback::{Apply, Deferred, Direct, IntoFallback, Plain, SameAs, Told};
pub use finish::{
    Finish, Flat, Foreign, FromTimedOut, HoldsRejection, Kept, NotViaFrom, Probe, Reject,
    RejectTimeout, ViaFrom,
};
pub use keyed::{
    breaker_for, keyed_run, keyed_run_async, keyed_run_async_or_fallback, keyed_run_async_timed,
    keyed_run_async_timed_or_fallback, keyed_run_or_fallback, resolve_keyed, CannotHold,
    HoldsKeyRefusal, IntoError, IsKey, KeyNotAsRef, KeyProbe, KeyViaAsRef, RefusalProbe, RefuseKey,
    RefuseNotViaFrom, RefuseViaFrom,
};
pub use timed::{run_async_timed, run_async_timed_or_fallback, TimeoutNeedsTokio};
// The values of the trip-policy keys, as the declarations write them.
pub use crate::config::{Growth, SlidingWindow};
// The bounds of a keyed set, as the declarations write them.
pub use crate::KeyedLimits;

/// The breaker of one annotated function, from the process-wide registry: created from the
/// declaration if the registry has not already created it at start-up.
#[cold]
pub fn resolve(declaration: &Declaration) -> Arc<CircuitBreaker> {
    registry().get_or_create(declaration.name, declaration.config())
}

/// The return type of an annotated function's body: a `Result`.
#[diagnostic::on_unimplemented(
    message = "a `#[circuit_breaker]` function must return `Result<T, E>`, not `{Self}`",
    label = "write `Result<{Self}, E>` here, with an error type `E` that implements `From<circuit_core::CircuitOpen>`"
)]
pub trait CircuitResult: Sized {
    /// `T` of `Result<T, E>`.
    type Value;
    /// `E` of `Result<T, E>`.
    type Error;
    /// Itself, as a `Result`.
    fn into_result(self) -> Result<Self::Value, Self::Error>;
}

impl<T, E> CircuitResult for Result<T, E> {
    type Value = T;
    type Error = E;
    #[inline(always)]
    fn into_result(self) -> Self {
        self
    }
}

/// Never called: its type, returned from a branch that never runs, tells inference the body's
/// type as if it were still the function's body (tracing-attributes' "fake return edge").
#[doc(hidden)]
pub fn fake_return<R>() -> R {
    unreachable!("the fake return edge never runs")
}

// The run functions below take the body (`R`, a `Result`), the classifier of its errors (one
// `Outcome` per error: the attribute's `exclude`, `ignore` and `classify` keys all come down to
// one), and `finish`, which makes the function's result (see `finish.rs`).

/// Runs the body of a sync function without a fallback.
#[inline]
pub fn run<R, K>(
    breaker: &CircuitBreaker,
    body: impl FnOnce() -> R,
    classify: impl FnOnce(&R::Error) -> Outcome,
    finish: K,
) -> K::Output
where
    R: CircuitResult,
    K: Reject<R::Value, R::Error>,
{
    match breaker.call_with(|| body().into_result(), classify) {
        Ok(value) => finish.done(Ok(value)),
        Err(CircuitError::Inner(error)) => finish.done(Err(error)),
        Err(CircuitError::Open(open)) => finish.rejected(open),
        Err(CircuitError::Timeout(_)) => unreachable!("a sync call never times out"),
    }
}

/// Runs the body of a sync function with a fallback, which gets `args`, the clones of the
/// arguments taken before the body took the originals, and, if it takes one, the reason.
#[inline]
pub fn run_or_fallback<R, K, A, F, M>(
    breaker: &CircuitBreaker,
    args: A,
    body: impl FnOnce() -> R,
    classify: impl FnOnce(&R::Error) -> Outcome,
    finish: K,
    fallback: F,
) -> K::Output
where
    R: CircuitResult,
    K: Finish<R::Value, R::Error>,
    F: Apply<A, R::Error, M>,
    F::Output: SameAs<K::Output>,
{
    let mut failed = false;
    let result = breaker.call_with(
        || body().into_result(),
        |e| {
            let outcome = classify(e);
            failed = outcome.is_failure();
            outcome
        },
    );
    match result {
        Ok(value) => finish.done(Ok(value)),
        // An excluded or ignored error: the service answered, or nothing is known; no
        // fallback.
        Err(CircuitError::Inner(error)) if !failed => finish.done(Err(error)),
        // Rejected, or a counted failure.
        Err(why) => {
            breaker.record_fallback();
            fallback.apply(args, why.into()).same()
        }
    }
}

/// Runs the body of an async function without a fallback.
#[inline]
pub async fn run_async<R, K>(
    breaker: &CircuitBreaker,
    body: impl Future<Output = R>,
    classify: impl FnOnce(&R::Error) -> Outcome,
    finish: K,
) -> K::Output
where
    R: CircuitResult,
    K: Reject<R::Value, R::Error>,
{
    let body = async move { body.await.into_result() };
    // Untimed: without the `timeout` key the error type need not hold a `CallTimedOut`, and a
    // `timeout` from the environment or a file does not reach this function.
    match breaker.call_async_untimed(body, classify).await {
        Ok(value) => finish.done(Ok(value)),
        Err(CircuitError::Inner(error)) => finish.done(Err(error)),
        Err(CircuitError::Open(open)) => finish.rejected(open),
        Err(CircuitError::Timeout(_)) => unreachable!("an untimed call timed out"),
    }
}

/// Runs the body of an async function with a fallback, sync or async.
#[inline]
pub async fn run_async_or_fallback<R, K, A, F, M, N>(
    breaker: &CircuitBreaker,
    args: A,
    body: impl Future<Output = R>,
    classify: impl FnOnce(&R::Error) -> Outcome,
    finish: K,
    fallback: F,
) -> K::Output
where
    R: CircuitResult,
    K: Finish<R::Value, R::Error>,
    F: Apply<A, R::Error, M>,
    F::Output: IntoFallback<K::Output, N>,
{
    let mut failed = false;
    let body = async move { body.await.into_result() };
    let result = breaker
        .call_async_untimed(body, |e| {
            let outcome = classify(e);
            failed = outcome.is_failure();
            outcome
        })
        .await;
    match result {
        Ok(value) => finish.done(Ok(value)),
        // An excluded or ignored error: no fallback.
        Err(CircuitError::Inner(error)) if !failed => finish.done(Err(error)),
        // Rejected, or a counted failure.
        Err(why) => {
            breaker.record_fallback();
            fallback.apply(args, why.into()).into_fallback().await
        }
    }
}
