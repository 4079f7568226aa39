//! What the expansion of a function with `key = ...` calls: the set of per-key breakers,
//! resolved once per function; the key read as a `&str`; and the run functions, which take
//! the breaker of the call's key, or the set's refusal of an empty key.
//!
//! The key is turned into its breaker (an owned `Arc`) in the run function's first argument,
//! so before the arguments are cloned for a fallback and before the body takes them: a key
//! that borrows an argument the body moves is done with it by then.
//!
//! A refused key never runs the call and no breaker counts it (a breaker shared by every
//! request with an empty key would let one bad caller open it for all). It reaches the caller
//! as a rejection does: through the fallback, told [`FallbackReason::KeyRefused`]; or, without
//! one, as `Err(E::from(key_error))`, in [`CircuitError::Inner`](crate::CircuitError::Inner)
//! for a function returning `CircuitError<E>` (which has no variant for it: adding one would
//! break every `match` on the error of every breaker call). So a function without a fallback
//! needs `E: From<KeyError>`, asked by method resolution first, as `finish.rs` asks for
//! `From<CircuitOpen>`, so that a missing impl is refused with a message of ours rather than
//! an unmet bound of some blanket `From` impl.

use crate::macro_support::timed::{run_async_timed, run_async_timed_or_fallback};
use crate::macro_support::{
    run, run_async, run_async_or_fallback, run_or_fallback, Apply, CircuitResult, Finish,
    IntoFallback, Reject, RejectTimeout, SameAs, TimeoutNeedsTokio,
};
use crate::registry::declarations::Declaration;
use crate::{registry, CircuitBreaker, FallbackReason, KeyError, KeyedBreakers, Outcome};
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

/// The set of per-key breakers of one annotated function, from the process-wide registry,
/// which made it at start-up from the chosen declaration of its name.
#[cold]
pub fn resolve_keyed(declaration: &Declaration) -> Arc<KeyedBreakers> {
    let limits = declaration.keyed.unwrap_or_default();
    registry().keyed(declaration.name, declaration.config(), limits)
}

/// The breaker of `key` in `set`: the lookup each call pays.
#[inline]
pub fn breaker_for(set: &KeyedBreakers, key: &str) -> Result<Arc<CircuitBreaker>, KeyError> {
    set.get(key)
}

/// The value of a `key = ...` expression, borrowed, to be read as a `&str`.
pub struct KeyProbe<'k, K: ?Sized>(pub &'k K);

/// Found first by method resolution, when the key's type implements `AsRef<str>`.
pub trait KeyViaAsRef<'k> {
    /// The key as text.
    fn key_text(&self) -> &'k str;
}

impl<'k, K: AsRef<str> + ?Sized> KeyViaAsRef<'k> for KeyProbe<'k, K> {
    #[inline(always)]
    fn key_text(&self) -> &'k str {
        self.0.as_ref()
    }
}

/// Found when [`KeyViaAsRef`] is not: the key's type cannot be read as a `&str`, which
/// [`IsKey`] then refuses with a message about the key.
pub trait KeyNotAsRef<'k> {
    /// The key's type.
    type Key: ?Sized;
    /// Never returns: a function whose key is of this type does not compile.
    fn key_text(&self) -> &'k str
    where
        Self::Key: IsKey;
}

impl<'k, K: ?Sized> KeyNotAsRef<'k> for &KeyProbe<'k, K> {
    type Key = K;
    fn key_text(&self) -> &'k str
    where
        K: IsKey,
    {
        unreachable!("a key that cannot be read as a `&str` does not compile")
    }
}

/// What a key's type lacks when it cannot be read as a `&str`: implemented by no type, it
/// exists for its message.
#[diagnostic::on_unimplemented(
    message = "a `#[circuit_breaker]` key must give a `&str`, and `{Self}` does not",
    label = "`key` takes an expression whose value implements `AsRef<str>`: a `&str`, a `String`, a `&String`, a `Cow<str>`...",
    note = "write the key as text, for example `key = id.to_string()` for a number, or `key = &user.region` for a `String` field"
)]
pub trait IsKey {}

/// What the expansion asks about the body's type `R` of a function without a fallback: can
/// its error type hold a refused key?
pub struct RefusalProbe<R>(PhantomData<fn() -> R>);

impl<R> RefusalProbe<R> {
    /// The probe, borrowed by the expansion so that [`RefuseViaFrom`] is found first.
    pub const NEW: Self = RefusalProbe(PhantomData);
}

/// Found first by method resolution, when the error type has `From<KeyError>`.
pub trait RefuseViaFrom {
    /// [`IntoError`].
    type Refusal;
    /// The refusal.
    fn refusal(&self) -> Self::Refusal;
}

impl<T, E: From<KeyError>> RefuseViaFrom for RefusalProbe<Result<T, E>> {
    type Refusal = IntoError;
    #[inline(always)]
    fn refusal(&self) -> IntoError {
        IntoError
    }
}

/// Found when [`RefuseViaFrom`] is not: the error type has no `From<KeyError>`.
pub trait RefuseNotViaFrom {
    /// [`CannotHold`].
    type Refusal;
    /// The refusal.
    fn refusal(&self) -> Self::Refusal;
}

