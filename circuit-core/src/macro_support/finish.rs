//! How an annotated function's result is made from its body's, and what a rejection becomes:
//!
//! - [`Flat`]: the function returns `Result<T, E>` as its body does; a rejection is
//!   `Err(E::from(open))`, so `E: From<CircuitOpen>` (needed only where a rejection can reach
//!   the caller: without a fallback).
//! - [`Kept`]: the function returns `Result<T, CircuitError<E>>` and its body `Result<T, E>`;
//!   a rejection is `Err(CircuitError::Open(open))`, a failure `Err(CircuitError::Inner(e))`.
//!   For error types the user cannot give `From<CircuitOpen>` (`sqlx::Error`). The attribute
//!   chooses it from the written return type.
//! - [`Foreign`]: a `Flat` function whose `E` has no `From<CircuitOpen>`. It exists only to be
//!   refused with a message that says what to do.
//!
//! Why not a bound `E: From<CircuitOpen>` on the run functions: for an error type with a
//! blanket `From` (sqlx's `impl<E: DatabaseError> From<E> for Error`), rustc reports the
//! blanket impl's unmet bound (`CircuitOpen: DatabaseError`), three times, instead of the
//! bound's own `on_unimplemented` message. So the expansion asks first, by method resolution,
//! whether `E: From<CircuitOpen>` holds (a method of [`ViaFrom`] on `&Probe<R>` is found before
//! the one of [`NotViaFrom`] on `&&Probe<R>`, and only if its impl's bound holds), and is given
//! `Flat` or `Foreign`; `Foreign` is then refused through [`HoldsRejection`], whose message is
//! about the user's type.

use crate::breaker::error::{CallTimedOut, CircuitError, CircuitOpen};
use std::marker::PhantomData;

/// Makes the function's result from the body's.
pub trait Finish<T, E> {
    /// The function's return type.
    type Output;
    /// The body's result, which ran (a success, or an error that did not call for the
    /// fallback), as the function returns it.
    fn done(self, result: Result<T, E>) -> Self::Output;
}

/// Makes a rejection into the function's result, for functions without a fallback.
pub trait Reject<T, E>: Finish<T, E> {
    /// The rejection as the function returns it.
    fn rejected(self, open: CircuitOpen) -> Self::Output;
}

/// The function returns its body's `Result<T, E>`. `R` is that type, as the expansion writes
/// it (with `_` for an `impl Trait`), so that inference ties it to the body's.
pub struct Flat<R>(PhantomData<fn() -> R>);

impl<R> Flat<R> {
    /// The strategy, for functions with a fallback (which never convert a rejection).
    pub const NEW: Self = Flat(PhantomData);
}

impl<T, E> Finish<T, E> for Flat<Result<T, E>> {
    type Output = Result<T, E>;
    #[inline(always)]
    fn done(self, result: Result<T, E>) -> Result<T, E> {
        result
    }
}

impl<T, E: From<CircuitOpen>> Reject<T, E> for Flat<Result<T, E>> {
    #[inline]
    fn rejected(self, open: CircuitOpen) -> Result<T, E> {
        Err(E::from(open))
    }
}

/// Makes a timeout into the function's result, for functions with the `timeout` key and
/// without a fallback.
pub trait RejectTimeout<T, E>: Reject<T, E> {
    /// The timeout as the function returns it.
    fn timed_out(self, timed_out: CallTimedOut) -> Self::Output;
}

/// An error type that can stand for a call cut short by its timeout: what a function with the
/// `timeout` key and without a fallback needs of its error type (only such functions).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold the timeout of a `#[circuit_breaker]` call with the `timeout` key",
    label = "implement `From<circuit_core::CallTimedOut>` for `{Self}`",
    note = "or return `Result<T, circuit_core::CircuitError<{Self}>>` (a timed-out call returns `CircuitError::Timeout`), or give the attribute a `fallback`"
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

impl<T, E: From<CircuitOpen> + FromTimedOut> RejectTimeout<T, E> for Flat<Result<T, E>> {
    #[inline]
    fn timed_out(self, timed_out: CallTimedOut) -> Result<T, E> {
        Err(E::from_timed_out(timed_out))
    }
}

