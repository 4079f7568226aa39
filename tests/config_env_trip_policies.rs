//! The trip-policy settings from environment variables: one variable per setting, in both the
//! `CIRCUIT_<NAME>_` and a breaker's own prefix (`DB_CIRCUIT_BREAKER_`), their text forms, and
//! the messages of values refused. The variables come from each test, never from the process
//! environment.

use circuit_core::config::{EnvConfig, EnvError, Setting};
use circuit_core::{Backoff, Config, Registry, SlidingWindow};
use std::time::Duration;

fn created(registry: &Registry, name: &str) -> Config {
    registry.get_or_create(name, Config::default()).config()
}

/// The configuration `database` gets from `vars`, read with the prefix `DB_CIRCUIT_BREAKER`.
fn database(vars: &[(&str, &str)]) -> Result<Config, EnvError> {
    let registry = Registry::new();
    EnvConfig::new()
        .breaker_with_prefix("database", "DB_CIRCUIT_BREAKER")
        .apply_from(&registry, vars.iter().copied())?;
    Ok(created(&registry, "database"))
}

/// `(variable, reason)` of every problem.
fn problems(err: &EnvError) -> Vec<(&str, &str)> {
    err.problems()
        .iter()
        .map(|p| (p.variable(), p.reason()))
        .collect()
}

#[test]
fn every_trip_policy_setting_has_a_variable_under_circuit_and_its_name() {
    let registry = Registry::new();
    EnvConfig::new()
        .breaker("payments")
        .apply_from(
            &registry,
            [
                ("CIRCUIT_PAYMENTS_FAILURE_RATE_THRESHOLD", "0.5"),
                ("CIRCUIT_PAYMENTS_SLIDING_WINDOW", "60s"),
                ("CIRCUIT_PAYMENTS_MINIMUM_CALLS", "20"),
                ("CIRCUIT_PAYMENTS_SLOW_CALL_DURATION", "2s"),
                ("CIRCUIT_PAYMENTS_SLOW_CALL_RATE_THRESHOLD", "0.8"),
                ("CIRCUIT_PAYMENTS_BACKOFF", "exponential(2, 10m)"),
                ("CIRCUIT_PAYMENTS_JITTER", "0.2"),
                ("CIRCUIT_PAYMENTS_HALF_OPEN_MAX_WAIT", "30s"),
            ],
        )
        .unwrap();
    let c = created(&registry, "payments");
    assert_eq!(c.failure_rate_threshold(), Some(0.5));
    assert_eq!(
        c.sliding_window(),
        SlidingWindow::Time(Duration::from_secs(60))
    );
    assert_eq!(c.minimum_calls(), 20);
    assert_eq!(c.slow_call_duration(), Some(Duration::from_secs(2)));
    assert_eq!(c.slow_call_rate_threshold(), Some(0.8));
    assert_eq!(
        c.backoff(),
        Backoff::exponential(2.0, Duration::from_secs(600)).with_jitter(0.2)
    );
    assert_eq!(c.half_open_max_wait(), Duration::from_secs(30));
    // A rate rule from the environment replaces the consecutive one, as in code.
    assert!(!c.trips_on_consecutive_failures());
}

#[test]
fn a_prefix_of_its_own_reads_the_trip_policy_variables_too() {
    let c = database(&[
        ("DB_CIRCUIT_BREAKER_FAILURE_RATE_THRESHOLD", " 0.25 "),
        ("DB_CIRCUIT_BREAKER_SLIDING_WINDOW", "50 calls"),
        ("DB_CIRCUIT_BREAKER_BACKOFF", "constant"),
    ])
    .unwrap();
    assert_eq!(c.failure_rate_threshold(), Some(0.25));
    assert_eq!(c.sliding_window(), SlidingWindow::Count(50));
    assert_eq!(c.minimum_calls(), 50, "100, capped at the window's size");
    assert_eq!(c.backoff(), Backoff::constant());
}

