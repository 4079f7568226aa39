//! Outcomes: what a call's result does to the state, reported through its permit, and the
//! count of fallbacks.

use crate::breaker::durations::Class;
use crate::breaker::totals::Total;
use crate::breaker::window::Started;
use crate::breaker::word::Word;
use crate::clock::saturating_nanos;
use crate::events::Reason;
use crate::sync::Ordering;
use crate::{CircuitBreaker, State};
use std::time::UNIX_EPOCH;

impl CircuitBreaker {
    /// The hot path: a Closed success is inlined into every call site, kept to a count, a
    /// load and the window's null check; everything else is out of line.
    #[inline(always)]
    pub(crate) fn on_success(&self, admitted: Word, started: Started) {
        self.on_success_as(admitted, started, Class::Success);
    }

    /// [`on_success`](Self::on_success), its duration recorded as `class` (a success, or an
    /// excluded error).
    #[inline(always)]
    fn on_success_as(&self, admitted: Word, started: Started, class: Class) {
        if admitted.tag() != State::Closed {
            return self.on_success_not_closed(admitted, started, class);
        }
        self.totals.add(Total::Successes);
        // A success clears the consecutive failures; most of the time there are none and
        // this is one load, no write.
        let now = self.load();
        if now.failures() != 0 && admitted.same_period(now) {
            self.clear_failures(admitted);
        }
        self.window_after_success(admitted, started, now, class);
    }

    /// A success admitted HalfOpen (a trial), Open (metrics-only) or Disabled.
    #[cold]
    #[inline(never)]
    fn on_success_not_closed(&self, admitted: Word, started: Started, class: Class) {
        match admitted.tag() {
            State::HalfOpen => {
                self.totals.add(Total::Successes);
                let ended = self.ended(started);
                self.record_duration(class, started, ended);
                if !admitted.same_period(self.load()) {
                    // Too late to decide anything: it moves no state and enters no window.
                    self.window_stale(started, ended);
                } else if self.slow_trial(started, ended) {
                    // Under a slow-call rule, a slow trial is a failed trial.
                    self.trial_failed(admitted);
                } else {
                    self.trial_succeeded(admitted);
                }
            }
            // A metrics-only breaker's call it would have rejected: counted, moving no state.
            State::Open => {
                self.totals.add(Total::Successes);
                self.record_duration_now(class, started);
            }
            // Disabled records nothing; ForcedOpen admits nobody; Closed is the caller's.
            State::Disabled | State::ForcedOpen | State::Closed => {}
        }
    }

    /// An error that is not the service's failure: a success, and counted as excluded where
    /// the success was counted (not while Disabled).
    pub(crate) fn on_excluded(&self, admitted: Word, started: Started) {
        self.on_success_as(admitted, started, Class::Excluded);
        if matches!(
            admitted.tag(),
            State::Closed | State::HalfOpen | State::Open
        ) {
            self.totals.add(Total::Excluded);
        }
    }

    #[cold]
    fn clear_failures(&self, admitted: Word) {
        let _ = self.update(|w| {
            (admitted.same_period(w) && w.failures() != 0).then(|| Word::closed(w.epoch(), 0))
        });
    }

    #[cold]
    fn trial_succeeded(&self, admitted: Word) {
        let mut w = self.load();
        // Whether this success is in the word yet.
        let mut counted = false;
        while admitted.same_period(w) {
            let successes = w.successes() + u32::from(!counted);
            let (threshold, _) = self.trial_limits();
            if successes >= threshold {
                let closed = Word::closed(w.next_epoch(), 0);
                match self.transition(w, closed, Reason::TrialsSucceeded(successes)) {
                    Ok(()) => return,
                    Err(actual) => w = actual,
                }
            } else if counted {
                return;
            } else {
                let more = Word::half_open(w.epoch(), w.admitted(), successes);
                match self.cas(w, more) {
                    // Look at the limits once more: a `reconfigure` may have lowered the
                    // threshold after they were read above and before this swap, and seen
                    // the word without this success (see `publish_limits`).
                    Ok(()) => (counted, w) = (true, more),
                    Err(actual) => w = actual,
                }
            }
        }
    }

    #[cold]
    pub(crate) fn on_failure(&self, admitted: Word, started: Started) {
        if admitted.tag() == State::Disabled {
            return;
        }
        self.totals.add(Total::Failures);
        self.stamp_failure();
        // The rate rules decide first; if one opened the breaker, the period is over below.
        self.window_after_failure(admitted, started);

        let mut w = self.load();
        while admitted.same_period(w) {
            let result = match w.tag() {
                State::Closed => {
                    let failures = w.failures() + 1;
                    let threshold = self.failure_threshold.load(Ordering::Relaxed);
                    if failures >= threshold {
                        let n = u32::try_from(failures).unwrap_or(u32::MAX);
                        self.open(w, Reason::FailureThreshold(n))
                    } else {
                        self.cas(w, Word::closed(w.epoch(), failures))
                    }
                }
                State::HalfOpen => self.open(w, Reason::TrialFailed),
                _ => return,
            };
            match result {
                Ok(()) => return,
                Err(actual) => w = actual,
            }
        }
    }

    /// A slow trial under a slow-call rule: the HalfOpen period fails as if the trial had.
    #[cold]
    fn trial_failed(&self, admitted: Word) {
        let mut w = self.load();
        while admitted.same_period(w) {
            match self.open(w, Reason::TrialFailed) {
                Ok(()) => return,
                Err(actual) => w = actual,
            }
        }
    }

    /// Records now as the last failure's time, in the encoding
    /// [`last_failure`](Self::last_failure) reads.
    pub(super) fn stamp_failure(&self) {
        let since_epoch = self.clock.system_time().duration_since(UNIX_EPOCH);
        // 0 means "no failure": a clock at or before 1970 still stamps one.
        let stamp = since_epoch.map_or(1, |d| saturating_nanos(d).max(1));
        self.last_failure.store(stamp, Ordering::Relaxed);
    }

    /// An outcome that says nothing about the service: counted as ignored, it moves no state
    /// (consecutive failures stay, a half-open period gains no success) and gives back its
    /// half-open trial slot.
    #[cold]
    pub(crate) fn on_ignored(&self, admitted: Word, started: Started) {
        if admitted.tag() == State::Disabled {
            return;
        }
        self.totals.add(Total::Ignored);
        self.record_duration_now(Class::Ignored, started);
        self.on_cancel(admitted);
    }

    /// A permit dropped without an outcome: give back its half-open trial slot.
    #[cold]
    pub(crate) fn on_cancel(&self, admitted: Word) {
        if admitted.tag() != State::HalfOpen {
            return;
        }
        let _ = self.update(|w| {
            (admitted.same_period(w) && w.admitted() > 0)
                .then(|| Word::half_open(w.epoch(), w.admitted() - 1, w.successes()))
        });
    }

    /// Counts a call answered by a fallback, for [`Snapshot::fallbacks`](crate::Snapshot). The
    /// `#[circuit_breaker]` attribute calls it; call it when you run a fallback yourself.
    pub fn record_fallback(&self) {
        self.totals.add(Total::Fallbacks);
    }
}
