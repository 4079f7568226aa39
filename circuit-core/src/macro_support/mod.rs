//! What the `#[circuit_breaker]` expansion calls. Not public API (reached through the hidden
//! `__private` module), but every user of the attribute runs it, so it is kept small, typed and
//! free of locks and allocations on the call path.
//!
//! Type checks live here as trait bounds with `diagnostic::on_unimplemented`, so a user who
//! gets the function's shape wrong reads one sentence about the attribute, spanned on their
//! own code, instead of a mismatch inside generated code.

use crate::breaker::error::{CircuitError, CircuitOpen};
use crate::{registry, CircuitBreaker};
use std::future::{Future, Ready};
use std::sync::Arc;

use crate::registry::declarations::Declaration;

mod ignoring;
mod timed;
pub use ignoring::{
    run_async_ignoring, run_async_ignoring_or_fallback, run_ignoring, run_ignoring_or_fallback,
};
pub use timed::{
    run_async_timed, run_async_timed_ignoring, run_async_timed_ignoring_or_fallback,
    run_async_timed_or_fallback, FromTimedOut, TimeoutNeedsTokio,
};
// The values of the trip-policy keys, as the declarations write them.
pub use crate::config::{Growth, SlidingWindow};

/// The breaker of one annotated function, from the process-wide registry: created from the
/// declaration if the registry has not already created it at start-up.
#[cold]
pub fn resolve(declaration: &Declaration) -> Arc<CircuitBreaker> {
    registry().get_or_create(declaration.name, declaration.config())
}

/// The return type of an annotated function: a `Result` whose error can hold a rejection.
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
    /// Back from a `Result`.
    fn from_result(result: Result<Self::Value, Self::Error>) -> Self;
}

impl<T, E> CircuitResult for Result<T, E> {
    type Value = T;
    type Error = E;
    #[inline(always)]
    fn into_result(self) -> Self {
        self
    }
    #[inline(always)]
    fn from_result(result: Self) -> Self {
        result
    }
}

/// An error type that can stand for a rejected call.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold the rejection of a `#[circuit_breaker]` call",
    label = "implement `From<circuit_core::CircuitOpen>` for `{Self}`"
)]
pub trait FromOpen {
    /// `E::from(open)`.
    fn from_open(open: CircuitOpen) -> Self;
}

impl<E: From<CircuitOpen>> FromOpen for E {
    #[inline]
    fn from_open(open: CircuitOpen) -> Self {
        E::from(open)
    }
}

/// The `exclude` of an attribute without one: every error counts.
#[inline(always)]
pub fn no_exclusion<E>(_: &E) -> bool {
    false
}

/// A fallback applied to the clones of the function's arguments, as one tuple: the expansion
/// binds no names of its own, so no user item can collide with them.
#[diagnostic::on_unimplemented(
    message = "this fallback cannot be called with the function's arguments `{Args}`",
    label = "the fallback must take the same arguments as the function, in the same order"
)]
pub trait Apply<Args> {
    /// What the fallback returns.
    type Output;
    /// Calls the fallback with the arguments spread out.
    fn apply(self, args: Args) -> Self::Output;
}

macro_rules! apply_tuples {
    ($(($($arg:ident),*))*) => {$(
        impl<Func, Out, $($arg),*> Apply<($($arg,)*)> for Func
        where
            Func: FnOnce($($arg),*) -> Out,
        {
            type Output = Out;
            #[inline(always)]
            #[allow(non_snake_case)]
            fn apply(self, ($($arg,)*): ($($arg,)*)) -> Out {
                self($($arg),*)
            }
        }
    )*};
}

apply_tuples! {
    ()
    (A1)
    (A1, A2)
    (A1, A2, A3)
    (A1, A2, A3, A4)
    (A1, A2, A3, A4, A5)
    (A1, A2, A3, A4, A5, A6)
    (A1, A2, A3, A4, A5, A6, A7)
    (A1, A2, A3, A4, A5, A6, A7, A8)
    (A1, A2, A3, A4, A5, A6, A7, A8, A9)
    (A1, A2, A3, A4, A5, A6, A7, A8, A9, A10)
    (A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11)
    (A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12)
}

/// What the fallback of a sync function returns: the function's own return type. A bound of
/// its own, rather than `Output = R`, so that the function's body decides `R` and a wrong
/// fallback is the one reported.
#[diagnostic::on_unimplemented(
    message = "this fallback returns `{Self}`, not `{R}` as its function does",
    label = "the fallback must return the function's return type"
)]
pub trait SameAs<R> {
    /// Itself.
    fn same(self) -> R;
}

impl<R> SameAs<R> for R {
    #[inline(always)]
    fn same(self) -> R {
        self
    }
}

/// Never called: its type, returned from a branch that never runs, tells inference the body's
/// type as if it were still the function's body (tracing-attributes' "fake return edge").
#[doc(hidden)]
pub fn fake_return<R>() -> R {
    unreachable!("the fake return edge never runs")
}

