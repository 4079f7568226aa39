//! Running a call through a breaker: sync and async, with an optional classifier of errors.

#[cfg(feature = "tokio")]
use crate::breaker::error::CallTimedOut;
use crate::breaker::error::CircuitError;
use crate::breaker::permit::{OnDrop, Parked, Permit, NOT_TIMED};
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
/// And no function out of line is ever given the future's address. The executor's poll
/// loop drops the future if a poll unwinds; with the timeout's work that drop was called out
/// of line there, and helpers out of line took `&mut self`, so the compiler kept the whole
/// moved future in memory and copied it with 16-byte loads again: `call_async` on a ready
/// future cost 2.5x as much (BENCHMARKS.md, "call_async after the timeout"). So the drop is
/// inlined and small, and what only a waiting call does is out of line and given values or a
/// single field (`wait`, `abandon`, `timed_out`). The future stays small too: a pending call
/// parks its permit without the breaker it holds already (two words), and what only a call
/// that waits needs (when it first waited, its timer) lives behind one pointer, allocated the
/// first time it waits and only on a breaker that times out or counts long abandoned calls.
/// Around a ready future of two words, the whole is seven.
///
/// `TIMED`: whether the breaker's `timeout` applies. The timeout and the abandoned-call
/// threshold are read the first time `fut` waits, never by a call that finishes in its first
/// poll.
struct CallAsync<'a, F, C, const TIMED: bool> {
    /// Pinned structurally: reached only through `Pin::new_unchecked` in `drive`, never moved
    /// out, dropped in place (by `Drop`, or early by a timeout).
    fut: ManuallyDrop<F>,
    breaker: &'a CircuitBreaker,
    stage: Stage,
    /// Initialised exactly while `stage` is `Parked`.
    parked: MaybeUninit<Parked>,
    /// Initialised until `stage` is `Done` or `Cancelled`.
    is_failure: ManuallyDrop<C>,
    /// From the first wait of a call on a breaker that times out or counts long abandoned
    /// calls; `None` before, and for any other breaker.
    waited: Option<Box<Waited>>,
}

/// What a call that waits keeps, on a breaker that needs it.
struct Waited {
    /// The breaker clock's reading when the call first waited, if the breaker counted long
    /// abandoned calls as failures then, else [`NOT_TIMED`].
    since: u64,
    /// The timeout's timer, on a breaker with a timeout.
    #[cfg(feature = "tokio")]
    timer: Option<Timer>,
}

/// A call's timeout: the sleep and the duration it was set for (for [`CallTimedOut`]).
#[cfg(feature = "tokio")]
struct Timer {
    timeout_ns: u64,
    /// Pinned structurally: its box never moves it, and it is only polled through
    /// `Pin::new_unchecked` in `wait` and dropped in place with the box.
    sleep: tokio::time::Sleep,
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
            waited: None,
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

    /// Always inlined: a poll out of line is given the future's address, which is what this
    /// type is written to avoid (see `CallAsync`). With `#[inline]` alone, the compiler
    /// outlined it as soon as a program polled the same future type from two places (a
    /// benchmark that also awaited it inside an `async` block measured the direct case at
    /// 22 ns instead of 8).
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `fut` (and the boxed timer, pinned by its box) is reached only through the
        // `Pin` built in `drive`, never moved out; the other fields are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // No function out of line is given the future's address (see `CallAsync`).
        let first = this.stage == Stage::Start;
        if first {
            // `try_acquire`'s fast path, repeated so that the permit stays in registers: a
            // permit taken from `try_acquire`'s result, which its out-of-line slow path
            // writes through memory, went through the stack with a byte store read back by
            // a wider load, the same stall as above.
            let w = this.breaker.load();
            if w.is_closed() {
                return this.drive(Permit::new(this.breaker, w), cx, true);
            }
        }
        let permit = if first {
            match this.breaker.try_acquire() {
                Ok(permit) => permit,
                Err(open) => {
                    this.stage = Stage::Done;
                    // SAFETY: initialised until `Done`, which was just set.
                    unsafe { ManuallyDrop::drop(&mut this.is_failure) };
                    return Poll::Ready(Err(open.into()));
                }
            }
        } else {
            if this.stage != Stage::Parked {
                polled_after_end();
            }
            // SAFETY: initialised while `Parked`; `drive` leaves that stage at once.
            Permit::unpark(this.breaker, unsafe { this.parked.assume_init_read() })
        };
        this.drive(permit, cx, first)
    }
}