#[test]
fn a_failure_threshold_from_the_environment_counts_as_given() {
    let c = database(&[
        ("DB_CIRCUIT_BREAKER_FAILURE_RATE_THRESHOLD", "0.5"),
        ("DB_CIRCUIT_BREAKER_FAILURE_THRESHOLD", "5"),
    ])
    .unwrap();
    assert!(c.is_set(Setting::FailureThreshold));
    assert!(c.is_set(Setting::FailureRateThreshold));
    assert!(!c.is_set(Setting::SlidingWindow));
    assert!(c.trips_on_consecutive_failures(), "both rules trip it");
}

#[test]
fn windows_take_calls_or_a_duration_and_never_a_bare_number() {
    for (text, window) in [
        ("100 calls", SlidingWindow::Count(100)),
        ("1 call", SlidingWindow::Count(1)),
        ("30calls", SlidingWindow::Count(30)),
        ("5m", SlidingWindow::Time(Duration::from_secs(300))),
        ("500ms", SlidingWindow::Time(Duration::from_millis(500))),
    ] {
        let c = database(&[("DB_CIRCUIT_BREAKER_SLIDING_WINDOW", text)]).unwrap();
        assert_eq!(c.sliding_window(), window, "{text:?}");
    }
    let err = database(&[("DB_CIRCUIT_BREAKER_SLIDING_WINDOW", "100")]).unwrap_err();
    assert_eq!(
        problems(&err),
        [(
            "DB_CIRCUIT_BREAKER_SLIDING_WINDOW",
            "a bare number could be calls or seconds: write `100 calls` or `100s`"
        )]
    );
    let err = database(&[("DB_CIRCUIT_BREAKER_SLIDING_WINDOW", "100 requests")]).unwrap_err();
    assert_eq!(
        problems(&err),
        [(
            "DB_CIRCUIT_BREAKER_SLIDING_WINDOW",
            "expected a number of calls or a duration with its unit: 100 calls, 60s, 5m"
        )]
    );
}

#[test]
fn every_bad_trip_policy_value_is_reported_at_once_with_the_text_as_written() {
    let err = database(&[
        ("DB_CIRCUIT_BREAKER_FAILURE_RATE_THRESHOLD", "1.5"),
        ("DB_CIRCUIT_BREAKER_SLOW_CALL_RATE_THRESHOLD", "50%"),
        ("DB_CIRCUIT_BREAKER_SLIDING_WINDOW", "0 calls"),
        ("DB_CIRCUIT_BREAKER_MINIMUM_CALLS", "0"),
        ("DB_CIRCUIT_BREAKER_SLOW_CALL_DURATION", "2.5s"),
        ("DB_CIRCUIT_BREAKER_BACKOFF", "exponential(0.5, 5m)"),
        ("DB_CIRCUIT_BREAKER_JITTER", "1"),
    ])
    .unwrap_err();
    assert_eq!(
        problems(&err),
        [
            (
                "DB_CIRCUIT_BREAKER_FAILURE_RATE_THRESHOLD",
                "`failure_rate_threshold` must be a ratio above 0 and at most 1, got 1.5"
            ),
            (
                "DB_CIRCUIT_BREAKER_SLIDING_WINDOW",
                "`sliding_window` must be at least 1 call, got 0 calls"
            ),
            (
                "DB_CIRCUIT_BREAKER_MINIMUM_CALLS",
                "`minimum_calls` must be at least 1, got 0"
            ),
            (
                "DB_CIRCUIT_BREAKER_SLOW_CALL_DURATION",
                "expected a whole number of seconds, or one with a unit: 500ms, 30s, 5m, 1h"
            ),
            (
                "DB_CIRCUIT_BREAKER_SLOW_CALL_RATE_THRESHOLD",
                "expected a ratio, not a percentage: write 0.5"
            ),
            (
                "DB_CIRCUIT_BREAKER_BACKOFF",
                "`backoff` must have a finite multiplier of at least 1, got exponential(0.5, 5m)"
            ),
            (
                "DB_CIRCUIT_BREAKER_JITTER",
                "`jitter` must be a ratio of at least 0 and below 1, got 1"
            ),
        ]
    );
    let malformed = database(&[("DB_CIRCUIT_BREAKER_BACKOFF", "exponential 2x")]).unwrap_err();
    assert_eq!(
        problems(&malformed),
        [(
            "DB_CIRCUIT_BREAKER_BACKOFF",
            "expected `constant`, or `exponential(M, MAX)` with a multiplier and the longest \
             period, like `exponential(2, 5m)`"
        )]
    );
}

