//! Prometheus metrics of a registry's breakers (feature `prometheus`), with the official
//! `prometheus-client` crate.
//!
//! A [`RegistryCollector`] reads every breaker's state and totals when Prometheus scrapes,
//! so the call path does no metrics work beyond the totals it keeps anyway.
//!
//! ```
//! use prometheus_client::encoding::text::encode;
//!
//! let mut metrics = prometheus_client::registry::Registry::default();
//! circuit_core::prometheus::register(&mut metrics, circuit_core::registry());
//!
//! // In the `/metrics` handler:
//! let mut body = String::new();
//! encode(&mut body, &metrics)?;
//! assert!(body.contains("# TYPE circuit_breaker_state gauge"));
//! # Ok::<(), std::fmt::Error>(())
//! ```
//!
//! # Metrics
//!
//! | metric | type | labels | value |
//! |---|---|---|---|
//! | `circuit_breaker_state` | gauge | `name` | 0 closed, 1 half-open, 2 open |
//! | `circuit_breaker_in_state` | gauge | `name`, `state` | 1 for the current state, 0 for the other four |
//! | `circuit_breaker_failures_total` | counter | `name` | failed calls (panics included) |
//! | `circuit_breaker_calls_total` | counter | `name`, `result` | calls by `result`: `success`, `failure`, `fallback`, `rejected`, `ignored`, `slow`, `would_reject`, `timeout`, `abandoned`, `excluded` |
//! | `circuit_breaker_failure_rate` | gauge | `name` | failed / calls over the sliding window, 0 to 1 |
//! | `circuit_breaker_slow_call_rate` | gauge | `name` | slow / calls over the sliding window, 0 to 1 |
//! | `circuit_breaker_call_duration_seconds` | histogram | `name`, `result` | how long calls took, by `result`: `success`, `failure`, `excluded`, `ignored` (`_bucket{le}`, `_sum`, `_count`); only for breakers with `record_call_durations` |
//!
//! `circuit_breaker_state` keeps the design's three values, by what callers meet:
//! **ForcedOpen reads 2** (it rejects every call, as Open does) and **Disabled reads 0** (it
//! lets every call through, as Closed does), so an alert on `circuit_breaker_state == 2`
//! fires for both kinds of rejection. `circuit_breaker_in_state` tells the five states apart
//! (`state` is `closed`, `open`, `half_open`, `forced_open` or `disabled`).
//!
//! A `fallback` call was first a `failure` or `rejected` one, a `slow` call a `success` or
//! a `failure` one, and an `excluded` call (an error the service answered with, reported as
//! [`Outcome::Excluded`](crate::Outcome::Excluded): the attribute's `exclude`) a `success`
//! one, so the `result`s overlap: sum `success`, `failure`, `rejected` and
//! `ignored` for the calls made. A Disabled breaker counts nothing. `would_reject` counts the
//! calls a metrics-only breaker let through that it would have rejected; they also count as
//! `success` or `failure` by how they went. A `timeout` call (cancelled after `timeout`) is
//! also a `failure`; an `abandoned` call (an async call its caller dropped unfinished) is
//! also a `failure` when it had waited at least `abandoned_call_duration`, and otherwise
//! counts under no other result.
//!
//! The two rate gauges are **absent**, not NaN, for a breaker whose rule is not configured
//! (`failure_rate_threshold`; `slow_call_duration` for the slow rate) or whose window holds
//! fewer than `minimum_calls` calls: a rate of a handful of calls means nothing yet, absence is
//! how Prometheus says "no value" (`absent()` finds it), and a NaN would turn every `sum` or
//! `avg` taken across instances into NaN. Rates are read at scrape time, like the rest; see
//! [`CircuitBreaker::failure_rate`](crate::CircuitBreaker::failure_rate).
//! The counters are totals since the breaker was created, which [`reset`](crate::CircuitBreaker::reset)
//! does not clear.
//!
//! `circuit_breaker_call_duration_seconds` is a histogram of fixed buckets
//! ([`DURATION_BUCKETS`]: 1 ms to 10 s, then `+Inf`),
//! present only for the breakers that record call durations
//! ([`record_call_durations`](crate::Config::record_call_durations)), one series per `result`
//! (see [`DurationHistogram`](crate::report::DurationHistogram) for which calls each counts;
//! they do not overlap, so the four `_count`s add up to the calls timed). A breaker whose
//! recording is turned off drops out of the family, and comes back with its counts, not from
//! zero, if it is turned on again. The family's `# TYPE` line is written even when no breaker
//! records.

/// The `prometheus-client` this collector is built for (0.25): register the collector in a
/// `prometheus_client::registry::Registry` of this very version, or types will not match.
pub use prometheus_client;

use crate::breaker::window::Rates;
use crate::report::{CallDurations, DURATION_BUCKETS};
use crate::{Registry, Snapshot, State};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use std::fmt;
use std::ops::Deref;

/// A `prometheus-client` [`Collector`] over a [`Registry`]: `&'static Registry` (such as
/// [`registry()`](crate::registry())) or `Arc<Registry>`.
#[derive(Debug)]
pub struct RegistryCollector<R = &'static Registry> {
    registry: R,
}

impl<R> RegistryCollector<R>
where
    R: Deref<Target = Registry> + fmt::Debug + Send + Sync + 'static,
{
    /// A collector reading `registry` at each scrape.
    pub fn new(registry: R) -> Self {
        RegistryCollector { registry }
    }
}

