//! What a protected call returns when it did not run, or ran and failed.

use crate::State;
use std::fmt;
use std::time::Duration;

/// The breaker rejected the call without running it.
///
/// Cheap to make and to copy: it is returned on every rejected call. Convert it into your own
/// error type with a `From<CircuitOpen>` impl (the `#[circuit_breaker]` attribute requires one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CircuitOpen {
    pub(crate) name: &'static str,
    pub(crate) state: State,
    pub(crate) retry_after: Option<Duration>,
}

impl CircuitOpen {
    /// The name of the breaker that rejected the call.
    pub fn name(&self) -> &str {
        self.name
    }

    /// How long until the breaker lets a trial call through: `Some` while Open, `None` when
    /// it is forced open or its half-open trial slots are taken.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The state the breaker was in: `Open`, `HalfOpen` (no trial slot free) or `ForcedOpen`.
    pub fn state(&self) -> State {
        self.state
    }
}

impl fmt::Display for CircuitOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "circuit breaker \"{}\" ", self.name)?;
        match (self.state, self.retry_after) {
            (State::HalfOpen, _) => f.write_str("is half-open and all its trial calls are taken"),
            (State::ForcedOpen, _) => f.write_str("is forced open"),
            (_, Some(after)) => write!(f, "is open; retry in {:.3}s", after.as_secs_f64()),
            (_, None) => f.write_str("is open"),
        }
    }
}

impl std::error::Error for CircuitOpen {}

/// The result of a call through a breaker that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum CircuitError<E> {
    /// The breaker rejected the call; it did not run.
    #[error(transparent)]
    Open(#[from] CircuitOpen),
    /// The call ran and returned this error.
    #[error(transparent)]
    Inner(E),
}

impl<E> CircuitError<E> {
    /// Whether the breaker rejected the call.
    pub fn is_open(&self) -> bool {
        matches!(self, CircuitError::Open(_))
    }

    /// The call's own error, if it ran.
    pub fn into_inner(self) -> Option<E> {
        match self {
            CircuitError::Inner(e) => Some(e),
            CircuitError::Open(_) => None,
        }
    }

    /// Collapses both cases into the call's error type, which knows how to hold a rejection.
    pub fn flatten(self) -> E
    where
        E: From<CircuitOpen>,
    {
        match self {
            CircuitError::Inner(e) => e,
            CircuitError::Open(open) => E::from(open),
        }
    }
}