/// Runs the body of a sync function without a fallback.
#[inline]
pub fn run<R>(
    breaker: &CircuitBreaker,
    body: impl FnOnce() -> R,
    exclude: impl FnOnce(&R::Error) -> bool,
) -> R
where
    R: CircuitResult,
    R::Error: FromOpen,
{
    match breaker.call_with(|| body().into_result(), |e| !exclude(e)) {
        Ok(value) => R::from_result(Ok(value)),
        Err(error) => R::from_result(Err(flatten(error))),
    }
}

/// Runs the body of a sync function with a fallback, which gets `args`, the clones of the
/// arguments taken before the body took the originals.
#[inline]
pub fn run_or_fallback<R, A, F>(
    breaker: &CircuitBreaker,
    args: A,
    body: impl FnOnce() -> R,
    exclude: impl FnOnce(&R::Error) -> bool,
    fallback: F,
) -> R
where
    R: CircuitResult,
    F: Apply<A>,
    F::Output: SameAs<R>,
{
    let mut counted = false;
    let result = breaker.call_with(
        || body().into_result(),
        |e| {
            counted = !exclude(e);
            counted
        },
    );
    match result {
        Ok(value) => R::from_result(Ok(value)),
        // An excluded error: the service answered; no fallback.
        Err(CircuitError::Inner(error)) if !counted => R::from_result(Err(error)),
        // Rejected, or a counted failure.
        Err(_) => {
            breaker.record_fallback();
            fallback.apply(args).same()
        }
    }
}

/// Runs the body of an async function without a fallback.
#[inline]
pub async fn run_async<R>(
    breaker: &CircuitBreaker,
    body: impl Future<Output = R>,
    exclude: impl FnOnce(&R::Error) -> bool,
) -> R
where
    R: CircuitResult,
    R::Error: FromOpen,
{
    let body = async move { body.await.into_result() };
    // Untimed: without the `timeout` key, `R::Error` need not hold a `CallTimedOut`.
    match breaker.call_async_untimed(body, |e| !exclude(e)).await {
        Ok(value) => R::from_result(Ok(value)),
        Err(error) => R::from_result(Err(flatten(error))),
    }
}

/// Runs the body of an async function with a fallback, sync or async.
#[inline]
pub async fn run_async_or_fallback<R, A, F, M>(
    breaker: &CircuitBreaker,
    args: A,
    body: impl Future<Output = R>,
    exclude: impl FnOnce(&R::Error) -> bool,
    fallback: F,
) -> R
where
    R: CircuitResult,
    F: Apply<A>,
    F::Output: IntoFallback<R, M>,
{
    let mut counted = false;
    let body = async move { body.await.into_result() };
    let result = breaker
        .call_async_untimed(body, |e| {
            counted = !exclude(e);
            counted
        })
        .await;
    match result {
        Ok(value) => R::from_result(Ok(value)),
        // An excluded error: the service answered; no fallback.
        Err(CircuitError::Inner(error)) if !counted => R::from_result(Err(error)),
        // Rejected, or a counted failure.
        Err(_) => {
            breaker.record_fallback();
            fallback.apply(args).into_fallback().await
        }
    }
}

fn flatten<E: FromOpen>(error: CircuitError<E>) -> E {
    match error {
        CircuitError::Inner(e) => e,
        CircuitError::Open(open) => E::from_open(open),
        // Only `call_async_with` times out, and only the `timed` variants call it.
        CircuitError::Timeout(_) => unreachable!("an untimed call timed out"),
    }
}

/// Marks a fallback that returns the function's `Result` directly.
#[derive(Debug)]
pub enum Direct {}

/// Marks a fallback that returns a future of the function's `Result`.
#[derive(Debug)]
pub enum Deferred {}

/// What the fallback of an async function may return: the function's `Result`, or a future of
/// it (an `async fn` fallback). `M` tells the two apart without overlapping impls.
#[diagnostic::on_unimplemented(
    message = "this fallback returns `{Self}`, not the `Result` its function returns",
    label = "the fallback must return the function's return type (or, for an async function, a future of it)"
)]
pub trait IntoFallback<R, M> {
    /// The future the caller awaits.
    type Future: Future<Output = R>;
    /// Wraps or passes through the fallback's value.
    fn into_fallback(self) -> Self::Future;
}

impl<T, E> IntoFallback<Result<T, E>, Direct> for Result<T, E> {
    type Future = Ready<Result<T, E>>;
    #[inline]
    fn into_fallback(self) -> Self::Future {
        std::future::ready(self)
    }
}

impl<F: Future> IntoFallback<F::Output, Deferred> for F {
    type Future = F;
    #[inline]
    fn into_fallback(self) -> F {
        self
    }
}
