//! Running a call through a breaker: sync and async, with an optional classifier of errors.

use crate::breaker::error::CircuitError;
use crate::breaker::permit::{OnDrop, Permit};
use crate::{CircuitBreaker, Outcome};
use std::future::Future;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::pin::Pin;
use std::task::{Context, Poll};

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

    /// Like [`call`](Self::call), but an error counts as `classify` says: a `bool` (`true`, **a
    /// failure**; `false`, a successful round trip: the service answered, a constraint
    /// violation, a 404; note that the attribute's `exclude` answers the opposite question) or
    /// any [`Outcome`] (excluded, ignored, or "open for" a `Retry-After`). Errors are returned
    /// unchanged whatever they count as. Should `classify` panic, the call counts
    /// as a failure and the panic goes on unwinding.
    ///
    /// ```
    /// use circuit_core::{CircuitBreaker, Config, Outcome};
    ///
    /// let breaker = CircuitBreaker::new("orders", Config::default());
    /// // A bool: only timeouts count against the service.
    /// let _ = breaker.call_with(|| Err::<(), _>("not found"), |e| *e == "timeout");
    /// // An Outcome: a request the client cancelled says nothing about the service.
    /// let _ = breaker.call_with(|| Err::<(), _>("cancelled"), |e| match *e {
    ///     "cancelled" => Outcome::Ignored,
    ///     _ => Outcome::Failure,
    /// });
    /// let s = breaker.snapshot();
    /// assert_eq!((s.successes, s.failures, s.ignored), (1, 0, 1));
    /// ```
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    #[inline]
    pub fn call_with<T, E, O: Into<Outcome>>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
        classify: impl FnOnce(&E) -> O,
    ) -> Result<T, CircuitError<E>> {
        let mut permit = self.try_acquire()?;
        // Should `f` panic, the unwinding drops the permit, which then reports a failure.
        permit.on_drop = OnDrop::Failure;
        let result = f();
        report(permit, result, classify)
    }

    /// Awaits `fut` if the breaker admits it, with [`call`](Self::call)'s counting. If the
    /// returned future is dropped before it finishes, the call counts as nothing and gives
    /// back its half-open trial slot.
    ///
    /// The breaker is asked when the future is first polled, not when `call_async` returns.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    // Not an `async fn`: see `CallAsync`.
    #[inline]
    pub fn call_async<'a, T: 'a, E: 'a>(
        &'a self,
        fut: impl Future<Output = Result<T, E>> + 'a,
    ) -> impl Future<Output = Result<T, CircuitError<E>>> + 'a {
        self.call_async_with(fut, |_: &E| true)
    }

    /// [`call_async`](Self::call_async) with [`call_with`](Self::call_with)'s classifier (a
    /// `bool` or an [`Outcome`]).
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    #[inline]
    pub fn call_async_with<'a, T: 'a, E: 'a, O: Into<Outcome>>(
        &'a self,
        fut: impl Future<Output = Result<T, E>> + 'a,
        is_failure: impl FnOnce(&E) -> O + 'a,
    ) -> impl Future<Output = Result<T, CircuitError<E>>> + 'a {
        CallAsync {
            fut,
            breaker: self,
            stage: Stage::Start,
            parked: MaybeUninit::uninit(),
            is_failure: ManuallyDrop::new(is_failure),
        }
    }
}

/// The future of [`CircuitBreaker::call_async_with`], written by hand rather than as an
/// `async fn`. An executor moves a future at least once before polling it (into its task, or
/// into `pin!`); the `async fn`'s state machine (96 bytes here, `fut` held twice, tags of one
/// byte) was moved with 16-byte loads over the caller's narrower stores, which the processor
/// cannot forward: the copy waited for the stores to reach the cache, and that wait cost more
/// than the rest of the call (BENCHMARKS.md, T6). Here every field the constructor writes is
/// a whole word, nothing on the path takes the address of a field but `fut`'s, so the
/// compiler reads the moved future field by field; and the permit is parked only while `fut`
/// is pending.
struct CallAsync<'a, F, C> {
    /// Pinned structurally: reached only through `Pin::new_unchecked` in `drive`, never moved
    /// out, dropped in place.
    fut: F,
    breaker: &'a CircuitBreaker,
    stage: Stage,
    /// Initialised exactly while `stage` is `Parked`.
    parked: MaybeUninit<Permit<'a>>,
    /// Initialised until `stage` is `Done`.
    is_failure: ManuallyDrop<C>,
}

