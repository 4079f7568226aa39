//! A breaker's state and counters at one moment.

use crate::report::DurationHistogram;
use crate::State;
use std::time::SystemTime;

/// What [`CircuitBreaker::snapshot`](crate::CircuitBreaker::snapshot) saw: the design's
/// `get_state()`, plus totals since the breaker was created.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Snapshot {
    /// The breaker's name.
    pub name: String,
    /// Its state.
    pub state: State,
    /// Consecutive failures while Closed (0 in other states).
    pub failure_count: u32,
    /// Successful trial calls in the current HalfOpen period (0 in other states).
    pub success_count: u32,
    /// When the last counted failure happened: to the scheduler tick (a few milliseconds) on
    /// the system clock, exact on a custom clock.
    pub last_failure: Option<SystemTime>,
    /// Calls that succeeded, excluded errors included (see `excluded`).
    pub successes: u64,
    /// Calls that failed (panics, timeouts and abandoned calls that count as failures
    /// included).
    pub failures: u64,
    /// Calls rejected without running.
    pub rejected: u64,
    /// Calls answered by a fallback.
    pub fallbacks: u64,
    /// Calls whose outcome was reported as ignored: they moved no state.
    pub ignored: u64,
    /// Calls a metrics-only breaker let through that it would have rejected (see
    /// [`set_metrics_only`](crate::CircuitBreaker::set_metrics_only)); they are not in
    /// `rejected`.
    pub would_reject: u64,
    /// Calls that took at least `slow_call_duration`, successes and failures alike (each also
    /// counted in `successes` or `failures`); 0 when calls are not timed.
    pub slow: u64,
    /// Async calls cancelled because they ran past `timeout` (each also counted in
    /// `failures`); 0 without a timeout.
    pub timeouts: u64,
    /// Async calls whose caller dropped them before they finished (a client that gave up, a
    /// `select!` that took another branch). Those that had waited at least
    /// `abandoned_call_duration` are also counted in `failures`; the others count nowhere
    /// else.
    pub abandoned: u64,
    /// Calls that returned an error reported as excluded ([`Outcome::Excluded`](crate::Outcome),
    /// the attribute's `exclude`): the service answered. Each is also counted in `successes`.
    pub excluded: u64,
    /// How long the calls took, by outcome, for a breaker that records call durations
    /// ([`record_call_durations`](crate::Config::record_call_durations)); `None` for one that
    /// does not. See [`CircuitBreaker::durations`](crate::CircuitBreaker::durations).
    pub durations: Option<DurationHistogram>,
}
