//! The states a breaker can be in.

use std::fmt;

/// The state of a circuit breaker.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Calls run; consecutive failures are counted.
    Closed,
    /// Calls are rejected until the recovery timeout has passed.
    Open,
    /// A limited number of trial calls run to probe whether the service has recovered.
    HalfOpen,
    /// Every call is rejected until [`reset`](crate::CircuitBreaker::reset).
    ForcedOpen,
    /// Every call runs and nothing is recorded, until [`reset`](crate::CircuitBreaker::reset).
    Disabled,
}

impl State {
    /// The lowercase name used in logs and metrics: `closed`, `open`, `half_open`,
    /// `forced_open`, `disabled`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half_open",
            State::ForcedOpen => "forced_open",
            State::Disabled => "disabled",
        }
    }

    /// Whether calls are being let through normally (`Closed` or `Disabled`).
    pub fn is_healthy(self) -> bool {
        matches!(self, State::Closed | State::Disabled)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Serialized as [`State::as_str`]: `"closed"`, `"half_open"`, ...
#[cfg(feature = "serde")]
impl serde::Serialize for State {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
