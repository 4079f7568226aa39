//! Running a call through a breaker: sync and async, with an optional classifier of errors.

#[cfg(feature = "tokio")]
use crate::breaker::error::CallTimedOut;
use crate::breaker::error::CircuitError;
use crate::breaker::permit::{OnDrop, Permit, NOT_TIMED};
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
    #[inline(always)]
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
    #[inline(always)]
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

    /// Awaits `fut` if the breaker admits it, with [`call`](Self::call)'s counting.
    ///
    /// The breaker is asked when the future is first polled, not when `call_async` returns.
    ///
    /// - **Timeout**: on a breaker with a [`timeout`](crate::ConfigBuilder::timeout) (feature
    ///   `tokio`), a call still waiting that long after it first waited is cancelled: `fut` is
    ///   dropped, the call counts as a failure and a timeout, and the result is
    ///   [`CircuitError::Timeout`]. It must then be polled inside a tokio runtime with its
    ///   time driver (`tokio::time::sleep` panics outside one).
    /// - **Abandoned**: if the returned future is dropped before it finishes, the call is
    ///   counted in [`Snapshot::abandoned`](crate::Snapshot::abandoned) and gives back its
    ///   half-open trial slot; with
    ///   [`abandoned_call_duration`](crate::ConfigBuilder::abandoned_call_duration), one that
    ///   had waited at least that long counts as a failure instead.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call), and [`CircuitError::Timeout`] if it ran past its timeout.
    // Not an `async fn`: see `CallAsync`.
    #[inline]
    pub fn call_async<'a, T: 'a, E: 'a>(
        &'a self,
        fut: impl Future<Output = Result<T, E>> + 'a,
    ) -> impl Future<Output = Result<T, CircuitError<E>>> + 'a {
        self.call_async_with(fut, |_: &E| true)
    }

    /// [`call_async`](Self::call_async) with [`call_with`](Self::call_with)'s classifier (a
    /// `bool` or an [`Outcome`]). A timed-out call counts as a failure whatever the classifier
    /// would have said: it never returned an error to classify.
    ///
    /// # Errors
    ///
    /// As [`call_async`](Self::call_async).
    #[inline]
    pub fn call_async_with<'a, T: 'a, E: 'a, O: Into<Outcome>>(
        &'a self,
        fut: impl Future<Output = Result<T, E>> + 'a,
        is_failure: impl FnOnce(&E) -> O + 'a,
    ) -> impl Future<Output = Result<T, CircuitError<E>>> + 'a {
        CallAsync::<_, _, true>::new(self, fut, is_failure)
    }

    /// [`call_async_with`](Self::call_async_with) that never times out, for callers that
    /// cannot return [`CircuitError::Timeout`]: an attribute's `async fn` without the
    /// `timeout` key, whose error type need not convert from [`CallTimedOut`]. Abandoned
    /// calls count as they do there.
    ///
    /// [`CallTimedOut`]: crate::CallTimedOut
    #[inline]
    pub(crate) fn call_async_untimed<'a, T: 'a, E: 'a, O: Into<Outcome>>(
        &'a self,
        fut: impl Future<Output = Result<T, E>> + 'a,
        is_failure: impl FnOnce(&E) -> O + 'a,
    ) -> impl Future<Output = Result<T, CircuitError<E>>> + 'a {
        CallAsync::<_, _, false>::new(self, fut, is_failure)
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
///
/// `TIMED`: whether the breaker's `timeout` applies. The timeout and the abandoned-call
/// threshold are read the first time `fut` waits, never by a call that finishes in its first
/// poll; only a breaker with a timeout allocates (its timer, once per waiting call).
struct CallAsync<'a, F, C, const TIMED: bool> {
    /// Pinned structurally: reached only through `Pin::new_unchecked` in `drive`, never moved
    /// out, dropped in place (by `Drop`, or early by a timeout).
    fut: ManuallyDrop<F>,
    breaker: &'a CircuitBreaker,
    stage: Stage,
    /// Initialised exactly while `stage` is `Parked`.
    parked: MaybeUninit<Permit<'a>>,
    /// Initialised until `stage` is `Done` or `Cancelled`.
    is_failure: ManuallyDrop<C>,
    /// [`UNREAD`] until `fut` first waits; then the breaker clock's reading at that moment if
    /// the breaker counts long abandoned calls as failures, else [`NOT_TIMED`].
    waited_since: u64,
    /// The timeout's timer, from the first wait of a call on a breaker with a timeout.
    #[cfg(feature = "tokio")]
    timer: Option<Pin<Box<Timer>>>,
}

/// [`CallAsync::waited_since`] before the first wait.
const UNREAD: u64 = NOT_TIMED - 1;

/// A call's timeout: the sleep and the duration it was set for (for [`CallTimedOut`]).
#[cfg(feature = "tokio")]
struct Timer {
    timeout_ns: u64,
    /// Pinned structurally: reached only through `Timer::sleep`.
    sleep: tokio::time::Sleep,
}

#[cfg(feature = "tokio")]
impl Timer {
    fn sleep(self: Pin<&mut Self>) -> Pin<&mut tokio::time::Sleep> {
        // SAFETY: `sleep` is never moved out of the pinned `Timer`.
        unsafe { self.map_unchecked_mut(|t| &mut t.sleep) }
    }
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
    /// Timed out: `fut` and the classifier have been dropped.
    // Reached only through the timer of feature `tokio`.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    Cancelled,
}

