//! Admission: whether a call may run, and the permit that lets it.

use crate::breaker::error::CircuitOpen;
use crate::breaker::permit::Permit;
use crate::breaker::totals::Total;
use crate::breaker::word::Word;
use crate::events::Reason;
use crate::{CircuitBreaker, State};

impl CircuitBreaker {
    /// Asks to run one call. On `Ok`, run the call, then report its outcome on the permit
    /// ([`Permit::success`], [`Permit::failure`], or any [`Outcome`](crate::Outcome) through
    /// [`Permit::report`]); a permit dropped without a report counts as nothing and gives back
    /// a half-open trial slot. On `Err`, the call must not run.
    ///
    /// This is the building block of [`call`](Self::call) for code that cannot hand the
    /// breaker a closure.
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, CircuitOpen> {
        let w = self.load();
        if w.is_closed() {
            return Ok(Permit::new(self, w));
        }
        self.acquire_slow(w)
    }

    #[cold]
    fn acquire_slow(&self, mut w: Word) -> Result<Permit<'_>, CircuitOpen> {
        loop {
            match w.tag() {
                State::Closed | State::Disabled => return Ok(Permit::new(self, w)),
                // An operator's order: rejected in metrics-only mode too.
                State::ForcedOpen => {
                    self.totals.add(Total::Rejected);
                    return Err(CircuitOpen::new(self.name.clone(), State::ForcedOpen, None));
                }
                State::Open => {
                    let stamp = self.periods.load();
                    if let Some(left) = self.open_nanos_left(w, stamp) {
                        if stamp.metrics_only() {
                            return Ok(self.would_reject(w));
                        }
                        self.totals.add(Total::Rejected);
                        return Err(CircuitOpen::open_for(self.name.clone(), left));
                    }
                    // The timeout has passed: this call is the first trial.
                    let trial = Word::half_open(w.next_epoch(), 1, 0);
                    match self.transition(w, trial, Reason::RecoveryTimeout) {
                        Ok(()) => {
                            self.half_open_began(trial);
                            return Ok(Permit::new(self, trial));
                        }
                        Err(actual) => w = actual,
                    }
                }
                State::HalfOpen => {
                    let (_, max_calls) = self.trial_limits();
                    if w.admitted() >= max_calls {
                        // Every slot is taken: reopen if the period has waited too long.
                        if let Some(after) = self.end_outwaited_half_open(w) {
                            w = after;
                            continue;
                        }
                        if self.periods.load().metrics_only() {
                            return Ok(self.would_reject(w));
                        }
                        self.totals.add(Total::Rejected);
                        let hint = self.half_open_retry_hint(w);
                        return Err(CircuitOpen::new(
                            self.name.clone(),
                            State::HalfOpen,
                            Some(hint),
                        ));
                    }
                    let taken = Word::half_open(w.epoch(), w.admitted() + 1, w.successes());
                    match self.cas(w, taken) {
                        Ok(()) => return Ok(Permit::new(self, taken)),
                        Err(actual) => w = actual,
                    }
                }
            }
        }
    }

    /// A metrics-only breaker lets through a call it would have rejected (`w` Open, or
    /// HalfOpen with every trial slot taken). Its permit is stamped with an Open word of
    /// `w`'s epoch: its outcome is counted in the totals, but no state of the breaker is ever
    /// that word's period (an Open word of this epoch is `w` itself, in which outcomes move
    /// nothing; a HalfOpen `w` is another state), so it moves none, holds no trial slot and
    /// gives none back.
    #[cold]
    fn would_reject(&self, w: Word) -> Permit<'_> {
        self.totals.add(Total::WouldReject);
        let shadow = if w.tag() == State::Open {
            w
        } else {
            Word::open(w.epoch(), 0)
        };
        Permit::new(self, shadow)
    }
}
