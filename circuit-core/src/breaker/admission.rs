//! Admission: whether a call may run, and the permit that lets it.

use crate::breaker::error::CircuitOpen;
use crate::breaker::permit::Permit;
use crate::breaker::totals::Total;
use crate::breaker::word::Word;
use crate::events::Reason;
use crate::{CircuitBreaker, State};
use std::time::Duration;

impl CircuitBreaker {
    /// Asks to run one call. On `Ok`, run the call, then report its outcome on the permit
    /// ([`Permit::success`] or [`Permit::failure`]); a permit dropped without a report counts
    /// as nothing and gives back a half-open trial slot. On `Err`, the call must not run.
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
                State::ForcedOpen => return Err(self.reject(State::ForcedOpen, None)),
                State::Open => {
                    if let Some(left) = self.open_nanos_left(w) {
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
                        return Err(self.reject(State::HalfOpen, None));
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

    fn reject(&self, state: State, retry_after: Option<Duration>) -> CircuitOpen {
        self.totals.add(Total::Rejected);
        CircuitOpen::new(self.name.clone(), state, retry_after)
    }
}
