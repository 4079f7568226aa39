//! Why a fallback runs: the breaker rejected the call, the call failed, or its key was
//! refused.

use crate::breaker::error::{CallTimedOut, CircuitError, CircuitOpen};
use crate::KeyError;

/// Why a fallback runs, given to a `#[circuit_breaker]` fallback that takes it as its last
/// argument: the breaker rejected the call (it did not run), the call ran and failed with an
/// error that counted against the service, or (with the attribute's `key = ...`) the call's key
/// was refused and it ran through no breaker. Excluded and ignored errors never reach a
/// fallback.
///
/// The reason owns what it carries: the error is not returned to the caller once a fallback
/// answers, so the fallback may keep it, log it or return it; and an `async fn` fallback can
/// hold it across its awaits, which a borrowed reason would not allow.
///
/// ```
/// use circuit_core::{circuit_breaker, CircuitOpen, FallbackReason};
///
/// #[derive(Debug, PartialEq)]
/// enum AppError { Unavailable, Backend(String) }
/// impl From<CircuitOpen> for AppError {
///     fn from(_: CircuitOpen) -> Self { AppError::Unavailable }
/// }
///
/// #[circuit_breaker(failure_threshold = 1, fallback = cached_price)]
/// fn price(item: u32) -> Result<u32, AppError> {
///     Err(AppError::Backend("connection refused".into()))
/// }
///
/// fn cached_price(item: u32, why: FallbackReason<AppError>) -> Result<u32, AppError> {
///     match why {
///         FallbackReason::Rejected(_) => Ok(100 + item),
///         // Answer with the last known price, or pass the failure on.
///         FallbackReason::Failed(error) if item == 0 => Err(error),
///         _ => Ok(item),
///     }
/// }
///
/// assert_eq!(price(7), Ok(7)); // failed: the breaker opens
/// assert_eq!(price(7), Ok(107)); // rejected
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FallbackReason<E> {
    /// The breaker rejected the call; it did not run.
    Rejected(CircuitOpen),
    /// The call ran and failed with this error, counted against the service.
    Failed(E),
    /// The call ran past the attribute's `timeout` and was cancelled (counted as a failure).
    TimedOut(CallTimedOut),
    /// The attribute's `key = ...` gave a key its set of per-key breakers refuses (an empty
    /// one): the call did not run, and no breaker counted it.
    KeyRefused(KeyError),
}

impl<E> FallbackReason<E> {
    /// Whether the breaker rejected the call.
    pub fn is_rejected(&self) -> bool {
        matches!(self, FallbackReason::Rejected(_))
    }

    /// The rejection, if the breaker rejected the call.
    pub fn rejection(&self) -> Option<&CircuitOpen> {
        match self {
            FallbackReason::Rejected(open) => Some(open),
            _ => None,
        }
    }

    /// The call's error, if it ran and failed.
    pub fn error(&self) -> Option<&E> {
        match self {
            FallbackReason::Failed(error) => Some(error),
            _ => None,
        }
    }

    /// The call's error, if it ran and failed.
    pub fn into_error(self) -> Option<E> {
        match self {
            FallbackReason::Failed(error) => Some(error),
            _ => None,
        }
    }

    /// The refused key's error, if the attribute's `key = ...` gave one its set refuses.
    pub fn key_error(&self) -> Option<&KeyError> {
        match self {
            FallbackReason::KeyRefused(error) => Some(error),
            _ => None,
        }
    }
}

impl<E> From<CircuitError<E>> for FallbackReason<E> {
    /// `Open` is a rejection, `Inner` a failure, `Timeout` a timeout.
    #[inline]
    fn from(error: CircuitError<E>) -> Self {
        match error {
            CircuitError::Open(open) => FallbackReason::Rejected(open),
            CircuitError::Inner(error) => FallbackReason::Failed(error),
            CircuitError::Timeout(timed_out) => FallbackReason::TimedOut(timed_out),
        }
    }
}
