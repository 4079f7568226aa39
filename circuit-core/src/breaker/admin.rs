//! Administration: forcing open, disabling, resetting and reconfiguring a live breaker.

use crate::breaker::word::Word;
use crate::config::Config;
use crate::events::Reason;
use crate::{CircuitBreaker, State};

impl CircuitBreaker {
    /// Applies a new configuration to the live breaker. Thresholds apply to the next decision,
    /// and the current state is kept, except where keeping it would leave the breaker unable
    /// to decide:
    ///
    /// - HalfOpen with as many successes in as the new `success_threshold` asks: it closes now
    ///   (reason [`TrialsSucceeded`](Reason::TrialsSucceeded)), since no further trial may be
    ///   admitted to close it once the new `half_open_max_calls` is reached;
    /// - Open with more time left than the new `recovery_timeout`: the Open period restarts on
    ///   the new timeout, so that `retry_after` stays the truth;
    /// - a new clock while Open: the Open period restarts on the new clock (a deadline on one
    ///   clock means nothing on another); while HalfOpen, its
    ///   [`half_open_max_wait`](Config::half_open_max_wait) restarts on the new clock.
    ///
    /// Any other HalfOpen period still decides under the new limits: `build()` keeps
    /// `success_threshold` at most `half_open_max_calls`, so the trials in flight and the free
    /// slots can always bring in the successes still needed, and a failure reopens it.
    pub fn reconfigure(&self, config: Config) {
        let mut held = self.config.lock();
        self.store_limits(&config);
        self.window_reconfigured(&config);
        let new_clock = self.clock.replace(config.clock.clone());
        let mut w = self.publish_limits();
        loop {
            let result = match w.tag() {
                State::Open if new_clock || self.open_outlasts_timeout(w) => {
                    self.swap_in_open(w, w.epoch()).map(|_| ())
                }
                State::HalfOpen => {
                    if new_clock {
                        // The period's start was read on the old clock.
                        self.restart_half_open_wait(w);
                    }
                    let (threshold, _) = self.trial_limits();
                    if w.successes() < threshold {
                        break;
                    }
                    let closed = Word::closed(w.next_epoch(), 0);
                    self.transition(w, closed, Reason::TrialsSucceeded(w.successes()))
                }
                _ => break,
            };
            match result {
                Ok(()) => break,
                Err(actual) => w = actual,
            }
        }
        *held = std::sync::Arc::new(config);
    }

    /// Rejects every call until [`reset`](Self::reset).
    pub fn force_open(&self) {
        self.move_to(State::ForcedOpen, Reason::ForcedOpen);
    }

    /// Lets every call through and records nothing, until [`reset`](Self::reset).
    pub fn disable(&self) {
        self.move_to(State::Disabled, Reason::Disabled);
    }

    /// Back to Closed with its counters cleared. Calls in flight from before the reset are
    /// counted in the totals but move no state.
    pub fn reset(&self) {
        self.move_to(State::Closed, Reason::Reset);
    }

    fn move_to(&self, tag: State, reason: Reason) {
        let mut w = self.load();
        loop {
            // Forcing or disabling twice changes nothing; a reset always starts a new period.
            if w.tag() == tag && tag != State::Closed {
                return;
            }
            let epoch = w.next_epoch();
            let target = match tag {
                State::ForcedOpen => Word::forced_open(epoch),
                State::Disabled => Word::disabled(epoch),
                _ => Word::closed(epoch, 0),
            };
            match self.transition(w, target, reason) {
                Ok(()) => return,
                Err(actual) => w = actual,
            }
        }
    }
}
