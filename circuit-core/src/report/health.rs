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
///   "condition": "rejecting",
///   "breakers": {
///     "database": {
///       "state": "open",
///       "condition": "rejecting",
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
/// `state` is one of `closed`, `open`, `half_open`, `forced_open`, `disabled`; `condition` one
/// of `serving`, `probing`, `rejecting` (see [`Condition`], and the report's own condition,
/// the worst of its breakers');
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
    /// The worst of the breakers' conditions: `Rejecting` if any rejects, else `Probing` if
    /// any probes, else `Serving` (also for a registry without breakers).
    pub condition: Condition,
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
    /// What it does to calls now: serving, probing or rejecting ([`State::condition`]).
    pub condition: Condition,
    /// Consecutive failures while Closed (0 in other states).
    pub consecutive_failures: u32,
    /// Whether calls go through normally: Closed, or Disabled by an operator
    /// ([`State::is_healthy`]). False while HalfOpen too: wire [`condition`](Self::condition),
    /// not this, to a readiness probe (see [`Condition`]).
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

/// What a breaker does to calls now, by what a probe or an alert needs to know. Ordered from
/// best to worst, so the worst of several is their `max`.
///
/// | condition | states | calls |
/// |---|---|---|
/// | `Serving` | Closed, Disabled | go through |
/// | `Probing` | HalfOpen | a few trial calls go through; their success closes the breaker |
/// | `Rejecting` | Open, ForcedOpen | rejected at once |
///
/// # Which to wire where
///
/// - **Liveness**: none. A breaker in any condition says the dependency is failing, not this
///   process; restarting it fixes nothing and loses its breakers' state. Serve
///   [`health_report`](Registry::health_report) with status 200 whatever it says (as
///   `circuit_core::axum::health` does).
/// - **Readiness**: never `Probing`, and never `healthy == false` (which includes it). A
///   HalfOpen breaker closes only when trial calls succeed; a pod taken out of traffic while
///   HalfOpen gets no calls, so nothing ever closes it. If an instance truly cannot serve
///   anything without one dependency, `Rejecting` on that dependency's breaker is safe: an Open
///   breaker reads HalfOpen (Probing) once its recovery timeout has passed, even when nothing
///   calls it (reading the report moves it), so the instance becomes ready again and takes the
///   traffic whose trials close the breaker. A `ForcedOpen` breaker stays Rejecting until an
///   operator changes it.
/// - **Alerts**: `Rejecting` for longer than a few recovery timeouts (or, in Prometheus,
///   `circuit_breaker_state == 2`), and `Probing` that keeps returning to `Rejecting`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Condition {
    /// Calls go through: Closed, or Disabled by an operator.
    Serving,
    /// A few trial calls go through: HalfOpen.
    Probing,
    /// Calls are rejected: Open, or ForcedOpen by an operator.
    Rejecting,
}

impl Condition {
    /// `"serving"`, `"probing"` or `"rejecting"`, as the JSON has it.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Serving => "serving",
            Condition::Probing => "probing",
            Condition::Rejecting => "rejecting",
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl State {
    /// What a breaker in this state does to calls; see [`Condition`] for which to wire to
    /// liveness, readiness and alerts.
    pub fn condition(self) -> Condition {
        match self {
            State::Closed | State::Disabled => Condition::Serving,
            State::HalfOpen => Condition::Probing,
            State::Open | State::ForcedOpen => Condition::Rejecting,
        }
    }
}

impl BreakerHealth {
    /// The health of `breaker` now.
    pub fn of(breaker: &CircuitBreaker) -> Self {
        let snapshot = breaker.snapshot();
        let rates = breaker.window_rates();
        BreakerHealth {
            state: snapshot.state,
            condition: snapshot.state.condition(),
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
            condition: breakers
                .values()
                .map(|b| b.condition)
                .max()
                .unwrap_or(Condition::Serving),
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
