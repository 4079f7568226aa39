//! The fallback's signature, checked by trait bounds: it takes the function's arguments (and
//! may take a [`FallbackReason`] after them) and returns the function's return type (for an
//! async function, or a future of it).

use crate::FallbackReason;
use std::future::{Future, Ready};

/// Marks a fallback that takes the function's arguments only.
#[derive(Debug)]
pub enum Plain {}

/// Marks a fallback that takes the function's arguments and then a [`FallbackReason`].
#[derive(Debug)]
pub enum Told {}

/// A fallback applied to the clones of the function's arguments, as one tuple (the expansion
/// binds no names of its own, so no user item can collide with them), and to the reason it
/// runs, if it takes one. `M` ([`Plain`] or [`Told`]) tells the two shapes apart without
/// overlapping impls; a function item has one arity, so inference finds `M`.
#[diagnostic::on_unimplemented(
    message = "this fallback cannot be called with the function's arguments `{Args}`",
    label = "the fallback must take the same arguments as the function, in the same order, and may take a `circuit_core::FallbackReason<{E}>` after them"
)]
pub trait Apply<Args, E, M> {
    /// What the fallback returns.
    type Output;
    /// Calls the fallback with the arguments spread out (and the reason, if it takes one).
    fn apply(self, args: Args, reason: FallbackReason<E>) -> Self::Output;
}

macro_rules! apply_tuples {
    ($(($($arg:ident),*))*) => {$(
        impl<Func, Out, E, $($arg),*> Apply<($($arg,)*), E, Plain> for Func
        where
            Func: FnOnce($($arg),*) -> Out,
        {
            type Output = Out;
            #[inline(always)]
            #[allow(non_snake_case)]
            fn apply(self, ($($arg,)*): ($($arg,)*), _: FallbackReason<E>) -> Out {
                self($($arg),*)
            }
        }

        impl<Func, Out, E, $($arg),*> Apply<($($arg,)*), E, Told> for Func
        where
            Func: FnOnce($($arg,)* FallbackReason<E>) -> Out,
        {
            type Output = Out;
            #[inline(always)]
            #[allow(non_snake_case)]
            fn apply(self, ($($arg,)*): ($($arg,)*), reason: FallbackReason<E>) -> Out {
                self($($arg,)* reason)
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