/// Where a [`CallAsync`] is. A whole word, like its other fields (see there).
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
enum Stage {
    /// Not polled yet: the breaker has not been asked.
    Start,
    /// Admitted, `fut` pending: the permit waits in `parked`.
    Parked,
    /// `fut` is being polled, its permit on the poll's stack; seen again only if that poll
    /// panicked (the permit then reported a failure while unwinding).
    Polling,
    /// Finished: the classifier has been used or dropped.
    Done,
}

impl<'a, T, E, F, C, O> Future for CallAsync<'a, F, C>
where
    F: Future<Output = Result<T, E>>,
    C: FnOnce(&E) -> O,
    O: Into<Outcome>,
{
    type Output = Result<T, CircuitError<E>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `fut` is reached only through the `Pin` built in `drive`, never moved out;
        // the other fields are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        match this.stage {
            Stage::Start => {
                // `try_acquire`'s fast path, repeated so that the permit stays in registers: a
                // permit taken from `try_acquire`'s result, which its out-of-line slow path
                // writes through memory, went through the stack with a byte store read back by
                // a wider load, the same stall as above.
                let w = this.breaker.load();
                if w.is_closed() {
                    return this.drive(Permit::new(this.breaker, w), cx);
                }
                match this.breaker.try_acquire() {
                    Ok(permit) => this.drive(permit, cx),
                    Err(open) => {
                        this.stage = Stage::Done;
                        // SAFETY: initialised until `Done`, which was just set.
                        unsafe { ManuallyDrop::drop(&mut this.is_failure) };
                        Poll::Ready(Err(open.into()))
                    }
                }
            }
            Stage::Parked => {
                // SAFETY: initialised while `Parked`; `drive` leaves that stage at once.
                let permit = unsafe { this.parked.assume_init_read() };
                this.drive(permit, cx)
            }
            Stage::Polling | Stage::Done => {
                panic!("`call_async` polled after it finished or panicked")
            }
        }
    }
}

impl<'a, T, E, F, C, O> CallAsync<'a, F, C>
where
    F: Future<Output = Result<T, E>>,
    C: FnOnce(&E) -> O,
    O: Into<Outcome>,
{
    /// Polls `fut` once under `permit`, and reports its outcome if it is ready.
    #[inline(always)]
    fn drive(
        &mut self,
        mut permit: Permit<'a>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, CircuitError<E>>> {
        // A panic while polling unwinds from here with the permit on this stack, set to
        // report a failure; the future, left `Polling`, then reports nothing more.
        self.stage = Stage::Polling;
        permit.on_drop = OnDrop::Failure;
        // SAFETY: `self` came from a `Pin<&mut CallAsync>` and `fut` is structurally pinned.
        let fut = unsafe { Pin::new_unchecked(&mut self.fut) };
        match fut.poll(cx) {
            Poll::Pending => {
                // Dropped with the future, unreported, a parked permit cancels the call.
                permit.on_drop = OnDrop::Cancel;
                self.parked.write(permit);
                self.stage = Stage::Parked;
                Poll::Pending
            }
            Poll::Ready(result) => {
                self.stage = Stage::Done;
                // SAFETY: initialised until `Done`, which was just set.
                let is_failure = unsafe { ManuallyDrop::take(&mut self.is_failure) };
                Poll::Ready(report(permit, result, is_failure))
            }
        }
    }
}

impl<F, C> Drop for CallAsync<'_, F, C> {
    #[inline]
    fn drop(&mut self) {
        // `fut` is not touched here: the drop glue drops it in place afterwards.
        match self.stage {
            Stage::Done => return,
            // SAFETY: initialised while `Parked`. Dropped unreported: the call is cancelled.
            Stage::Parked => drop(unsafe { self.parked.assume_init_read() }),
            Stage::Start | Stage::Polling => {}
        }
        // SAFETY: initialised until `Done`, and this is the last use.
        unsafe { ManuallyDrop::drop(&mut self.is_failure) };
    }
}

/// Reports `result` on `permit`: `Ok` is a success, an error what `classify` says. The
/// permit is set to count a failure if dropped, so a panicking classifier counts as one.
#[inline(always)]
fn report<T, E, O: Into<Outcome>>(
    permit: Permit<'_>,
    result: Result<T, E>,
    classify: impl FnOnce(&E) -> O,
) -> Result<T, CircuitError<E>> {
    match result {
        Ok(value) => {
            permit.success();
            Ok(value)
        }
        Err(error) => {
            permit.report(classify(&error).into());
            Err(CircuitError::Inner(error))
        }
    }
}