/// A `call_async` future polled again after it returned `Ready` or panicked.
#[cold]
#[inline(never)]
#[track_caller]
fn polled_after_end() -> ! {
    panic!("`call_async` polled after it finished or panicked")
}

impl<'a, T, E, F, C, O, const TIMED: bool> CallAsync<'a, F, C, TIMED>
where
    F: Future<Output = Result<T, E>>,
    C: FnOnce(&E) -> O,
    O: Into<Outcome>,
{
    /// Polls `fut` once under `permit`, and reports its outcome if it is ready. `first`: the
    /// first poll, so a `Pending` is the call's first wait.
    #[inline(always)]
    fn drive(
        &mut self,
        mut permit: Permit<'a>,
        cx: &mut Context<'_>,
        first: bool,
    ) -> Poll<Result<T, CircuitError<E>>> {
        // A panic while polling unwinds from here with the permit on this stack, set to
        // report a failure; the future, left `Polling`, then reports nothing more.
        self.stage = Stage::Polling;
        permit.on_drop = OnDrop::Failure;
        // SAFETY: `self` came from a `Pin<&mut CallAsync>` and `fut` is structurally pinned.
        let fut = unsafe { Pin::new_unchecked(&mut *self.fut) };
        match fut.poll(cx) {
            Poll::Pending => {
                let timed_out = wait::<TIMED>(self.breaker, &mut self.waited, first, cx);
                #[cfg(feature = "tokio")]
                if let Some(timeout_ns) = timed_out {
                    return self.time_out(permit, timeout_ns);
                }
                #[cfg(not(feature = "tokio"))]
                debug_assert!(timed_out.is_none(), "no timer without feature `tokio`");
                // Dropped with the future, unreported, a parked permit abandons the call.
                self.parked.write(permit.park());
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

    /// The timer fired while `fut` was pending: drops `fut` now (the call is cancelled),
    /// reports the timeout and returns it.
    #[cfg(feature = "tokio")]
    #[inline(always)]
    fn time_out(
        &mut self,
        permit: Permit<'a>,
        timeout_ns: u64,
    ) -> Poll<Result<T, CircuitError<E>>> {
        self.stage = Stage::Cancelled;
        // Dropped in place with its box: the sleep was pinned there.
        self.waited = None;
        // SAFETY: both initialised until `Cancelled`, which was just set, and never touched
        // again. Should `fut`'s drop panic, the permit on this stack reports a failure.
        unsafe {
            ManuallyDrop::drop(&mut self.is_failure);
            ManuallyDrop::drop(&mut self.fut);
        }
        Poll::Ready(Err(timed_out(permit, timeout_ns)))
    }
}

/// `fut` is pending: starts the call's first wait (`first`) as the breaker says, then polls
/// its timer, if any. `Some(timeout)` if the call has timed out.
///
/// Out of line, like everything only a waiting call does, and given only the field it
/// changes: were it inlined, or given the whole future, the executor's poll loop would no
/// longer keep the moved future out of memory, and a call on a ready future would cost 2.5x
/// more (see `CallAsync`). A call that waits is waiting on I/O; a function call more is
/// nothing to it.
#[inline(never)]
fn wait<const TIMED: bool>(
    breaker: &CircuitBreaker,
    waited: &mut Option<Box<Waited>>,
    first: bool,
    #[cfg_attr(not(feature = "tokio"), allow(unused_variables))] cx: &mut Context<'_>,
) -> Option<u64> {
    if first {
        *waited = first_wait::<TIMED>(breaker);
    }
    #[cfg(feature = "tokio")]
    if TIMED {
        if let Some(timer) = waited.as_mut().and_then(|w| w.timer.as_mut()) {
            // SAFETY: the timer is pinned in its box (see `Timer`).
            let sleep = unsafe { Pin::new_unchecked(&mut timer.sleep) };
            if sleep.poll(cx).is_ready() {
                return Some(timer.timeout_ns);
            }
        }
    }
    None
}

/// A call's first wait: reads the breaker's timeout (if `TIMED`) and abandoned-call
/// threshold, and if either is set, notes the time and starts the timer as configured.
fn first_wait<const TIMED: bool>(breaker: &CircuitBreaker) -> Option<Box<Waited>> {
    #[cfg_attr(not(feature = "tokio"), allow(unused_variables))]
    let (timeout_ns, abandoned_ns) = breaker.window.call_limits();
    let since = if abandoned_ns != 0 {
        breaker.clock.coarse_now_nanos().min(NOT_TIMED - 1)
    } else {
        NOT_TIMED
    };
    #[cfg(feature = "tokio")]
    let timer = (TIMED && timeout_ns != 0).then(|| Timer {
        timeout_ns,
        sleep: tokio::time::sleep(std::time::Duration::from_nanos(timeout_ns)),
    });
    #[cfg(feature = "tokio")]
    let needed = since != NOT_TIMED || timer.is_some();
    #[cfg(not(feature = "tokio"))]
    let needed = since != NOT_TIMED;
    needed.then(|| {
        Box::new(Waited {
            since,
            #[cfg(feature = "tokio")]
            timer,
        })
    })
}

/// Reports a timed-out call on its `permit` and makes its error.
#[cfg(feature = "tokio")]
#[cold]
#[inline(never)]
fn timed_out<E>(permit: Permit<'_>, timeout_ns: u64) -> CircuitError<E> {
    let name = permit.breaker().name.clone();
    permit.time_out();
    CircuitError::Timeout(CallTimedOut::new(name, timeout_ns))
}

impl<F, C, const TIMED: bool> Drop for CallAsync<'_, F, C, TIMED> {
    /// Inlined, with what only a call that waited needs out of line and given values, not
    /// the future's address: an executor's poll loop drops the future when a poll unwinds,
    /// and drop glue called out of line there keeps the moved future in memory (see
    /// `CallAsync`).
    #[inline(always)]
    fn drop(&mut self) {
        let waited = self.waited.take();
        let stage = self.stage;
        if stage == Stage::Parked || waited.is_some() {
            // SAFETY: a bitwise copy of a `MaybeUninit`, read by `abandon` only if `Parked`
            // (initialised then); the field is not read again.
            let parked = unsafe { std::ptr::read(&self.parked) };
            abandon(self.breaker, stage == Stage::Parked, parked, waited);
        }
        // SAFETY: `is_failure` is initialised until `Done` or `Cancelled`, `fut` until
        // `Cancelled`; both dropped only here from then on. `fut` is pinned and dropped in
        // place, after the permit's report as the drop glue did before it was `ManuallyDrop`.
        unsafe {
            match stage {
                Stage::Cancelled => {}
                Stage::Done => ManuallyDrop::drop(&mut self.fut),
                Stage::Start | Stage::Polling | Stage::Parked => {
                    ManuallyDrop::drop(&mut self.is_failure);
                    ManuallyDrop::drop(&mut self.fut);
                }
            }
        }
    }
}

/// A call that waited is dropped: if its permit is `parked` (`is_parked`), the caller abandoned
/// the call (counted as `waited` says); and what it kept while it waited is freed. Out of line
/// and given values: the future's drop stays small enough to inline (see its `Drop`).
#[cold]
#[inline(never)]
fn abandon(
    breaker: &CircuitBreaker,
    is_parked: bool,
    parked: MaybeUninit<Parked>,
    waited: Option<Box<Waited>>,
) {
    if is_parked {
        let since = waited.as_ref().map_or(NOT_TIMED, |w| w.since);
        // SAFETY: the caller read it from a future `Parked`, where it is initialised.
        Permit::unpark(breaker, unsafe { parked.assume_init() }).abandon(since);
    }
    drop(waited);
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

    /// What the future of `call_async` costs beyond the caller's own: whole words, and no
    /// more than 64 bytes around a ready future of two words, with or without feature `tokio`
    /// (past that, moving it costs 2.5x the call: see `CallAsync`).
    #[test]
    fn the_future_adds_five_words_to_the_callers() {
        let breaker = CircuitBreaker::new("size", Config::default());
        let call = breaker.call_async(std::future::ready(Ok::<u64, u64>(1)));
        // The body (16), the breaker, the stage, the parked permit (16), the waiting part's box.
        assert_eq!(std::mem::size_of_val(&call), 16 + 8 + 8 + 16 + 8);
        assert!(std::mem::size_of_val(&call) <= 64);
    }
}
