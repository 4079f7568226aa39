//! Administration: forcing open, disabling, resetting and reconfiguring a live breaker.

use crate::breaker::backoff;
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
    /// - Open, when the new settings shorten the period (a lower `recovery_timeout`, a lower
    ///   backoff), with more time left than the longest period the new settings give it: the
    ///   Open period restarts on the new settings, so that `retry_after` stays the truth. A
    ///   period a `Retry-After` lengthened is shortened this way too (an operator's order);
    ///   settings that do not shorten the period leave it alone;
    /// - a new clock while Open: the Open period restarts on the new clock, for the period the
    ///   new settings give it (a deadline on one clock means nothing on another); while
    ///   HalfOpen, its
    ///   [`half_open_max_wait`](Config::half_open_max_wait) restarts on the new clock.
    ///
    /// Any other HalfOpen period still decides under the new limits: `build()` keeps
    /// `success_threshold` at most `half_open_max_calls`, so the trials in flight and the free
    /// slots can always bring in the successes still needed, and a failure reopens it.
    pub fn reconfigure(&self, config: Config) {
        self.reconfigure_shared(std::sync::Arc::new(config));
    }

    /// [`reconfigure`](Self::reconfigure) with a configuration other breakers may share: a
    /// keyed set gives all its breakers its one template, so an idle breaker stays small.
    pub(crate) fn reconfigure_shared(&self, config: std::sync::Arc<Config>) {
        let mut held = self.config.lock();
        self.store_limits(&config);
        self.window_reconfigured(&config);
        self.window.set_call_limits(&config);
        self.window.set_durations(config.record_call_durations());
        let new_clock = self.clock.replace(config.clock.clone());
        let mut w = self.publish_limits();
        loop {
            let result = match w.tag() {
                State::Open => {
                    let k = self.periods.load().reopenings_of(w.epoch()).unwrap_or(0);
                    let (timeout, backoff) = (config.recovery_timeout, config.backoff());
                    let longest = backoff::longest_period(timeout, &backoff, k);
                    let shortened = longest
                        < backoff::longest_period(held.recovery_timeout, &held.backoff(), k);
                    let restart = new_clock || (shortened && self.open_outlasts(w, longest));
                    if !restart {
                        break;
                    }
                    let unit = if backoff::jitter_ratio(&backoff) > 0.0 {
                        backoff::unit_draw()
                    } else {
                        0.0
                    };
                    let period = backoff::jittered_period(timeout, &backoff, k, unit);
                    self.restart_open(w, k, period)
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
        *held = config;
    }

    /// Rejects every call until [`reset`](Self::reset).
    pub fn force_open(&self) {
        self.move_to(State::ForcedOpen, Reason::ForcedOpen);
    }

    /// Lets every call through and records nothing, until [`reset`](Self::reset).
    pub fn disable(&self) {
        self.move_to(State::Disabled, Reason::Disabled);
    }

    /// Metrics-only mode, for rolling a breaker out safely: while on, the breaker counts,
    /// decides and moves through its states as usual, and its listeners and `tracing` hear
    /// every transition (marked [`Transition::metrics_only`](crate::Transition::metrics_only):
    /// "would have opened"), but it rejects nothing. A call it would have rejected (Open, or
    /// HalfOpen with every trial slot taken) runs and is counted in
    /// [`Snapshot::would_reject`](crate::Snapshot::would_reject); its outcome is counted in the
    /// totals and moves no state. Once the Open period has passed, trial calls decide as usual.
    ///
    /// [`force_open`](Self::force_open) still rejects: it is an operator's explicit order.
    /// The mode outlasts [`reset`](Self::reset), [`disable`](Self::disable) and
    /// `reconfigure`; turning it off leaves the breaker in the state it reached, an Open one
    /// then rejecting.
    pub fn set_metrics_only(&self, on: bool) {
        self.periods.set_metrics_only(on);
    }

    /// Whether the breaker is in metrics-only mode (see
    /// [`set_metrics_only`](Self::set_metrics_only)).
    pub fn is_metrics_only(&self) -> bool {
        self.periods.load().metrics_only()
    }

    /// Back to Closed with its counters cleared (the next Open period is `recovery_timeout`
    /// again, whatever the backoff had reached). Calls in flight from before the reset are
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
