//! One `tracing` event per state transition (feature `tracing`, on by default).
//!
//! The event is emitted where transitions are handed to listeners ([`crate::events`]), so it
//! costs nothing on a call that changes no state: no per-call hook, no check, no field
//! formatting. Events come out in the order of the transitions, like listener calls.
//!
//! Levels follow what the new state means for the callers:
//!
//! | to         | level | why                                                    |
//! |------------|-------|--------------------------------------------------------|
//! | Open       | WARN  | calls are now rejected                                 |
//! | ForcedOpen | WARN  | calls are now rejected, by an operator                 |
//! | Disabled   | WARN  | the breaker no longer protects anything                |
//! | HalfOpen   | INFO  | trial calls probe the service                          |
//! | Closed     | INFO  | the service is back (or an operator reset the breaker) |
//!
//! A metrics-only breaker's transitions are INFO whatever the state (it rejects nothing: its
//! Open means "would have opened"), and their message says so.

use crate::{State, Transition};

/// Emits the event for `transition`. Target `circuit_core::trace`; fields `breaker`, `from`,
/// `to`, `reason`, `metrics_only`, and the transition's Display as the message
/// (`user-service: closed -> open after 3 consecutive failures`, with
/// ` (metrics only: no call is rejected)` after it in metrics-only mode).
pub(crate) fn transition(t: &Transition) {
    // `tracing` wants the level as a constant per call site, hence two call sites.
    if warns(t.to) && !t.metrics_only {
        tracing::warn!(
            breaker = %t.name, from = %t.from, to = %t.to, reason = %t.reason,
            metrics_only = t.metrics_only, "{t}"
        );
    } else {
        tracing::info!(
            breaker = %t.name, from = %t.from, to = %t.to, reason = %t.reason,
            metrics_only = t.metrics_only, "{t}"
        );
    }
}

/// Whether entering `to` deserves a warning: every state in which the breaker stops letting
/// calls through normally, or stops protecting them.
fn warns(to: State) -> bool {
    matches!(to, State::Open | State::ForcedOpen | State::Disabled)
}