#[test]
fn the_rules_across_settings_blame_the_variable_given() {
    let err = database(&[
        ("DB_CIRCUIT_BREAKER_SLIDING_WINDOW", "10 calls"),
        ("DB_CIRCUIT_BREAKER_MINIMUM_CALLS", "20"),
    ])
    .unwrap_err();
    assert_eq!(
        problems(&err),
        [(
            "DB_CIRCUIT_BREAKER_MINIMUM_CALLS",
            "`minimum_calls` (20) must not exceed the size of `sliding_window` (10 calls): the \
             window could never hold enough calls for a rate to count"
        )]
    );
    let err = database(&[("DB_CIRCUIT_BREAKER_SLOW_CALL_RATE_THRESHOLD", "0.5")]).unwrap_err();
    assert_eq!(
        problems(&err),
        [(
            "DB_CIRCUIT_BREAKER_SLOW_CALL_RATE_THRESHOLD",
            "`slow_call_rate_threshold` (0.5) needs `slow_call_duration`: without it no call is \
             timed, so none is slow"
        )]
    );
    // The recovery timeout raised above the backoff's cap the breaker has: the variable that
    // broke the rule is blamed, though the rule limits `backoff`.
    let registry = Registry::new();
    registry.get_or_create(
        "database",
        Config::builder()
            .backoff(Backoff::exponential(2.0, Duration::from_secs(120)))
            .build()
            .unwrap(),
    );
    let err = EnvConfig::new()
        .breaker_with_prefix("database", "DB_CIRCUIT_BREAKER")
        .apply_from(&registry, [("DB_CIRCUIT_BREAKER_RECOVERY_TIMEOUT", "5m")])
        .unwrap_err();
    assert_eq!(
        problems(&err),
        [(
            "DB_CIRCUIT_BREAKER_RECOVERY_TIMEOUT",
            "`backoff`'s longest period (120s) must not be shorter than `recovery_timeout` \
             (300s): the Open periods would shrink as the breaker kept failing"
        )]
    );
}

#[test]
fn a_backoff_or_a_jitter_alone_keeps_the_other_half_the_breaker_has() {
    let registry = Registry::new();
    registry.get_or_create(
        "database",
        Config::builder()
            .backoff(Backoff::exponential(3.0, Duration::from_secs(600)).with_jitter(0.3))
            .build()
            .unwrap(),
    );
    EnvConfig::new()
        .breaker_with_prefix("database", "DB_CIRCUIT_BREAKER")
        .apply_from(&registry, [("DB_CIRCUIT_BREAKER_JITTER", "0")])
        .unwrap();
    assert_eq!(
        created(&registry, "database").backoff(),
        Backoff::exponential(3.0, Duration::from_secs(600))
    );
    EnvConfig::new()
        .breaker_with_prefix("database", "DB_CIRCUIT_BREAKER")
        .apply_from(
            &registry,
            [("DB_CIRCUIT_BREAKER_BACKOFF", "exponential( 1.5 , 20m )")],
        )
        .unwrap();
    assert_eq!(
        created(&registry, "database").backoff(),
        Backoff::exponential(1.5, Duration::from_secs(1200))
    );
}
