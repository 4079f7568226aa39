//! The health report: the status of every breaker, and its JSON shape.

use circuit_core::clock::{Clock, ManualClock};
use circuit_core::{Config, Registry, State};
use serde_json::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A manual clock whose wall time starts at a known instant, so `last_failure` is exact.
#[derive(Clone, Debug)]
struct KnownWall(ManualClock);

/// 2024-05-01T12:00:00Z.
const START: u64 = 1_714_564_800;

impl Clock for KnownWall {
    fn now(&self) -> Duration {
        self.0.now()
    }
    fn system_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(START) + self.0.now()
    }
}

fn setup() -> (Registry, ManualClock) {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let config = Config::builder()
        .failure_threshold(3)
        .recovery_timeout(Duration::from_secs(30))
        .clock(KnownWall(clock.clone()))
        .build()
        .unwrap();
    let db = registry.get_or_create("database", config.clone());
    let users = registry.get_or_create("user-service", config.clone());
    registry.get_or_create("idle", config);

    clock.advance(Duration::from_millis(1_500));
    let _ = users.call(|| Err::<(), _>("timeout"));
    let _ = users.call(|| Err::<(), _>("timeout"));
    for _ in 0..3 {
        let _ = db.call(|| Err::<(), _>("connection refused"));
    }
    clock.advance(Duration::from_secs(10));
    (registry, clock)
}

#[test]
fn the_report_has_state_failures_health_last_failure_and_retry_after() {
    let (registry, _clock) = setup();
    let report = registry.health_report();
    assert!(!report.all_healthy);
    let db = &report.breakers["database"];
    assert_eq!(
        (db.state, db.consecutive_failures, db.healthy),
        (State::Open, 0, false)
    );
    assert_eq!(db.retry_after, Some(Duration::from_secs(20)));
    let users = &report.breakers["user-service"];
    assert_eq!(
        (
            users.state,
            users.consecutive_failures,
            users.healthy,
            users.retry_after
        ),
        (State::Closed, 2, true, None)
    );
    assert_eq!(
        users.last_failure,
        Some(UNIX_EPOCH + Duration::from_millis(START * 1000 + 1_500))
    );
    assert_eq!(report.breakers["idle"].last_failure, None);
    assert_eq!(
        report.breakers.keys().collect::<Vec<_>>(),
        ["database", "idle", "user-service"]
    );
}

#[test]
fn the_report_serializes_to_the_documented_json() {
    let (registry, _clock) = setup();
    let value = serde_json::to_value(registry.health_report()).unwrap();
    assert_eq!(
        value,
        json!({
            "all_healthy": false,
            "condition": "rejecting",
            "breakers": {
                "database": {
                    "state": "open",
                    "condition": "rejecting",
                    "consecutive_failures": 0,
                    "healthy": false,
                    "last_failure": "2024-05-01T12:00:01.500Z",
                    "retry_after_ms": 20000,
                    "failure_rate": null,
                    "slow_call_rate": null
                },
                "idle": {
                    "state": "closed",
                    "condition": "serving",
                    "consecutive_failures": 0,
                    "healthy": true,
                    "last_failure": null,
                    "retry_after_ms": null,
                    "failure_rate": null,
                    "slow_call_rate": null
                },
                "user-service": {
                    "state": "closed",
                    "condition": "serving",
                    "consecutive_failures": 2,
                    "healthy": true,
                    "last_failure": "2024-05-01T12:00:01.500Z",
                    "retry_after_ms": null,
                    "failure_rate": null,
                    "slow_call_rate": null
                }
            }
        })
    );
}

#[test]
fn half_open_forced_open_and_disabled_read_as_such() {
    let (registry, clock) = setup();
    clock.advance(Duration::from_secs(20));
    registry.force_open("user-service").unwrap();
    registry.disable("idle").unwrap();
    let value = serde_json::to_value(registry.health_report()).unwrap();
    let field = |name: &str, key: &str| value["breakers"][name][key].clone();
    assert_eq!(field("database", "state"), "half_open");
    assert_eq!(field("database", "condition"), "probing");
    assert_eq!(field("database", "healthy"), false);
    assert_eq!(field("database", "retry_after_ms"), serde_json::Value::Null);
    assert_eq!(field("user-service", "state"), "forced_open");
    assert_eq!(field("user-service", "condition"), "rejecting");
    assert_eq!(field("user-service", "healthy"), false);
    assert_eq!(field("idle", "state"), "disabled");
    assert_eq!(field("idle", "condition"), "serving");
    assert_eq!(
        field("idle", "healthy"),
        true,
        "disabled lets calls through"
    );
}

