//! The states a breaker can be in.

use std::fmt;

/// The state of a circuit breaker.
// The discriminants are the states' one numeric code: the state word's tag and the state bits of
// a `CircuitOpen` (both through `code`/`from_code`). Other crates cannot cast a non-exhaustive
// enum, so the numbers are not part of the public API.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Calls run; consecutive failures are counted.
    Closed = 0,
    /// Calls are rejected until the recovery timeout has passed.
    Open = 1,
    /// A limited number of trial calls run to probe whether the service has recovered.
    HalfOpen = 2,
    /// Every call is rejected until [`reset`](crate::CircuitBreaker::reset).
    ForcedOpen = 3,
    /// Every call runs and nothing is recorded, until [`reset`](crate::CircuitBreaker::reset).
    Disabled = 4,
}

impl State {
    /// Every state, in the order of their codes.
    #[cfg(any(test, feature = "prometheus"))]
    pub(crate) const ALL: [State; 5] = [
        State::Closed,
        State::Open,
        State::HalfOpen,
        State::ForcedOpen,
        State::Disabled,
    ];

    /// Bits a state's code takes.
    pub(crate) const CODE_BITS: u32 = 3;

    /// The state's code, below `1 << CODE_BITS`.
    #[inline(always)]
    pub(crate) const fn code(self) -> u64 {
        self as u64
    }

    /// The state whose code is in the low [`CODE_BITS`](Self::CODE_BITS) of `bits`; the
    /// higher bits are ignored. Bits that are no state's code (never written) read as Disabled.
    #[inline(always)]
    pub(crate) const fn from_code(bits: u64) -> State {
        match bits & ((1 << Self::CODE_BITS) - 1) {
            0 => State::Closed,
            1 => State::Open,
            2 => State::HalfOpen,
            3 => State::ForcedOpen,
            _ => State::Disabled,
        }
    }

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

    /// Whether calls are being let through normally (`Closed` or `Disabled`). A HalfOpen
    /// breaker is not healthy yet needs calls to close: do not take an instance out of traffic
    /// on this; see [`condition`](Self::condition) and
    /// [`report::Condition`](crate::report::Condition).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_round_trips_through_its_code() {
        for (i, state) in State::ALL.into_iter().enumerate() {
            assert_eq!(state.code(), i as u64);
            assert!(state.code() < 1 << State::CODE_BITS);
            assert_eq!(State::from_code(state.code()), state);
            assert_eq!(
                State::from_code(state.code() | 0b1000),
                state,
                "high bits ignored"
            );
        }
    }
}
