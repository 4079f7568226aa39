//! Config: the defaults, and refusals that name the field and value.

use circuit_core::{Config, ConfigError};
use std::time::Duration;

#[test]
fn defaults_are_the_seeds() {
    let c = Config::default();
    assert_eq!(c.failure_threshold(), 5);
    assert_eq!(c.success_threshold(), 3);
    assert_eq!(c.recovery_timeout(), Duration::from_secs(60));
    assert_eq!(c.half_open_max_calls(), 3);
    assert!(format!("{c:?}").contains("failure_threshold: 5"));
}

#[test]
fn zero_thresholds_are_refused_by_name() {
    for (builder, field) in [
        (Config::builder().failure_threshold(0), "failure_threshold"),
        (Config::builder().success_threshold(0), "success_threshold"),
        (
            Config::builder().half_open_max_calls(0),
            "half_open_max_calls",
        ),
    ] {
        let err = builder.build().unwrap_err();
        assert_eq!(err.field(), field);
        assert_eq!(
            err.to_string(),
            format!("`{field}` must be at least 1, got 0")
        );
    }
}

#[test]
fn a_zero_or_absurd_timeout_is_refused() {
    let err = Config::builder()
        .recovery_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::ZeroTimeout);
    assert!(err.to_string().contains("recovery_timeout"));
    let long = Duration::from_secs(400 * 24 * 3600);
    let err = Config::builder()
        .recovery_timeout(long)
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("recovery_timeout") && err.to_string().contains("34560000s"),
        "{err}"
    );
}

#[test]
fn a_success_threshold_above_half_open_max_calls_is_refused() {
    let err = Config::builder()
        .success_threshold(4)
        .half_open_max_calls(3)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "success_threshold");
    assert_eq!(
        err.to_string(),
        "`success_threshold` (4) must not exceed `half_open_max_calls` (3): the breaker could never close"
    );
}

#[test]
fn a_half_open_limit_beyond_what_the_breaker_counts_is_refused() {
    let err = Config::builder()
        .half_open_max_calls(circuit_core::config::MAX_HALF_OPEN_CALLS + 1)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "half_open_max_calls");
    assert!(err
        .to_string()
        .contains(&(circuit_core::config::MAX_HALF_OPEN_CALLS + 1).to_string()));
}