impl<'a, F, C, const TIMED: bool> CallAsync<'a, F, C, TIMED> {
    #[inline(always)]
    fn new(breaker: &'a CircuitBreaker, fut: F, is_failure: C) -> Self {
        CallAsync {
            fut: ManuallyDrop::new(fut),
            breaker,
            stage: Stage::Start,
            parked: MaybeUninit::uninit(),
            is_failure: ManuallyDrop::new(is_failure),
            waited_since: UNREAD,
            #[cfg(feature = "tokio")]
            timer: None,
        }
    }
}

impl<'a, T, E, F, C, O, const TIMED: bool> Future for CallAsync<'a, F, C, TIMED>
where
    F: Future<Output = Result<T, E>>,
    C: FnOnce(&E) -> O,
    O: Into<Outcome>,
{
    type Output = Result<T, CircuitError<E>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `fut` (and the boxed timer, pinned by its box) is reached only through the
        // `Pin` built in `drive`, never moved out; the other fields are not pinned.
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
            Stage::Polling | Stage::Done | Stage::Cancelled => {
                panic!("`call_async` polled after it finished or panicked")
            }
        }
    }
}

impl<'a, T, E, F, C, O, const TIMED: bool> CallAsync<'a, F, C, TIMED>
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
        let fut = unsafe { Pin::new_unchecked(&mut *self.fut) };
        match fut.poll(cx) {
            Poll::Pending => {
                if self.waited_since == UNREAD {
                    self.first_wait();
                }
                #[cfg(feature = "tokio")]
                if let Some(timer) = &mut self.timer {
                    if timer.as_mut().sleep().poll(cx).is_ready() {
                        return self.time_out(permit);
                    }
                }
                // Dropped with the future, unreported, a parked permit abandons the call.
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

    /// `fut` waits for the first time: reads the breaker's timeout (if `TIMED`) and
    /// abandoned-call threshold, starts the timer and notes the time as configured.
    #[cold]
    #[inline(never)]
    fn first_wait(&mut self) {
        #[cfg_attr(not(feature = "tokio"), allow(unused_variables))]
        let (timeout_ns, abandoned_ns) = self.breaker.window.call_limits();
        self.waited_since = if abandoned_ns != 0 {
            self.breaker.clock.coarse_now_nanos().min(UNREAD - 1)
        } else {
            NOT_TIMED
        };
        #[cfg(feature = "tokio")]
        if TIMED && timeout_ns != 0 {
            self.timer = Some(Box::pin(Timer {
                timeout_ns,
                sleep: tokio::time::sleep(std::time::Duration::from_nanos(timeout_ns)),
            }));
        }
    }

    /// The timer fired while `fut` was pending: drops `fut` now (the call is cancelled),
    /// reports the timeout and returns it.
    #[cfg(feature = "tokio")]
    #[cold]
    #[inline(never)]
    fn time_out(&mut self, permit: Permit<'a>) -> Poll<Result<T, CircuitError<E>>> {
        let timeout_ns = self.timer.as_ref().map_or(0, |t| t.timeout_ns);
        self.timer = None;
        self.stage = Stage::Cancelled;
        // SAFETY: both initialised until `Cancelled`, which was just set, and never touched
        // again. Should `fut`'s drop panic, the permit on this stack reports a failure.
        unsafe {
            ManuallyDrop::drop(&mut self.is_failure);
            ManuallyDrop::drop(&mut self.fut);
        }
        permit.time_out();
        let name = self.breaker.name.clone();
        Poll::Ready(Err(CircuitError::Timeout(CallTimedOut::new(
            name, timeout_ns,
        ))))
    }
}

impl<F, C, const TIMED: bool> Drop for CallAsync<'_, F, C, TIMED> {
    #[inline]
    fn drop(&mut self) {
        match self.stage {
            Stage::Cancelled => return,
            Stage::Done => {}
            Stage::Parked => {
                // SAFETY: initialised while `Parked`, and read only here.
                let permit = unsafe { self.parked.assume_init_read() };
                // Dropped unreported: the caller abandoned the call.
                permit.abandon(self.waited_since);
                // SAFETY: initialised until `Done`, and this is the last use.
                unsafe { ManuallyDrop::drop(&mut self.is_failure) };
            }
            Stage::Start | Stage::Polling => {
                // SAFETY: as above.
                unsafe { ManuallyDrop::drop(&mut self.is_failure) };
            }
        }
        // After the permit's report, as the drop glue did before `fut` was `ManuallyDrop`.
        // SAFETY: not dropped before unless `Cancelled`, which returned above; pinned, and
        // dropped in place.
        unsafe { ManuallyDrop::drop(&mut self.fut) };
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

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::{CircuitBreaker, Config};

    /// What the future of `call_async` costs beyond the caller's own: its fields, each a whole
    /// word (see `CallAsync`). The first wait's time and, with feature `tokio`, the timer's
    /// box are one word each; the timer itself is allocated only for a breaker with a timeout.
    #[test]
    fn the_future_adds_whole_words_to_the_callers() {
        let breaker = CircuitBreaker::new("size", Config::default());
        let call = breaker.call_async(std::future::ready(Ok::<u64, u64>(1)));
        let timer = if cfg!(feature = "tokio") { 8 } else { 0 };
        // The body (16), the breaker, the stage, the parked permit (32), the first wait's time.
        assert_eq!(std::mem::size_of_val(&call), 16 + 8 + 8 + 32 + 8 + timer);
    }
}
