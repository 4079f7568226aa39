//! Config: the defaults, and refusals that name the setting and value.

use circuit_core::config::{Setting, Value};
use circuit_core::{Config, ConfigError};
use std::time::Duration;

#[test]
fn defaults_are_the_designs() {
    let c = Config::default();
    assert_eq!(c.failure_threshold(), 5);
    assert_eq!(c.success_threshold(), 3);
    assert_eq!(c.recovery_timeout(), Duration::from_secs(60));
    assert_eq!(c.half_open_max_calls(), 3);
    assert!(format!("{c:?}").contains("failure_threshold: 5"));
}

#[test]
fn zero_thresholds_are_refused_by_name() {
    for (builder, setting, field) in [
        (
            Config::builder().failure_threshold(0),
            Setting::FailureThreshold,
            "failure_threshold",
        ),
        (
            Config::builder().success_threshold(0),
            Setting::SuccessThreshold,
            "success_threshold",
        ),
        (
            Config::builder().half_open_max_calls(0),
            Setting::HalfOpenMaxCalls,
            "half_open_max_calls",
        ),
    ] {
        let err = builder.build().unwrap_err();
        assert_eq!(err, ConfigError::Zero { setting });
        assert_eq!((err.setting(), err.field()), (setting, field));
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
    assert_eq!(
        err,
        ConfigError::Zero {
            setting: Setting::RecoveryTimeout
        }
    );
    assert_eq!(
        err.to_string(),
        "`recovery_timeout` must be longer than zero, got 0s"
    );
    let long = Duration::from_secs(400 * 24 * 3600);
    let err = Config::builder()
        .recovery_timeout(long)
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        ConfigError::TooLarge {
            setting: Setting::RecoveryTimeout,
            value: Value::Duration(long),
            max: Value::Duration(circuit_core::config::MAX_RECOVERY_TIMEOUT),
        }
    );
    assert_eq!(
        err.to_string(),
        "`recovery_timeout` must be at most 365 days, got 34560000s"
    );
}

#[test]
fn a_success_threshold_above_half_open_max_calls_is_refused() {
    let err = Config::builder()
        .success_threshold(4)
        .half_open_max_calls(3)
        .build()
        .unwrap_err();
    assert_eq!(err.setting(), Setting::SuccessThreshold);
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
    assert_eq!(
        err.to_string(),
        "`half_open_max_calls` must be at most 1048575, got 1048576"
    );
}

#[test]
fn a_success_threshold_beyond_what_the_breaker_counts_is_refused_by_its_own_name() {
    // Not as "above half_open_max_calls": no half_open_max_calls could be that large.
    let err = Config::builder()
        .success_threshold(u32::MAX)
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`success_threshold` must be at most 1048575, got 4294967295"
    );
}

#[test]
fn the_config_reads_and_debug_prints_every_setting_of_the_table() {
    let c = Config::default();
    let debug = format!("{c:?}");
    for setting in Setting::ALL {
        assert_eq!(c.value(setting), setting.default_value(), "{setting:?}");
        assert!(debug.contains(setting.name()), "{debug}");
    }
}