/// Registers a [`RegistryCollector`] over `registry` with `metrics`.
pub fn register<R>(metrics: &mut prometheus_client::registry::Registry, registry: R)
where
    R: Deref<Target = Registry> + fmt::Debug + Send + Sync + 'static,
{
    metrics.register_collector(Box::new(RegistryCollector::new(registry)));
}

/// The value of `circuit_breaker_state`: 0 while calls flow ([`State::is_healthy`]), 1 while
/// trial calls probe the service, 2 while calls are rejected.
pub fn state_value(state: State) -> i64 {
    if state.is_healthy() {
        0
    } else if state == State::HalfOpen {
        1
    } else {
        2
    }
}

impl<R> Collector for RegistryCollector<R>
where
    R: Deref<Target = Registry> + fmt::Debug + Send + Sync + 'static,
{
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let mut breakers = self.registry.all();
        breakers.sort_by(|a, b| a.name().cmp(b.name()));
        let snapshots: Vec<Snapshot> = breakers.iter().map(|b| b.snapshot()).collect();

        let mut family = encoder.encode_descriptor(
            "circuit_breaker_state",
            "Circuit breaker state (0=closed or disabled, 1=half-open, 2=open or forced open)",
            None,
            prometheus_client::metrics::MetricType::Gauge,
        )?;
        for s in &snapshots {
            let labels = [("name", s.name.as_str())];
            ConstGauge::new(state_value(s.state)).encode(family.encode_family(&labels)?)?;
        }

        let mut family = encoder.encode_descriptor(
            "circuit_breaker_in_state",
            "1 if the circuit breaker is in this state, else 0",
            None,
            prometheus_client::metrics::MetricType::Gauge,
        )?;
        for s in &snapshots {
            for state in State::ALL {
                let labels = [("name", s.name.as_str()), ("state", state.as_str())];
                let value = i64::from(s.state == state);
                ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
            }
        }

        // The text encoder appends `_total` to counters' names.
        let mut family = encoder.encode_descriptor(
            "circuit_breaker_failures",
            "Total circuit breaker failures",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        for s in &snapshots {
            let labels = [("name", s.name.as_str())];
            ConstCounter::new(s.failures).encode(family.encode_family(&labels)?)?;
        }

        let mut family = encoder.encode_descriptor(
            "circuit_breaker_calls",
            "Total circuit breaker calls by result (a fallback also counts as a failure or a rejection)",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        for s in &snapshots {
            for (result, value) in results(s) {
                let labels = [("name", s.name.as_str()), ("result", result)];
                ConstCounter::new(value).encode(family.encode_family(&labels)?)?;
            }
        }

        // Read after the snapshots: a rate is of the window as it stands at the scrape.
        let rates: Vec<_> = breakers.iter().map(|b| b.window_rates()).collect();
        let gauges: [(&str, &str, RateOf); 2] = [
            (
                "circuit_breaker_failure_rate",
                "Failed calls / calls over the circuit breaker's sliding window (absent below minimum_calls)",
                |r| r.failure,
            ),
            (
                "circuit_breaker_slow_call_rate",
                "Slow calls / calls over the circuit breaker's sliding window (absent below minimum_calls)",
                |r| r.slow,
            ),
        ];
        for (metric, help, rate) in gauges {
            let mut family = encoder.encode_descriptor(
                metric,
                help,
                None,
                prometheus_client::metrics::MetricType::Gauge,
            )?;
            for (s, r) in snapshots.iter().zip(&rates) {
                if let Some(value) = rate(r) {
                    let labels = [("name", s.name.as_str())];
                    ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
                }
            }
        }

        let mut family = encoder.encode_descriptor(
            "circuit_breaker_call_duration",
            "How long circuit breaker calls took, from admission to outcome, by result (breakers with record_call_durations)",
            Some(&prometheus_client::registry::Unit::Seconds),
            prometheus_client::metrics::MetricType::Histogram,
        )?;
        for s in &snapshots {
            let Some(durations) = &s.durations else {
                continue;
            };
            for (result, calls) in durations.by_result() {
                let labels = [("name", s.name.as_str()), ("result", result)];
                ConstHistogram(calls).encode(family.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

/// One outcome's call durations, as a Prometheus histogram read at scrape time.
struct ConstHistogram<'a>(&'a CallDurations);

impl EncodeMetric for ConstHistogram<'_> {
    fn encode(&self, mut encoder: MetricEncoder) -> fmt::Result {
        // Per bucket, not cumulative: the encoder adds them up, ending at `+Inf`.
        let bounds = DURATION_BUCKETS
            .iter()
            .map(|b| b.as_secs_f64())
            .chain([f64::INFINITY]);
        let buckets: Vec<(f64, u64)> = bounds.zip(self.0.counts().iter().copied()).collect();
        encoder.encode_histogram::<NoLabelSet>(
            self.0.sum().as_secs_f64(),
            self.0.count(),
            &buckets,
            None,
        )
    }

    fn metric_type(&self) -> prometheus_client::metrics::MetricType {
        prometheus_client::metrics::MetricType::Histogram
    }
}

/// Which of a breaker's rates a gauge shows.
type RateOf = fn(&Rates) -> Option<f64>;

fn results(s: &Snapshot) -> [(&'static str, u64); 10] {
    [
        ("success", s.successes),
        ("failure", s.failures),
        ("fallback", s.fallbacks),
        ("rejected", s.rejected),
        ("ignored", s.ignored),
        ("slow", s.slow),
        ("would_reject", s.would_reject),
        ("timeout", s.timeouts),
        ("abandoned", s.abandoned),
        ("excluded", s.excluded),
    ]
}
