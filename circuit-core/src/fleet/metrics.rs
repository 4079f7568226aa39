//! The fleet's metrics (features `redis` and `prometheus`), read at scrape time like the
//! registry's.
//!
//! | metric | type | value |
//! |---|---|---|
//! | `circuit_breaker_fleet_connected` | gauge | 1 while the task is connected to Redis and subscribed, else 0 |
//! | `circuit_breaker_fleet_dropped_total` | counter | transitions dropped because the task fell behind |
//! | `circuit_breaker_fleet_ignored_total` | counter | messages ignored: malformed, foreign, or past a bound |

use super::{Fleet, Shared};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// A `prometheus-client` [`Collector`] of one [`Fleet`]'s metrics; from
/// [`Fleet::collector`]. It outlives the fleet harmlessly (it then reads 0 connected).
#[derive(Debug, Clone)]
pub struct FleetCollector {
    shared: Arc<Shared>,
}

impl Fleet {
    /// The fleet's metrics, to register with
    /// `metrics.register_collector(Box::new(fleet.collector()))`.
    pub fn collector(&self) -> FleetCollector {
        FleetCollector {
            shared: self.shared.clone(),
        }
    }
}

impl Collector for FleetCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let connected = i64::from(self.shared.connected.load(Ordering::Relaxed));
        ConstGauge::new(connected).encode(encoder.encode_descriptor(
            "circuit_breaker_fleet_connected",
            "1 while the fleet's task is connected to Redis, else 0 (breakers then work alone)",
            None,
            MetricType::Gauge,
        )?)?;
        // The text encoder appends `_total` to counters' names.
        ConstCounter::new(self.shared.outbox.dropped()).encode(encoder.encode_descriptor(
            "circuit_breaker_fleet_dropped",
            "Transitions the fleet's task dropped because it fell behind",
            None,
            MetricType::Counter,
        )?)?;
        ConstCounter::new(self.shared.ignored.load(Ordering::Relaxed)).encode(
            encoder.encode_descriptor(
                "circuit_breaker_fleet_ignored",
                "Fleet messages ignored: malformed, foreign, or past a bound",
                None,
                MetricType::Counter,
            )?,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;

    #[test]
    fn reads_connected_and_the_counters() {
        let shared = Arc::new(Shared::default());
        let collector = FleetCollector {
            shared: shared.clone(),
        };
        let mut metrics = prometheus_client::registry::Registry::default();
        metrics.register_collector(Box::new(collector));
        let mut body = String::new();
        encode(&mut body, &metrics).unwrap();
        assert!(body.contains("circuit_breaker_fleet_connected 0"), "{body}");
        shared.connected.store(true, Ordering::Relaxed);
        shared.ignored.fetch_add(2, Ordering::Relaxed);
        let mut body = String::new();
        encode(&mut body, &metrics).unwrap();
        assert!(body.contains("circuit_breaker_fleet_connected 1"), "{body}");
        assert!(
            body.contains("circuit_breaker_fleet_ignored_total 2"),
            "{body}"
        );
        assert!(
            body.contains("circuit_breaker_fleet_dropped_total 0"),
            "{body}"
        );
    }
}
