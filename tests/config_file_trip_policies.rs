//! The trip-policy settings in configuration files: their keys and value forms in TOML and
//! JSON, and the refusals with the path (and line) of the value at fault.

use circuit_core::config::{FileConfig, FileError, Setting};
use circuit_core::{Backoff, Config, Registry, SlidingWindow};
use std::time::Duration;

fn created(registry: &Registry, name: &str) -> Config {
    registry.get_or_create(name, Config::default()).config()
}

/// `(path, line, message)` of the only problem.
fn only(err: &FileError) -> (&str, Option<usize>, &str) {
    assert_eq!(err.problems().len(), 1, "{err}");
    let p = &err.problems()[0];
    (p.path(), p.line(), p.message())
}

#[test]
fn every_trip_policy_setting_has_a_key_in_toml() {
    let file = FileConfig::from_toml(
        r#"
[configs.default]
sliding_window = "100 calls"
backoff = "exponential(2, 10m)"

[instances.payments]
failure_rate_threshold = 0.5
sliding_window = "60s"
minimum_calls = 20
slow_call_duration = "2s"
slow_call_rate_threshold = "0.8"
jitter = 0.2
half_open_max_wait = "30s"

[instances.search]
failure_rate_threshold = 1
failure_threshold = 5
"#,
    )
    .unwrap();
    let registry = Registry::new();
    file.apply(&registry).unwrap();
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
        Backoff::exponential(2.0, Duration::from_secs(600)).with_jitter(0.2),
        "the backoff from the default section, the jitter from the instance"
    );
    assert_eq!(c.half_open_max_wait(), Duration::from_secs(30));
    assert!(!c.trips_on_consecutive_failures());

    let search = created(&registry, "search");
    assert_eq!(search.failure_rate_threshold(), Some(1.0));
    assert!(
        search.is_set(Setting::FailureThreshold),
        "given in the file"
    );
    assert!(search.trips_on_consecutive_failures());
}

#[test]
fn json_holds_the_same_keys() {
    let file = FileConfig::from_json(
        r#"{"instances": {"db": {
            "failure_rate_threshold": 0.25,
            "sliding_window": "50 calls",
            "backoff": "constant",
            "jitter": 0
        }}}"#,
    )
    .unwrap();
    let registry = Registry::new();
    file.apply(&registry).unwrap();
    let c = created(&registry, "db");
    assert_eq!(c.failure_rate_threshold(), Some(0.25));
    assert_eq!(c.sliding_window(), SlidingWindow::Count(50));
    assert_eq!(c.minimum_calls(), 50);
    assert_eq!(c.backoff(), Backoff::constant());
    assert!(c.is_set(Setting::Jitter));
}

#[test]
fn values_out_of_range_are_refused_where_they_are_written() {
    let cases: [(&str, usize, &str); 8] = [
        (
            "failure_rate_threshold = 1.5",
            2,
            "`failure_rate_threshold` must be a ratio above 0 and at most 1, got 1.5",
        ),
        (
            "slow_call_rate_threshold = 0",
            2,
            "`slow_call_rate_threshold` must be a ratio above 0 and at most 1, got 0",
        ),
        (
            "failure_rate_threshold = \"50%\"",
            2,
            "\"50%\": expected a ratio, not a percentage: write 0.5",
        ),
        (
            "sliding_window = \"0s\"",
            2,
            "\"0s\": `sliding_window` must be longer than zero, got 0s",
        ),
        (
            "sliding_window = 100",
            2,
            "a bare number could be calls or seconds: write `sliding_window = \"100 calls\"` or \
             `sliding_window = \"100s\"`",
        ),
        (
            "backoff = \"exponential(2, 0s)\"",
            2,
            "\"exponential(2, 0s)\": `backoff` must have a longest period longer than zero, got \
             exponential(2, 0s)",
        ),
        (
            "backoff = \"linear\"",
            2,
            "\"linear\": expected `constant`, or `exponential(M, MAX)` with a multiplier and the \
             longest period, like `exponential(2, 5m)`",
        ),
        (
            "jitter = -0.5",
            2,
            "`jitter` must be a ratio of at least 0 and below 1, got -0.5",
        ),
    ];
    for (line, at, message) in cases {
        let key = line.split(' ').next().unwrap();
        let err = FileConfig::from_toml(&format!("[instances.db]\n{line}\n")).unwrap_err();
        assert_eq!(
            only(&err),
            (format!("instances.db.{key}").as_str(), Some(at), message),
            "{line}"
        );
    }
}

#[test]
fn a_table_where_a_window_goes_says_what_to_write() {
    let err = FileConfig::from_toml("[instances.db.sliding_window]\ncalls = 100\n").unwrap_err();
    assert_eq!(
        only(&err).2,
        "`sliding_window` takes a sliding window, not a table: write for example \
         `sliding_window = \"100 calls\"`"
    );
}

#[test]
fn the_rules_across_settings_blame_the_key_given() {
    let file = FileConfig::from_toml(
        r#"
[configs.default]
sliding_window = "10 calls"

[instances.db]
minimum_calls = 20

[instances.cache]
slow_call_rate_threshold = 0.5
"#,
    )
    .unwrap();
    let err = file.apply(&Registry::new()).unwrap_err();
    let problems: Vec<(&str, &str)> = err
        .problems()
        .iter()
        .map(|p| (p.path(), p.message()))
        .collect();
    assert_eq!(
        problems,
        [
            (
                "instances.cache.slow_call_rate_threshold",
                "`slow_call_rate_threshold` (0.5) needs `slow_call_duration`: without it no call \
                 is timed, so none is slow"
            ),
            (
                "instances.db.minimum_calls",
                "`minimum_calls` (20) must not exceed the size of `sliding_window` (10 calls): \
                 the window could never hold enough calls for a rate to count"
            ),
        ]
    );
}
