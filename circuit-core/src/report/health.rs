//! A health report of every breaker in a registry: the design's status report, ready to
//! serve as JSON from a health endpoint (feature `serde`).

use crate::{CircuitBreaker, Registry, State};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// The health of every breaker of a registry, by name. See [`Registry::health_report`].
///
/// With the `serde` feature it serializes as:
///
/// ```json
/// {
///   "all_healthy": false,
///   "breakers": {
///     "database": {
///       "state": "open",
///       "consecutive_failures": 0,
///       "healthy": false,
///       "last_failure": "2024-05-01T12:00:00.123Z",
///       "retry_after_ms": 42000,
///       "failure_rate": 0.62,
///       "slow_call_rate": null
///     }
///   }
/// }
/// ```
///
/// `state` is one of `closed`, `open`, `half_open`, `forced_open`, `disabled`;
/// `last_failure` is UTC, RFC 3339, to the millisecond, or `null`; `retry_after_ms` is `null`
/// unless the breaker is Open; `failure_rate` and `slow_call_rate` are ratios in [0, 1] over
/// the breaker's sliding window, `null` when that rule is not configured (calls not timed) or
/// the window holds fewer than `minimum_calls` calls (see
/// [`CircuitBreaker::failure_rate`]).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct HealthReport {
    /// Whether every breaker is healthy (true for a registry without breakers).
    pub all_healthy: bool,
    /// Each breaker's health, sorted by name.
    pub breakers: BTreeMap<String, BreakerHealth>,
}

/// The health of one breaker.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct BreakerHealth {
    /// Its state.
    pub state: State,
    /// Consecutive failures while Closed (0 in other states).
    pub consecutive_failures: u32,
    /// Whether calls go through normally: Closed, or Disabled by an operator
    /// ([`State::is_healthy`]).
    pub healthy: bool,
    /// When the last counted failure happened.
    #[cfg_attr(feature = "serde", serde(serialize_with = "json::rfc3339"))]
    pub last_failure: Option<SystemTime>,
    /// While Open, the time left until a trial call is let through.
    #[cfg_attr(
        feature = "serde",
        serde(rename = "retry_after_ms", serialize_with = "json::millis")
    )]
    pub retry_after: Option<Duration>,
    /// The failure rate over the sliding window ([`CircuitBreaker::failure_rate`]).
    pub failure_rate: Option<f64>,
    /// The slow-call rate over the sliding window ([`CircuitBreaker::slow_call_rate`]).
    pub slow_call_rate: Option<f64>,
}

impl BreakerHealth {
    /// The health of `breaker` now.
    pub fn of(breaker: &CircuitBreaker) -> Self {
        let snapshot = breaker.snapshot();
        let rates = breaker.window_rates();
        BreakerHealth {
            state: snapshot.state,
            consecutive_failures: snapshot.failure_count,
            healthy: snapshot.state.is_healthy(),
            last_failure: snapshot.last_failure,
            retry_after: breaker.retry_after(),
            failure_rate: rates.failure,
            slow_call_rate: rates.slow,
        }
    }
}

impl Registry {
    /// The health of every breaker, read now. Reading it may move an Open breaker whose
    /// recovery timeout has passed to HalfOpen, as [`CircuitBreaker::state`] does.
    ///
    /// ```
    /// use circuit_core::{Config, Registry, State};
    ///
    /// let registry = Registry::new();
    /// let db = registry.get_or_create("database", Config::builder().failure_threshold(1).build()?);
    /// let _ = db.call(|| Err::<(), _>("connection refused"));
    ///
    /// let report = registry.health_report();
    /// assert!(!report.all_healthy);
    /// assert_eq!(report.breakers["database"].state, State::Open);
    /// assert!(report.breakers["database"].retry_after.is_some());
    /// # Ok::<(), circuit_core::ConfigError>(())
    /// ```
    pub fn health_report(&self) -> HealthReport {
        let breakers: BTreeMap<String, BreakerHealth> = self
            .all()
            .iter()
            .map(|b| (b.name().to_owned(), BreakerHealth::of(b)))
            .collect();
        HealthReport {
            all_healthy: breakers.values().all(|b| b.healthy),
            breakers,
        }
    }
}

#[cfg(feature = "serde")]
mod json {
    //! How times look in the JSON: what a person reading a health endpoint can use directly.

    use serde::Serializer;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    pub(super) fn rfc3339<S: Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.collect_str(&format_rfc3339(*t)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn millis<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    /// `2024-05-01T12:00:00.123Z`. Times before 1970 (which a breaker never stamps) read as
    /// the epoch.
    pub(super) fn format_rfc3339(t: SystemTime) -> String {
        let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since.as_secs();
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
            rem / 3600,
            rem / 60 % 60,
            rem % 60,
            since.subsec_millis()
        )
    }

    /// Year, month, day of the `days`-th day after 1970-01-01, in the proleptic Gregorian
    /// calendar (Howard Hinnant's `civil_from_days`, for days on or after the epoch).
    fn civil_from_days(days: u64) -> (u64, u64, u64) {
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + u64::from(m <= 2);
        (y, m, d)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn at(secs: u64, millis: u64) -> String {
            format_rfc3339(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis))
        }

        #[test]
        fn known_instants() {
            assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
            assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.005Z"); // a leap day
            assert_eq!(at(1_714_564_800, 123), "2024-05-01T12:00:00.123Z");
            assert_eq!(at(4_102_444_799, 999), "2099-12-31T23:59:59.999Z");
        }
    }
}
