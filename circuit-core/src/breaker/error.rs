//! What a protected call returns when it did not run, or ran and failed.

use crate::breaker::name::Name;
use crate::clock::saturating_nanos;
use crate::State;
use std::fmt;
use std::time::Duration;

/// The breaker rejected the call without running it.
///
/// Cheap to make and to copy: it is returned on every rejected call. Convert it into your own
/// error type with a `From<CircuitOpen>` impl (the `#[circuit_breaker]` attribute requires one).
///
/// It is two words (16 bytes), so `Result<T, CircuitError<E>>` stays small: the name is a
/// thin pointer to the breaker's name, and the state shares a word with `retry_after`. Making
/// or cloning one never allocates. For a per-key breaker
/// ([`KeyedBreakers`](crate::KeyedBreakers)) it holds a reference to the name, which
/// is freed once the breaker and every `CircuitOpen` of it are gone.
#[derive(Clone, PartialEq, Eq)]
pub struct CircuitOpen {
    name: Name,
    /// Low bits: the state's code ([`State::code`]); the rest: `retry_after` in nanoseconds
    /// plus one, 0 for none. `retry_after` is at most `MAX_RECOVERY_TIMEOUT` (about 2^55 ns),
    /// well within the 61 bits left.
    packed: u64,
}

const STATE_BITS: u32 = State::CODE_BITS;

impl CircuitOpen {
    pub(crate) fn new(name: Name, state: State, retry_after: Option<Duration>) -> Self {
        Self::pack(name, state, retry_after.map(saturating_nanos))
    }

    /// A rejection by an Open breaker, `retry_nanos` before its trial: the rejection path's
    /// constructor, with no `Duration` arithmetic.
    #[inline]
    pub(crate) fn open_for(name: Name, retry_nanos: u64) -> Self {
        Self::pack(name, State::Open, Some(retry_nanos))
    }

    #[inline(always)]
    fn pack(name: Name, state: State, retry_nanos: Option<u64>) -> Self {
        let retry = retry_nanos.map_or(0, |n| n.saturating_add(1).min(u64::MAX >> STATE_BITS));
        CircuitOpen {
            name,
            packed: retry << STATE_BITS | state.code(),
        }
    }

    /// The name of the breaker that rejected the call.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// How long to wait before trying again. While Open, the time until the breaker lets a
    /// trial call through (waiting exactly that long finds it HalfOpen). While HalfOpen with
    /// every trial slot taken, a hint: until the trials in flight must have decided the period
    /// (`half_open_max_wait` from its start), at most a recovery timeout and at least a
    /// millisecond; they usually decide sooner. So a 503 can always carry a `Retry-After`.
    /// `None` only when forced open by an operator, which no time undoes.
    pub fn retry_after(&self) -> Option<Duration> {
        let retry = self.packed >> STATE_BITS;
        (retry != 0).then(|| Duration::from_nanos(retry - 1))
    }

    /// The state the breaker was in: `Open`, `HalfOpen` (no trial slot free) or `ForcedOpen`.
    pub fn state(&self) -> State {
        State::from_code(self.packed)
    }
}

impl fmt::Debug for CircuitOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitOpen")
            .field("name", &self.name())
            .field("state", &self.state())
            .field("retry_after", &self.retry_after())
            .finish()
    }
}

impl fmt::Display for CircuitOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "circuit breaker \"{}\" ", self.name())?;
        match (self.state(), self.retry_after()) {
            (State::HalfOpen, _) => f.write_str("is half-open and all its trial calls are taken"),
            (State::ForcedOpen, _) => f.write_str("is forced open"),
            (_, Some(after)) => write!(f, "is open; retry in {:.3}s", after.as_secs_f64()),
            (_, None) => f.write_str("is open"),
        }
    }
}

impl std::error::Error for CircuitOpen {}

