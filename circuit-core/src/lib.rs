//! A fast, lock-free circuit breaker, with a process-wide registry of named breakers.
//!
//! ```
//! use circuit_core::{registry, CircuitError, Config, State};
//! use std::time::Duration;
//!
//! let config = Config::builder()
//!     .failure_threshold(3)
//!     .recovery_timeout(Duration::from_secs(30))
//!     .build()?;
//! let users = registry().get_or_create("user-service", config);
//!
//! // Three consecutive failures open the breaker...
//! for _ in 0..3 {
//!     let _ = users.call(|| Err::<(), _>("connection refused"));
//! }
//! assert_eq!(registry().state("user-service"), Some(State::Open));
//!
//! // ...and calls then fail fast, without running, until the recovery timeout has passed.
//! match users.call(|| Ok::<_, &str>("never runs")) {
//!     Err(CircuitError::Open(open)) => assert!(open.retry_after().is_some()),
//!     other => panic!("expected a rejection, got {other:?}"),
//! }
//! # Ok::<(), circuit_core::ConfigError>(())
//! ```
//!
//! # How a breaker behaves
//!
//! - **Closed**: calls run. A failure adds one to the consecutive failures, a success clears
//!   them; at `failure_threshold` the breaker opens. The call that trips it returns its own
//!   error; the calls after it are rejected.
//! - **Which rules trip it**: those configured. With no rate setting, consecutive failures
//!   (default 5). A failure-rate rule ([`failure_rate_threshold`](ConfigBuilder::failure_rate_threshold)
//!   over a [`SlidingWindow`]) or a slow-call rule
//!   ([`slow_call_rate_threshold`](ConfigBuilder::slow_call_rate_threshold), which needs
//!   [`slow_call_duration`](ConfigBuilder::slow_call_duration)) replaces the consecutive rule
//!   unless `failure_threshold` is set explicitly; then any configured rule trips it. A rate
//!   trips once the window holds at least `minimum_calls` calls and failed (or slow) calls /
//!   calls reaches the threshold. A call is slow if it takes at least `slow_call_duration`,
//!   succeeding or failing, timed on the breaker's clock (to one tick of the coarse system
//!   clock); `slow_call_duration` alone reports the slow rate without tripping anything.
//!   Ignored outcomes and rejections are not calls. A time window covers between 0.9 and 1.0
//!   of its period (ten buckets). Each Closed period, and `reset`, starts an empty window.
//! - **Open**: calls are rejected with [`CircuitOpen`], whose `retry_after` is the time left.
//!   Once `recovery_timeout` has passed the breaker reads HalfOpen and the next call is a trial.
//! - **HalfOpen**: at most `half_open_max_calls` trial calls run. `success_threshold`
//!   successes close the breaker; any failure opens it again. Under a slow-call rule, a slow
//!   trial is a failed trial.
//! - **Open periods**: the first lasts `recovery_timeout`; each consecutive re-opening lasts
//!   as the [`Backoff`] says (constant by default, or `recovery_timeout * multiplier^k` up to
//!   `max`), spread upward by its jitter to at most `(1 + jitter)` times that. A close or a
//!   `reset` starts again from `recovery_timeout`.
//! - **Outcomes** ([`Outcome`], reported on a [`Permit`] or by `call_with`'s classifier, which
//!   may also answer a `bool`): `Success`, `Failure`, `Excluded` (an error the service
//!   answered with: a success, also counted in [`Snapshot::excluded`]), `Ignored` (counted,
//!   moving no state, giving its trial slot back) and `OpenFor(D)`, a failure that opens the
//!   breaker at once, whatever the thresholds, for the longer of `D` and its own period (a
//!   `Retry-After`). See [which errors count](#which-errors-count).
//! - A panic counts as a failure and keeps unwinding. A result that arrives after the breaker
//!   changed state is counted in the totals but moves no state.
//! - **Slow async calls**: with a [`timeout`](ConfigBuilder::timeout) (feature `tokio`), an
//!   async call still waiting that long is cancelled, counted as a failure and returned as
//!   [`CircuitError::Timeout`] (a sync call cannot be cancelled and is never cut short). A
//!   future dropped before it finishes (an abandoned call) is counted in
//!   [`Snapshot::abandoned`] and gives its trial slot back; with
//!   [`abandoned_call_duration`](ConfigBuilder::abandoned_call_duration), one dropped after
//!   waiting at least that long counts as a failure, so clients that give up on a slow
//!   dependency can trip its breaker.
//! - [`force_open`](CircuitBreaker::force_open) rejects everything and
//!   [`disable`](CircuitBreaker::disable) lets everything through, until
//!   [`reset`](CircuitBreaker::reset).
//! - **Metrics-only** ([`set_metrics_only`](CircuitBreaker::set_metrics_only)): the breaker
//!   counts and moves through its states as usual, its transitions marked "would have"
//!   ([`Transition::metrics_only`]), but rejects nothing: a call it would have rejected runs,
//!   is counted in [`Snapshot::would_reject`] and moves no state. `force_open` still rejects.
//! - **Call durations** (opt-in,
//!   [`record_call_durations`](ConfigBuilder::record_call_durations)): each call admitted is
//!   timed on the precise clock from admission to its outcome (an async call from its first
//!   poll) into a histogram of fixed buckets, 1 ms to 10 s, by outcome:
//!   [`CircuitBreaker::durations`], [`Snapshot::durations`], and with feature `prometheus`
//!   `circuit_breaker_call_duration_seconds`. See [`report::DurationHistogram`].
//!
//! # Which errors count
//!
//! Every error is a failure unless a classifier says otherwise. The classifiers, and what
//! their answers mean:
//!
//! | where | answers | meaning |
//! |---|---|---|
//! | [`call_with`](CircuitBreaker::call_with), [`call_async_with`](CircuitBreaker::call_async_with) | `bool` | `true`: **a failure**; `false`: a success |
//! | the same, or [`Permit::report`] | [`Outcome`] | the outcome |
//! | [`#[circuit_breaker(classify = f)]`](circuit_breaker) | [`Outcome`] | the outcome (a `bool` is refused) |
//! | [`#[circuit_breaker(exclude = pred)]`](circuit_breaker) | `bool` | `true`: **not** a failure, the service answered ([`Outcome::Excluded`]) |
//! | [`#[circuit_breaker(ignore = pred)]`](circuit_breaker) | `bool` | `true`: says nothing about the service ([`Outcome::Ignored`]) |
//!
//! `call_with`'s `bool` and `exclude` have opposite polarities: a predicate moved from one to
//! the other inverts the breaker. An [`Outcome`] says what it means, so prefer one where the
//! two meet.
//!
//! # A breaker per key
//!
//! For one breaker per host, tenant or route, a [`KeyedBreakers`] set makes them on first use
//! from a template configuration, bounded in number ([`KeyedLimits`]) and dropped when idle,
//! outside the registry's named breakers so that reports do not grow with keys. Get one with
//! [`Registry::keyed`], or let the attribute do it: `key = expr` runs each call through the
//! breaker of its key, from a set named by the attribute's `name` and configured by its other
//! keys, and the function's handle is the set. An empty key is refused ([`KeyError`]) and runs
//! through no breaker: the function returns `Err(E::from(key_error))`, or its fallback answers.
//!
//! ```
//! use circuit_core::{circuit_breaker, CircuitOpen, KeyError, State};
//!
//! #[derive(Debug, PartialEq)]
//! enum ApiError { Unavailable, NoTenant, Backend }
//! impl From<CircuitOpen> for ApiError { fn from(_: CircuitOpen) -> Self { ApiError::Unavailable } }
//! impl From<KeyError> for ApiError { fn from(_: KeyError) -> Self { ApiError::NoTenant } }
//!
//! #[circuit_breaker(name = "tenants", key = tenant, failure_threshold = 1, max_keys = 10_000)]
//! fn report(tenant: &str) -> Result<u32, ApiError> {
//!     if tenant == "acme" { Err(ApiError::Backend) } else { Ok(7) }
//! }
//!
//! assert_eq!(report("acme"), Err(ApiError::Backend)); // acme's breaker opens
//! assert_eq!(report("acme"), Err(ApiError::Unavailable));
//! assert_eq!(report("initech"), Ok(7)); // the other tenants are served
//! assert_eq!(report(""), Err(ApiError::NoTenant));
//! assert_eq!(report::breakers().peek("acme").unwrap().state(), State::Open);
//! ```
//!
//! # Cost
//!
//! The whole state machine is one atomic word. A call on a Closed breaker is one atomic load
//! before and one after, with totals counted on a stripe that only the calling thread writes:
//! no lock, no allocation, no shared write. A rejection reads a coarse clock (a few
//! nanoseconds), not the precise one, except within one clock tick of the deadline. A breaker
//! that records call durations also reads the precise clock twice per call admitted and
//! counts its bucket on the calling thread's own stripe, still without a shared write.
//!
//! # Where things are
//!
//! The crate root holds what most code needs: [`circuit_breaker`] (the attribute),
//! [`registry()`], [`Registry`], [`CircuitBreaker`], [`Config`] and its [`ConfigBuilder`],
//! [`State`], [`Outcome`], the errors [`CircuitError`], [`CircuitOpen`], [`CallTimedOut`] and
//! [`ConfigError`], [`FallbackReason`] (why an attribute's fallback runs), [`Snapshot`],
//! [`Transition`], [`Permit`] and [`FallbackCache`], and the breakers per key
//! [`KeyedBreakers`], [`KeyedLimits`] and [`KeyError`]. The rest has a module each:
//!
//! - [`config`]: where configuration comes from. [`config::EnvConfig`] (environment
//!   variables), `config::FileConfig` (files, feature `serde`), the partial
//!   [`config::Settings`] both produce, and the limits [`config::MAX_HALF_OPEN_CALLS`] and
//!   [`config::MAX_RECOVERY_TIMEOUT`].
//! - [`report`]: what the breakers report. [`report::Snapshot`], the health report
//!   ([`report::HealthReport`], [`report::BreakerHealth`]), the call-duration histogram
//!   ([`report::DurationHistogram`], its buckets [`report::DURATION_BUCKETS`]) and, with
//!   feature `prometheus`, the `report::prometheus` collector (also at
//!   `circuit_core::prometheus`).
//! - [`clock`]: the [`Clock`](clock::Clock) trait, the system clock and the
//!   [`ManualClock`](clock::ManualClock) for tests.
//! - [`fallback_cache`]: [`FallbackCache`] and its defaults.
//! - `fleet` (feature `redis`): the instances of a service share what their breakers learn
//!   through Redis (transitions, a quorum, one trial call for the fleet), with no network call
//!   on any call path.
//!
//! # Observing and configuring
//!
//! - Every transition is a `tracing` event (feature `tracing`, on by default): WARN when
//!   calls start being rejected, INFO when they flow again. Nothing is logged per call.
//! - `report::prometheus::RegistryCollector` (feature `prometheus`) reads the registry at
//!   scrape time: `circuit_breaker_state`, `circuit_breaker_in_state`,
//!   `circuit_breaker_failures_total`, `circuit_breaker_calls_total`,
//!   `circuit_breaker_failure_rate`, `circuit_breaker_slow_call_rate`, and the histogram
//!   `circuit_breaker_call_duration_seconds` for breakers that record call durations.
//! - [`Registry::health_report`]: per breaker state, consecutive failures, health, last
//!   failure, retry-after and the failure and slow-call rates; JSON with feature `serde`.
//! - [`config::EnvConfig`]: `CIRCUIT_<NAME>_FAILURE_THRESHOLD` and the like, or a prefix of your
//!   choice (`DB_CIRCUIT_BREAKER_*`); every bad value reported at once, none applied.
//! - `config::FileConfig` (feature `serde`, `toml` for TOML): shared sections and per-breaker
//!   instances; errors carry the path, line and column of the value.
//! - [`Registry::force_open`], [`Registry::disable`], [`Registry::reset`] by name, for an
//!   admin endpoint.
//!
//! # Tests
//!
//! Give a breaker a [`clock::ManualClock`] and move time yourself: no test needs to sleep.

