//! Running a call through a breaker: sync and async, with an optional classifier of errors.

use crate::breaker::error::CircuitError;
use crate::breaker::permit::{OnDrop, Permit};
use crate::CircuitBreaker;
use std::future::{poll_fn, Future};
use std::pin::pin;

impl CircuitBreaker {
    /// Runs `f` if the breaker admits it. `Ok` counts as a success, `Err` as a failure, and a
    /// panic as a failure that keeps unwinding.
    ///
    /// # Errors
    ///
    /// [`CircuitError::Open`] if the call was rejected (it did not run), or
    /// [`CircuitError::Inner`] with the call's own error.
    #[inline]
    pub fn call<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, CircuitError<E>> {
        self.call_with(f, |_| true)
    }

    /// Like [`call`](Self::call), but an error counts as a failure only if `is_failure` says
    /// so; other errors are returned unchanged and count as successful round trips (the
    /// service answered: a constraint violation, a 404).
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    #[inline]
    pub fn call_with<T, E>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
        is_failure: impl FnOnce(&E) -> bool,
    ) -> Result<T, CircuitError<E>> {
        let mut permit = self.try_acquire()?;
        // Should `f` panic, the unwinding drops the permit, which then reports a failure.
        permit.on_drop = OnDrop::Failure;
        let result = f();
        report(permit, result, is_failure)
    }

    /// Awaits `fut` if the breaker admits it, with [`call`](Self::call)'s counting. If the
    /// returned future is dropped before it finishes, the call counts as nothing and gives
    /// back its half-open trial slot.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    // Not an `async fn`: returning the inner future itself saves a layer of state machine.
    pub fn call_async<'a, T: 'a, E: 'a>(
        &'a self,
        fut: impl Future<Output = Result<T, E>> + 'a,
    ) -> impl Future<Output = Result<T, CircuitError<E>>> + 'a {
        self.call_async_with(fut, |_: &E| true)
    }

    /// [`call_async`](Self::call_async) with [`call_with`](Self::call_with)'s classifier.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    pub async fn call_async_with<T, E>(
        &self,
        fut: impl Future<Output = Result<T, E>>,
        is_failure: impl FnOnce(&E) -> bool,
    ) -> Result<T, CircuitError<E>> {
        let mut permit = self.try_acquire()?;
        let mut fut = pin!(fut);
        let result = poll_fn(|cx| {
            // A panic while polling unwinds from here with the permit set to report a failure;
            // dropping the whole future between polls drops it set to cancel.
            permit.on_drop = OnDrop::Failure;
            let poll = fut.as_mut().poll(cx);
            permit.on_drop = OnDrop::Cancel;
            poll
        })
        .await;
        report(permit, result, is_failure)
    }
}

#[inline(always)]
fn report<T, E>(
    permit: Permit<'_>,
    result: Result<T, E>,
    is_failure: impl FnOnce(&E) -> bool,
) -> Result<T, CircuitError<E>> {
    match result {
        Ok(value) => {
            permit.success();
            Ok(value)
        }
        Err(error) => {
            if is_failure(&error) {
                permit.failure();
            } else {
                permit.success();
            }
            Err(CircuitError::Inner(error))
        }
    }
}