/// An async call ran past its breaker's `timeout` and was cancelled (its future dropped). It
/// counted as a failure.
///
/// Convert it into your own error type with a `From<CallTimedOut>` impl: the
/// `#[circuit_breaker]` attribute requires one on a function with the `timeout` key, as it
/// requires `From<CircuitOpen>`. Two words (16 bytes); making or cloning one never
/// allocates.
#[derive(Clone, PartialEq, Eq)]
pub struct CallTimedOut {
    name: Name,
    /// In nanoseconds: a `Duration` would take a third word.
    timeout_ns: u64,
}

impl CallTimedOut {
    // Made only by the timer of feature `tokio`.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn new(name: Name, timeout_ns: u64) -> Self {
        CallTimedOut { name, timeout_ns }
    }

    /// The name of the breaker whose timeout cut the call short.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// The timeout the call ran past.
    pub fn timeout(&self) -> Duration {
        Duration::from_nanos(self.timeout_ns)
    }
}

impl fmt::Debug for CallTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallTimedOut")
            .field("name", &self.name())
            .field("timeout", &self.timeout())
            .finish()
    }
}

impl fmt::Display for CallTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "call through circuit breaker \"{}\" timed out after {:.3}s",
            self.name(),
            self.timeout().as_secs_f64()
        )
    }
}

impl std::error::Error for CallTimedOut {}

/// The result of a call through a breaker that did not succeed.
///
/// `Timeout` joined `Open` and `Inner` with the `timeout` setting: only async calls on a
/// breaker with a `timeout` (and the `tokio` feature) return it, but a `match` must name it.
#[derive(Debug, thiserror::Error)]
pub enum CircuitError<E> {
    /// The breaker rejected the call; it did not run.
    #[error(transparent)]
    Open(#[from] CircuitOpen),
    /// The call ran and returned this error.
    #[error(transparent)]
    Inner(E),
    /// The call ran past the breaker's `timeout` and was cancelled; it counted as a failure.
    #[error(transparent)]
    Timeout(#[from] CallTimedOut),
}

impl<E> CircuitError<E> {
    /// Whether the breaker rejected the call.
    pub fn is_open(&self) -> bool {
        matches!(self, CircuitError::Open(_))
    }

    /// Whether the call ran past the breaker's `timeout` and was cancelled.
    pub fn is_timeout(&self) -> bool {
        matches!(self, CircuitError::Timeout(_))
    }

    /// The call's own error, if it ran and returned one.
    pub fn into_inner(self) -> Option<E> {
        match self {
            CircuitError::Inner(e) => Some(e),
            CircuitError::Open(_) | CircuitError::Timeout(_) => None,
        }
    }

    /// Collapses every case into the call's error type, which knows how to hold a rejection
    /// and a timeout.
    pub fn flatten(self) -> E
    where
        E: From<CircuitOpen> + From<CallTimedOut>,
    {
        match self {
            CircuitError::Inner(e) => e,
            CircuitError::Open(open) => E::from(open),
            CircuitError::Timeout(timed_out) => E::from(timed_out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_words_that_round_trip_state_and_retry_after() {
        assert_eq!(std::mem::size_of::<CircuitOpen>(), 16);
        let name = crate::breaker::name::intern("error-test");
        for state in [State::Open, State::HalfOpen, State::ForcedOpen] {
            for retry in [
                None,
                Some(Duration::ZERO),
                Some(Duration::new(59, 999_999_999)),
            ] {
                let open = CircuitOpen::new(name.clone(), state, retry);
                assert_eq!(
                    (open.name(), open.state(), open.retry_after()),
                    ("error-test", state, retry)
                );
            }
        }
        let fast = CircuitOpen::open_for(name.clone(), 1_500_000_000);
        assert_eq!(
            fast,
            CircuitOpen::new(name.clone(), State::Open, Some(Duration::from_millis(1500)))
        );
        assert_eq!(std::mem::size_of::<CallTimedOut>(), 16);
        let longest = crate::config::MAX_RECOVERY_TIMEOUT;
        assert_eq!(
            CircuitOpen::new(name, State::Open, Some(longest)).retry_after(),
            Some(longest)
        );
    }
}
