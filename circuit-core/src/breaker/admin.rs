//! Administration: forcing open, disabling, resetting and reconfiguring a live breaker.

use crate::breaker::word::Word;
use crate::config::Config;
use crate::events::Reason;
use crate::{CircuitBreaker, State};

impl CircuitBreaker {
    /// Applies a new configuration to the live breaker. Thresholds apply to the next decision;
    /// the current state is kept. If the clock changes while the breaker is Open, its Open
    /// period restarts on the new clock (a deadline on one clock means nothing on another).
    pub fn reconfigure(&self, config: Config) {
        let mut held = self.config.lock();
        self.store_limits(&config);
        if self.clock.replace(config.clock.clone()) {
            let mut w = self.load();
            while w.tag() == State::Open {
                match self.swap_in_open(w, w.epoch()) {
                    Ok(_) => break,
                    Err(actual) => w = actual,
                }
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