#[test]
fn an_empty_registry_is_healthy() {
    let value = serde_json::to_value(Registry::new().health_report()).unwrap();
    assert_eq!(
        value,
        json!({ "all_healthy": true, "condition": "serving", "breakers": {} })
    );
}

#[test]
fn the_report_carries_the_failure_and_slow_call_rates() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let config = Config::builder()
        .failure_rate_threshold(0.9)
        .slow_call_duration(Duration::from_secs(1))
        .sliding_window(circuit_core::SlidingWindow::Count(10))
        .minimum_calls(4)
        .clock(clock.clone())
        .build()
        .unwrap();
    let api = registry.get_or_create("api", config);
    let _ = api.call(|| Err::<(), _>("down"));
    let report = registry.health_report();
    let health = &report.breakers["api"];
    assert_eq!(
        (health.failure_rate, health.slow_call_rate),
        (None, None),
        "below minimum_calls"
    );
    let _ = api.call(|| {
        clock.advance(Duration::from_secs(1));
        Ok::<_, &str>(())
    });
    let _ = api.call(|| Ok::<_, &str>(()));
    let _ = api.call(|| Ok::<_, &str>(()));
    let report = registry.health_report();
    let health = &report.breakers["api"];
    assert_eq!(
        (health.failure_rate, health.slow_call_rate),
        (Some(0.25), Some(0.25))
    );
    let value = serde_json::to_value(&report).unwrap();
    assert_eq!(value["breakers"]["api"]["failure_rate"], json!(0.25));
    assert_eq!(value["breakers"]["api"]["slow_call_rate"], json!(0.25));
}

#[test]
fn the_reports_condition_is_the_worst_of_its_breakers() {
    use circuit_core::report::Condition;
    let (registry, clock) = setup();
    assert_eq!(registry.health_report().condition, Condition::Rejecting);
    // The database's recovery timeout passes: reading the report moves it to HalfOpen.
    clock.advance(Duration::from_secs(20));
    let report = registry.health_report();
    assert_eq!(report.breakers["database"].condition, Condition::Probing);
    assert_eq!(report.condition, Condition::Probing);
    // Its trials succeed: every breaker serves.
    let db = registry.get("database").unwrap();
    for _ in 0..db.config().success_threshold() {
        assert!(db.call(|| Ok::<_, ()>(())).is_ok());
    }
    let report = registry.health_report();
    assert_eq!(report.condition, Condition::Serving);
    assert!(report.all_healthy);
    registry.force_open("idle").unwrap();
    assert_eq!(registry.health_report().condition, Condition::Rejecting);
}

#[test]
fn an_open_breaker_nobody_calls_stops_rejecting_once_its_timeout_passes() {
    // The readiness trap this guards against: an instance taken out of traffic while its
    // breaker rejects must see the breaker probing again without any call, or it never
    // gets the traffic whose trials would close it.
    use circuit_core::report::Condition;
    let (registry, clock) = setup();
    let rejecting = |r: &Registry| r.health_report().breakers["database"].condition;
    assert_eq!(rejecting(&registry), Condition::Rejecting);
    clock.advance(Duration::from_millis(19_999));
    assert_eq!(rejecting(&registry), Condition::Rejecting);
    clock.advance(Duration::from_millis(1));
    assert_eq!(rejecting(&registry), Condition::Probing);
}

#[test]
fn every_state_has_its_condition() {
    use circuit_core::report::Condition;
    let expected = [
        (State::Closed, Condition::Serving),
        (State::Disabled, Condition::Serving),
        (State::HalfOpen, Condition::Probing),
        (State::Open, Condition::Rejecting),
        (State::ForcedOpen, Condition::Rejecting),
    ];
    for (state, condition) in expected {
        assert_eq!(state.condition(), condition, "{state}");
        assert_eq!(condition.to_string(), condition.as_str());
    }
}