impl<R> RefuseNotViaFrom for &RefusalProbe<R> {
    type Refusal = CannotHold;
    #[inline(always)]
    fn refusal(&self) -> CannotHold {
        CannotHold
    }
}

/// Makes a refused key into the body's error type `E`.
pub trait RefuseKey<E> {
    /// The error the function returns (as `Err`, or in `CircuitError::Inner`).
    fn refuse(self, error: KeyError) -> E;
}

/// `E::from(key_error)`.
pub struct IntoError;

impl<E: From<KeyError>> RefuseKey<E> for IntoError {
    #[inline]
    fn refuse(self, error: KeyError) -> E {
        E::from(error)
    }
}

/// An error type without `From<KeyError>`: refused (see the module).
pub struct CannotHold;

impl<E: HoldsKeyRefusal> RefuseKey<E> for CannotHold {
    fn refuse(self, _: KeyError) -> E {
        unreachable!("a function whose error type cannot hold a refused key does not compile")
    }
}

/// What the error type of a keyed function without a fallback lacks when it has no
/// `From<KeyError>`: implemented by no type, it exists for its message.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold the refusal of an empty key of a `#[circuit_breaker(key = ...)]` call",
    label = "`{Self}` does not implement `From<circuit_core::KeyError>`",
    note = "a call whose key is empty runs through no breaker and returns `Err(E::from(key_error))` (inside `CircuitError::Inner` for a function returning `CircuitError<E>`), so the error type needs `impl From<circuit_core::KeyError>`",
    note = "or give the attribute a `fallback`, which answers a refused key instead (told `FallbackReason::KeyRefused`)"
)]
pub trait HoldsKeyRefusal {}

/// [`run`] through the breaker of the call's key.
#[inline]
pub fn keyed_run<R, K, Q>(
    breaker: Result<Arc<CircuitBreaker>, KeyError>,
    body: impl FnOnce() -> R,
    classify: impl FnOnce(&R::Error) -> Outcome,
    finish: K,
    refuse: Q,
) -> K::Output
where
    R: CircuitResult,
    K: Reject<R::Value, R::Error>,
    Q: RefuseKey<R::Error>,
{
    match breaker {
        Ok(breaker) => run(&breaker, body, classify, finish),
        Err(error) => finish.done(Err(refuse.refuse(error))),
    }
}

/// [`run_or_fallback`] through the breaker of the call's key; the fallback answers a refused
/// key.
#[inline]
pub fn keyed_run_or_fallback<R, K, A, F, M>(
    breaker: Result<Arc<CircuitBreaker>, KeyError>,
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
    match breaker {
        Ok(breaker) => run_or_fallback(&breaker, args, body, classify, finish, fallback),
        Err(error) => fallback
            .apply(args, FallbackReason::KeyRefused(error))
            .same(),
    }
}

/// [`run_async`] through the breaker of the call's key.
#[inline]
pub async fn keyed_run_async<R, K, Q>(
    breaker: Result<Arc<CircuitBreaker>, KeyError>,
    body: impl Future<Output = R>,
    classify: impl FnOnce(&R::Error) -> Outcome,
    finish: K,
    refuse: Q,
) -> K::Output
where
    R: CircuitResult,
    K: Reject<R::Value, R::Error>,
    Q: RefuseKey<R::Error>,
{
    match breaker {
        Ok(breaker) => run_async(&breaker, body, classify, finish).await,
        Err(error) => finish.done(Err(refuse.refuse(error))),
    }
}

/// [`run_async_or_fallback`] through the breaker of the call's key; the fallback answers a
/// refused key.
#[inline]
pub async fn keyed_run_async_or_fallback<R, K, A, F, M, N>(
    breaker: Result<Arc<CircuitBreaker>, KeyError>,
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
    match breaker {
        Ok(breaker) => {
            run_async_or_fallback(&breaker, args, body, classify, finish, fallback).await
        }
        Err(error) => {
            fallback
                .apply(args, FallbackReason::KeyRefused(error))
                .into_fallback()
                .await
        }
    }
}

/// [`run_async_timed`] through the breaker of the call's key.
#[inline]
pub async fn keyed_run_async_timed<R, K, Q>(
    breaker: Result<Arc<CircuitBreaker>, KeyError>,
    body: impl Future<Output = R>,
    classify: impl FnOnce(&R::Error) -> Outcome,
    finish: K,
    refuse: Q,
) -> K::Output
where
    R: CircuitResult + TimeoutNeedsTokio,
    K: RejectTimeout<R::Value, R::Error>,
    Q: RefuseKey<R::Error>,
{
    match breaker {
        Ok(breaker) => run_async_timed(&breaker, body, classify, finish).await,
        Err(error) => finish.done(Err(refuse.refuse(error))),
    }
}

/// [`run_async_timed_or_fallback`] through the breaker of the call's key; the fallback
/// answers a refused key.
#[inline]
pub async fn keyed_run_async_timed_or_fallback<R, K, A, F, M, N>(
    breaker: Result<Arc<CircuitBreaker>, KeyError>,
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
    match breaker {
        Ok(breaker) => {
            run_async_timed_or_fallback(&breaker, args, body, classify, finish, fallback).await
        }
        Err(error) => {
            fallback
                .apply(args, FallbackReason::KeyRefused(error))
                .into_fallback()
                .await
        }
    }
}
