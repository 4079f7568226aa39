//! What listeners hear: one [`Transition`] per change of a breaker's state, with its
//! [`Reason`], delivered each exactly once and in order ([`delivery`]), and one `tracing`
//! event per transition ([`trace`], feature `tracing`).

pub(crate) mod delivery;
#[cfg(feature = "tracing")]
pub(crate) mod trace;

use crate::State;
use std::fmt;
use std::time::Duration;

/// One change of a breaker's state, as listeners see it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transition {
    /// The breaker's name.
    pub name: String,
    /// The state it left.
    pub from: State,
    /// The state it entered.
    pub to: State,
    /// Why it changed.
    pub reason: Reason,
    /// The breaker was in metrics-only mode (see
    /// [`set_metrics_only`](crate::CircuitBreaker::set_metrics_only)): the change is real in
    /// its state and its reports, but it rejects nothing, so an Open here says "would have
    /// opened".
    pub metrics_only: bool,
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} -> {} {}",
            self.name, self.from, self.to, self.reason
        )?;
        if self.metrics_only {
            f.write_str(" (metrics only: no call is rejected)")?;
        }
        Ok(())
    }
}

/// Why a breaker changed state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// Closed to Open: this many consecutive failures reached `failure_threshold`.
    FailureThreshold(u32),
    /// Closed to Open: the failure rate over the sliding window, `failures / calls`, reached
    /// `failure_rate_threshold`, with at least `minimum_calls` calls in the window.
    FailureRate {
        /// Failed calls in the window.
        failures: u32,
        /// Calls in the window.
        calls: u32,
    },
    /// Closed to Open: the slow-call rate over the sliding window, `slow / calls`, reached
    /// `slow_call_rate_threshold`, with at least `minimum_calls` calls in the window.
    SlowCallRate {
        /// Calls in the window that took at least `slow_call_duration`.
        slow: u32,
        /// Calls in the window.
        calls: u32,
    },
    /// Open to HalfOpen: the recovery timeout passed.
    RecoveryTimeout,
    /// HalfOpen to Open: a trial call failed.
    TrialFailed,
    /// HalfOpen to Open: every trial slot was taken and no trial decided the period within
    /// [`half_open_max_wait`](crate::Config::half_open_max_wait) (trials that never report,
    /// or report too late).
    HalfOpenMaxWait,
    /// HalfOpen to Closed: this many trial calls succeeded.
    TrialsSucceeded(u32),
    /// [`force_open`](crate::CircuitBreaker::force_open) was called.
    ForcedOpen,
    /// [`disable`](crate::CircuitBreaker::disable) was called.
    Disabled,
    /// [`reset`](crate::CircuitBreaker::reset) was called.
    Reset,
    /// Closed or HalfOpen to Open: a call's outcome was
    /// [`Outcome::OpenFor`](crate::Outcome::OpenFor) (a `Retry-After`), asking for at least
    /// this long.
    RetryAfter(Duration),
    /// Moved by the fleet (feature `redis`, `circuit_core::fleet`): to Open because enough
    /// other instances have it open (the quorum), or to Closed because the fleet's trial call,
    /// sent by another instance, succeeded.
    Fleet,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::FailureThreshold(1) => f.write_str("after a failure"),
            Reason::FailureThreshold(n) => write!(f, "after {n} consecutive failures"),
            Reason::FailureRate { failures, calls } => {
                write!(f, "after {failures} failures in {calls} calls")
            }
            Reason::SlowCallRate { slow, calls } => {
                write!(f, "after {slow} slow calls in {calls} calls")
            }
            Reason::RecoveryTimeout => f.write_str("after the recovery timeout"),
            Reason::TrialFailed => f.write_str("after a trial call failed"),
            Reason::HalfOpenMaxWait => f.write_str("after no trial call decided in time"),
            Reason::TrialsSucceeded(1) => f.write_str("after a successful trial call"),
            Reason::TrialsSucceeded(n) => write!(f, "after {n} successful trial calls"),
            Reason::ForcedOpen => f.write_str("by force_open"),
            Reason::Disabled => f.write_str("by disable"),
            Reason::Reset => f.write_str("by reset"),
            Reason::Fleet => f.write_str("by the fleet"),
            Reason::RetryAfter(d) => write!(
                f,
                "for at least {:.3}s, as the service asked",
                d.as_secs_f64()
            ),
        }
    }
}