/// The function returns `Result<T, CircuitError<E>>`, its body `Result<T, E>`.
pub struct Kept;

impl<T, E> Finish<T, E> for Kept {
    type Output = Result<T, CircuitError<E>>;
    #[inline(always)]
    fn done(self, result: Result<T, E>) -> Self::Output {
        result.map_err(CircuitError::Inner)
    }
}

impl<T, E> Reject<T, E> for Kept {
    #[inline]
    fn rejected(self, open: CircuitOpen) -> Self::Output {
        Err(CircuitError::Open(open))
    }
}

impl<T, E> RejectTimeout<T, E> for Kept {
    #[inline]
    fn timed_out(self, timed_out: CallTimedOut) -> Self::Output {
        Err(CircuitError::Timeout(timed_out))
    }
}

/// A `Flat` function whose error type cannot hold a rejection: refused (see the module).
pub struct Foreign<R>(PhantomData<fn() -> R>);

// For any `R`, and returning `R`: a return type that is not a `Result` is then refused by
// `CircuitResult` alone, and a `Result` whose error cannot hold a rejection by
// `HoldsRejection` alone. Never run: a function given `Foreign` does not compile.
impl<R, T, E> Finish<T, E> for Foreign<R> {
    type Output = R;
    fn done(self, _: Result<T, E>) -> R {
        unreachable!("a function whose error type cannot hold a rejection does not compile")
    }
}

impl<R, T, E: HoldsRejection> Reject<T, E> for Foreign<R> {
    fn rejected(self, _: CircuitOpen) -> R {
        unreachable!("a function whose error type cannot hold a rejection does not compile")
    }
}

impl<R, T, E: HoldsRejection> RejectTimeout<T, E> for Foreign<R> {
    fn timed_out(self, _: CallTimedOut) -> R {
        unreachable!("a function whose error type cannot hold a rejection does not compile")
    }
}

/// What the error type of a function without a fallback lacks when it has no
/// `From<CircuitOpen>`: implemented by no type, it exists for its message.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold the rejection of a `#[circuit_breaker]` call",
    label = "`{Self}` does not implement `From<circuit_core::CircuitOpen>`",
    note = "a call the breaker rejects returns `Err(E::from(circuit_open))`, so the error type needs `impl From<circuit_core::CircuitOpen>`",
    note = "for an error type of another crate, wrap it in an error type of your own: `enum AppError {{ Unavailable(circuit_core::CircuitOpen), Failed({Self}) }}` with `impl From<circuit_core::CircuitOpen> for AppError {{ fn from(open: circuit_core::CircuitOpen) -> Self {{ AppError::Unavailable(open) }} }}`",
    note = "or return `Result<T, circuit_core::CircuitError<{Self}>>`: the body's errors stay `{Self}`, and a rejected call returns `CircuitError::Open`",
    note = "or give the attribute a `fallback`, which answers rejected calls instead"
)]
pub trait HoldsRejection {}

/// What the expansion asks about the function's return type `R` (see the module).
pub struct Probe<R>(PhantomData<fn() -> R>);

impl<R> Probe<R> {
    /// The probe, borrowed by the expansion so that [`ViaFrom`] is found first.
    pub const NEW: Self = Probe(PhantomData);
}

/// Found first by method resolution, when the error type has `From<CircuitOpen>`.
pub trait ViaFrom {
    /// The strategy.
    type Strategy;
    /// [`Flat`].
    fn finish(&self) -> Self::Strategy;
}

impl<T, E: From<CircuitOpen>> ViaFrom for Probe<Result<T, E>> {
    type Strategy = Flat<Result<T, E>>;
    #[inline(always)]
    fn finish(&self) -> Self::Strategy {
        Flat(PhantomData)
    }
}

/// Found when [`ViaFrom`] is not: the error type has no `From<CircuitOpen>` (or the return
/// type is not a `Result`, which the run functions refuse on their own).
pub trait NotViaFrom {
    /// The strategy.
    type Strategy;
    /// [`Foreign`].
    fn finish(&self) -> Self::Strategy;
}

impl<R> NotViaFrom for &Probe<R> {
    type Strategy = Foreign<R>;
    #[inline(always)]
    fn finish(&self) -> Self::Strategy {
        Foreign(PhantomData)
    }
}