#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// One folder per concern; each folder's first lines say what it holds.
mod breaker; // one breaker: state word, admission, outcomes, permits, calls, totals, names
pub mod clock; // time: the clock trait, system and manual clocks, a breaker's swappable clock
pub mod config; // Config and its sources: settings, environment, files, the value grammar
mod events; // transitions, their ordered delivery to listeners, tracing
pub mod fallback_cache; // the last good result per key
mod macro_support; // what #[circuit_breaker] expands to call; reached only through __private
mod registry; // named breakers, declarations from the attribute, administration by name
pub mod report; // snapshot, health report, Prometheus
mod sync; // std or loom primitives, so the same code is model-checked

pub use breaker::error::{CallTimedOut, CircuitError, CircuitOpen};
pub use breaker::fallback::FallbackReason;
pub use breaker::outcome::Outcome;
pub use breaker::permit::Permit;
pub use breaker::state::State;
pub use breaker::CircuitBreaker;
#[doc = include_str!("macro_support/attribute.md")]
pub use circuit_macros::circuit_breaker;
pub use config::{Backoff, Config, ConfigBuilder, ConfigError, SlidingWindow};
pub use events::{Reason, Transition};
pub use fallback_cache::FallbackCache;
pub use registry::{registry, KeyError, KeyedBreakers, KeyedLimits, Registry, UnknownBreaker};
pub use report::Snapshot;

#[cfg(feature = "prometheus")]
#[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
pub use report::prometheus;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod fleet; // the instances of a service share their breakers' transitions through Redis
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub mod reqwest;
#[cfg(feature = "sqlx")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlx")))]
pub mod sqlx;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower; // breakers as tower middleware: a layer per breaker, a layer per request key // a reqwest-middleware middleware: a breaker per service or host, last good responses // which sqlx errors are the database failing, and which its answers // a rejection as a 503 response; health and metrics handlers

/// What the `#[circuit_breaker]` expansion names. Not public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::config::{Setting, Value};
    pub use crate::macro_support::*;
    pub use crate::registry::declarations::Declaration;
    pub use inventory;
}
