//! What a breaker tells of itself: its state, a snapshot, the time left while Open, its last
//! failure, and listeners to its transitions.

use crate::breaker::totals::Total;
use crate::breaker::word::Word;
use crate::events::{Reason, Transition};
use crate::report::Snapshot;
use crate::sync::Ordering;
use crate::{CircuitBreaker, State};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

impl CircuitBreaker {
    /// The current state. An Open breaker whose recovery timeout has passed moves to HalfOpen
    /// here (listeners hear of it), so what this returns is what the next call will meet.
    ///
    /// Likewise a HalfOpen period whose trial slots are all taken and that has gone
    /// [`half_open_max_wait`](crate::Config::half_open_max_wait) undecided opens here.
    pub fn state(&self) -> State {
        let mut w = self.load();
        loop {
            match w.tag() {
                State::Open => {
                    if self.open_time_left(w).is_some() {
                        return State::Open;
                    }
                    let half_open = Word::half_open(w.next_epoch(), 0, 0);
                    match self.transition(w, half_open, Reason::RecoveryTimeout) {
                        Ok(()) => {
                            self.half_open_began(half_open);
                            return State::HalfOpen;
                        }
                        Err(actual) => w = actual,
                    }
                }
                State::HalfOpen => match self.end_outwaited_half_open(w) {
                    Some(after) => w = after,
                    None => return State::HalfOpen,
                },
                tag => return tag,
            }
        }
    }

    /// The breaker's counters and state at this moment.
    pub fn snapshot(&self) -> Snapshot {
        let state = self.state();
        let w = self.load();
        Snapshot {
            name: self.name().to_owned(),
            state,
            failure_count: if w.tag() == State::Closed {
                u32::try_from(w.failures()).unwrap_or(u32::MAX)
            } else {
                0
            },
            success_count: if w.tag() == State::HalfOpen {
                w.successes()
            } else {
                0
            },
            last_failure: self.last_failure(),
            successes: self.totals.get(Total::Successes),
            failures: self.totals.get(Total::Failures),
            rejected: self.totals.get(Total::Rejected),
            fallbacks: self.totals.get(Total::Fallbacks),
            ignored: self.totals.get(Total::Ignored),
            would_reject: self.totals.get(Total::WouldReject),
            slow: self.totals.get(Total::Slow),
            timeouts: self.totals.get(Total::Timeouts),
            abandoned: self.totals.get(Total::Abandoned),
            excluded: self.totals.get(Total::Excluded),
            durations: self.durations(),
        }
    }

    /// When an Open breaker lets its next trial call through, from now; `None` unless Open.
    /// Waiting that long finds the breaker HalfOpen.
    pub fn retry_after(&self) -> Option<Duration> {
        let w = self.load();
        if w.tag() != State::Open {
            return None;
        }
        Some(self.open_time_left(w).unwrap_or_default())
    }

    /// When the last counted failure happened (see [`Snapshot::last_failure`]).
    pub fn last_failure(&self) -> Option<SystemTime> {
        let last = self.last_failure.load(Ordering::Relaxed);
        (last != 0).then(|| UNIX_EPOCH + Duration::from_nanos(last))
    }

    /// Calls `listener` after every change of state, outside every lock, in the order of the
    /// changes. It may read or change the breaker; if it panics, the breaker and the other
    /// listeners carry on.
    pub fn on_state_change(&self, listener: impl Fn(&Transition) + Send + Sync + 'static) {
        self.events.subscribe(std::sync::Arc::new(listener));
    }

    /// The breaker, whose transitions a registry's listeners hear too, through `forwarder`
    /// (see `SharedListeners`).
    pub(crate) fn heard_by(
        mut self,
        forwarder: std::sync::Arc<Vec<crate::events::delivery::Listener>>,
    ) -> Self {
        self.events.share_with(forwarder);
        self
    }
}
