//! A permission to run one call, and the report of how it went.

use crate::breaker::totals::Total;
use crate::breaker::window::Started;
use crate::breaker::word::Word;
use crate::{CircuitBreaker, Outcome, State};
use std::fmt;
use std::mem::ManuallyDrop;
use std::time::Duration;

/// Permission from [`CircuitBreaker::try_acquire`] to run one call.
///
/// Report the outcome with [`success`](Self::success), [`failure`](Self::failure),
/// [`exclude`](Self::exclude), [`ignore`](Self::ignore), [`open_for`](Self::open_for), or any
/// [`Outcome`] through [`report`](Self::report). Dropped
/// without a report (the call was cancelled), it counts as nothing and gives back its
/// half-open trial slot, so no slot is ever leaked.
#[must_use = "report the call's outcome with `success()`, `failure()` or `ignore()`"]
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    /// The state word the call was admitted under: its outcome moves the state only while
    /// the breaker is still in that period.
    admitted: Word,
    /// When the call began, if the breaker times its calls (`slow_call_duration`, or
    /// `record_call_durations` on the precise clock).
    started: Started,
    /// What dropping the permit unreported means: a cancelled call, or, while the protected
    /// code runs inside `call`, a panic unwinding through it.
    pub(crate) on_drop: OnDrop,
}

/// How an unreported permit counts when dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnDrop {
    Cancel,
    Failure,
}

impl<'a> Permit<'a> {
    #[inline(always)]
    pub(crate) fn new(breaker: &'a CircuitBreaker, admitted: Word) -> Self {
        Permit {
            breaker,
            admitted,
            started: breaker.start_timing(),
            on_drop: OnDrop::Cancel,
        }
    }

    /// The breaker that issued the permit.
    pub fn breaker(&self) -> &'a CircuitBreaker {
        self.breaker
    }

    /// The call succeeded (or failed in a way that says the service is up).
    #[inline]
    pub fn success(self) {
        let this = ManuallyDrop::new(self);
        this.breaker.on_success(this.admitted, this.started);
    }

    /// The call returned an error that is not the service's failure (a 404: the service
    /// answered): a success, also counted in [`Snapshot::excluded`](crate::Snapshot::excluded).
    /// See [`Outcome::Excluded`].
    pub fn exclude(self) {
        let this = ManuallyDrop::new(self);
        this.breaker.on_excluded(this.admitted, this.started);
    }

    /// The call failed in a way that counts against the service.
    pub fn failure(self) {
        let this = ManuallyDrop::new(self);
        this.breaker.on_failure(this.admitted, this.started);
    }

    /// The call's outcome says nothing about the service (the caller gave up on it, a
    /// validation error raised before any request was sent): counted as ignored, it moves no
    /// state (consecutive failures stay, a half-open period gains no success) and gives back
    /// its half-open trial slot.
    pub fn ignore(self) {
        let this = ManuallyDrop::new(self);
        this.breaker.on_ignored(this.admitted, this.started);
    }

    /// The call failed and the service said how long to leave it alone (a `Retry-After`):
    /// counted as a failure, it opens the breaker now, from Closed or HalfOpen and whatever
    /// the thresholds, for the longer of `at_least` and the breaker's own next Open period.
    /// See [`Outcome::OpenFor`].
    pub fn open_for(self, at_least: Duration) {
        let this = ManuallyDrop::new(self);
        this.breaker
            .on_open_for(this.admitted, this.started, at_least);
    }

    /// Reports `outcome`: [`success`](Self::success), [`exclude`](Self::exclude),
    /// [`failure`](Self::failure), [`ignore`](Self::ignore) or [`open_for`](Self::open_for).
    #[inline]
    pub fn report(self, outcome: Outcome) {
        match outcome {
            Outcome::Success => self.success(),
            Outcome::Excluded => self.exclude(),
            Outcome::Failure => self.failure(),
            Outcome::Ignored => self.ignore(),
            Outcome::OpenFor(at_least) => self.open_for(at_least),
        }
    }
}

/// A permit without its breaker: what a pending `call_async` keeps (it holds the breaker
/// already), two words instead of four, so that its future stays small enough to be moved
/// field by field (see `CallAsync`). Unparked, it counts a cancelled call if dropped.
pub(crate) struct Parked {
    admitted: Word,
    started: Started,
}

impl<'a> Permit<'a> {
    /// Parks the permit; [`unpark`](Self::unpark) with the same breaker makes it again. A
    /// parked permit dropped reports nothing: its holder must unpark it.
    #[inline(always)]
    pub(crate) fn park(self) -> Parked {
        let this = ManuallyDrop::new(self);
        Parked {
            admitted: this.admitted,
            started: this.started,
        }
    }

    /// The permit `parked` was, from `breaker`, which must be the one that issued it.
    #[inline(always)]
    pub(crate) fn unpark(breaker: &'a CircuitBreaker, parked: Parked) -> Self {
        Permit {
            breaker,
            admitted: parked.admitted,
            started: parked.started,
            on_drop: OnDrop::Cancel,
        }
    }
}

/// [`Permit::abandon`]'s `waited_since` for a call not timed (no `abandoned_call_duration`
/// when it first waited).
pub(crate) const NOT_TIMED: u64 = u64::MAX;

impl Permit<'_> {
    /// The call ran past the breaker's `timeout` and was cancelled: counted as a timeout and
    /// as a failure (a timed-out trial fails its half-open period).
    #[cold]
    #[cfg(feature = "tokio")]
    pub(crate) fn time_out(self) {
        if self.admitted.tag() != State::Disabled {
            self.breaker.totals.add(Total::Timeouts);
        }
        self.failure();
    }

    /// The caller dropped the call unfinished, `waited_since` the clock's reading when it first
    /// waited ([`NOT_TIMED`] if the breaker did not count abandoned calls as failures then):
    /// counted as abandoned; and as a failure if it waited at least `abandoned_call_duration`,
    /// else as nothing more (its trial slot goes back).
    #[cold]
    pub(crate) fn abandon(self, waited_since: u64) {
        if self.admitted.tag() == State::Disabled {
            return;
        }
        self.breaker.totals.add(Total::Abandoned);
        // Read again: a `reconfigure` since the call first waited may have removed it.
        let limit = self.breaker.window.abandoned_ns();
        if waited_since != NOT_TIMED && limit != 0 {
            let waited = self
                .breaker
                .clock
                .coarse_now_nanos()
                .saturating_sub(waited_since);
            if waited >= limit {
                return self.failure();
            }
        }
        self.cancel();
    }

    /// Dropped unreported: gives back its half-open trial slot.
    fn cancel(self) {
        let this = ManuallyDrop::new(self);
        this.breaker.on_cancel(this.admitted);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        match self.on_drop {
            OnDrop::Cancel => self.breaker.on_cancel(self.admitted),
            OnDrop::Failure => self.breaker.on_failure(self.admitted, self.started),
        }
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("breaker", &self.breaker.name())
            .field("admitted", &self.admitted)
            .finish()
    }
}
