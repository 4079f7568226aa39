//! Reports on breakers: one breaker's [`Snapshot`], a registry's [`HealthReport`], the
//! call-duration histogram of a breaker that records one ([`DurationHistogram`]), and
//! Prometheus metrics read at scrape time ([`prometheus`], feature
//! `prometheus`).

mod durations;
mod health;
#[cfg(feature = "prometheus")]
#[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
pub mod prometheus;
mod snapshot;

pub use durations::{CallDurations, DurationHistogram, DURATION_BUCKETS, DURATION_BUCKET_COUNT};
pub use health::{BreakerHealth, Condition, HealthReport};
pub use snapshot::Snapshot;
