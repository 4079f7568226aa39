//! What a finished call means for its breaker: [`Outcome`], and the one outcome that carries a
//! duration, "failure, open for D".

use crate::breaker::durations::Class;
use crate::breaker::totals::Total;
use crate::breaker::window::Started;
use crate::breaker::word::Word;
use crate::config::MAX_RECOVERY_TIMEOUT;
use crate::events::Reason;
use crate::{CircuitBreaker, State};
use std::time::Duration;

/// How a finished call counts, as a classifier or a [`Permit`](crate::Permit) reports it.
///
/// A classifier given to [`call_with`](CircuitBreaker::call_with) may answer a `bool` instead
/// (`true` is a failure): `From<bool>` turns it into `Failure` or `Success`.
///
/// ```
/// use circuit_core::{CircuitBreaker, Config, Outcome, State};
/// use std::time::Duration;
///
/// let breaker = CircuitBreaker::new("quotes", Config::default());
/// // A 429 that says to come back in 30 s opens the breaker at once, for at least 30 s.
/// let r: Result<(), _> = breaker.call_with(
///     || Err(429),
///     |status| match status {
///         429 | 503 => Outcome::OpenFor(Duration::from_secs(30)),
///         404 => Outcome::Excluded, // the service answered: not its failure
///         _ => Outcome::Failure,
///     },
/// );
/// assert!(r.is_err());
/// assert_eq!(breaker.state(), State::Open);
/// assert!(breaker.retry_after().unwrap() > Duration::from_secs(29));
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The service answered: clears the consecutive failures, counts toward closing a
    /// half-open breaker.
    Success,
    /// An error that is not the service's failure (a 404, a constraint violation: the service
    /// answered): counted as a success in every way, and also in
    /// [`Snapshot::excluded`](crate::Snapshot::excluded), so that metrics can tell these
    /// errors from plain successes. What the attribute's `exclude` key reports.
    Excluded,
    /// The service is failing: counts toward opening the breaker.
    Failure,
    /// Says nothing about the service (a call the client itself gave up on, a request refused
    /// before it was sent): counted as ignored and nowhere else. It moves no state (consecutive
    /// failures stay, a half-open period gains no success) and gives back its half-open trial
    /// slot.
    Ignored,
    /// A failure that also says how long the service wants to be left alone (a `Retry-After`
    /// on a 429 or a 503): counted as a failure, it opens the breaker at once, from Closed or
    /// HalfOpen and whatever the thresholds, for the longer of this duration and the breaker's
    /// own next Open period (see [`Backoff`](crate::Backoff)); at most
    /// [`MAX_RECOVERY_TIMEOUT`](crate::config::MAX_RECOVERY_TIMEOUT). Listeners hear
    /// [`Reason::RetryAfter`]. Like any outcome, it moves no state if the breaker has changed
    /// state since the call was admitted.
    OpenFor(Duration),
}

impl Outcome {
    /// Whether the outcome counts as a failure (`Failure` or `OpenFor`): the outcomes after
    /// which the attribute's fallback runs.
    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Failure | Outcome::OpenFor(_))
    }
}

impl From<bool> for Outcome {
    /// `true` is a failure, `false` a success: the meaning of `call_with`'s `bool` classifier.
    #[inline(always)]
    fn from(is_failure: bool) -> Self {
        if is_failure {
            Outcome::Failure
        } else {
            Outcome::Success
        }
    }
}

impl CircuitBreaker {
    /// "Failure, open for `at_least`": counted as a failure; if the breaker is still in the
    /// period the call was admitted under, Closed or HalfOpen, it opens now for
    /// `max(at_least, its own period)`.
    #[cold]
    pub(crate) fn on_open_for(&self, admitted: Word, started: Started, at_least: Duration) {
        if admitted.tag() == State::Disabled {
            return;
        }
        self.totals.add(Total::Failures);
        self.record_duration_now(Class::Failure, started);
        self.stamp_failure();
        let at_least = at_least.min(MAX_RECOVERY_TIMEOUT);
        let mut w = self.load();
        while admitted.same_period(w) && matches!(w.tag(), State::Closed | State::HalfOpen) {
            match self.open_at_least(w, at_least, Reason::RetryAfter(at_least)) {
                Ok(()) => return,
                Err(actual) => w = actual,
            }
        }
    }
}
