//! `timeout` and `abandoned_call_duration` from every source: the builder, the environment, a
//! TOML or JSON file, and what each refuses (zero, above 365 days), with the same message.

use circuit_core::config::{EnvConfig, FileConfig, Setting, Value};
use circuit_core::{Config, Registry};
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn created(registry: &Registry, name: &str) -> Config {
    registry.get_or_create(name, Config::default()).config()
}

#[test]
fn neither_is_configured_by_default() {
    let c = Config::default();
    assert_eq!((c.timeout(), c.abandoned_call_duration()), (None, None));
    assert_eq!(Setting::Timeout.default_value(), None);
    assert_eq!(Setting::AbandonedCallDuration.default_value(), None);
    assert_eq!(c.value(Setting::Timeout), None);
}

#[test]
fn the_builder_sets_both_and_marks_them_given() {
    let c = Config::builder()
        .timeout(ms(500))
        .abandoned_call_duration(ms(800))
        .build()
        .unwrap();
    assert_eq!(c.timeout(), Some(ms(500)));
    assert_eq!(c.abandoned_call_duration(), Some(ms(800)));
    assert!(c.is_set(Setting::Timeout) && c.is_set(Setting::AbandonedCallDuration));
    assert_eq!(c.value(Setting::Timeout), Some(Value::Duration(ms(500))));
}

#[test]
fn the_builder_refuses_zero_and_more_than_a_year_naming_the_setting() {
    for (setting, builder) in [
        (Setting::Timeout, Config::builder().timeout(Duration::ZERO)),
        (
            Setting::AbandonedCallDuration,
            Config::builder().abandoned_call_duration(Duration::ZERO),
        ),
    ] {
        let err = builder.build().unwrap_err();
        assert_eq!(err.setting(), setting);
        assert_eq!(
            err.to_string(),
            format!("`{}` must be longer than zero, got 0s", setting.name())
        );
    }
    let err = Config::builder()
        .timeout(Duration::from_secs(400 * 24 * 3600))
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`timeout` must be at most 365 days, got 34560000s"
    );
}

#[test]
fn the_environment_sets_both() {
    let registry = Registry::new();
    EnvConfig::new()
        .breaker("upstream")
        .apply_from(
            &registry,
            [
                ("CIRCUIT_UPSTREAM_TIMEOUT", "500ms"),
                ("CIRCUIT_UPSTREAM_ABANDONED_CALL_DURATION", "2s"),
            ],
        )
        .unwrap();
    let c = created(&registry, "upstream");
    assert_eq!(c.timeout(), Some(ms(500)));
    assert_eq!(c.abandoned_call_duration(), Some(ms(2000)));
}

#[test]
fn the_environment_refuses_zero_naming_the_variable_and_the_setting() {
    let registry = Registry::new();
    let err = EnvConfig::new()
        .breaker_with_prefix("database", "DB_CIRCUIT_BREAKER")
        .apply_from(
            &registry,
            [
                ("DB_CIRCUIT_BREAKER_TIMEOUT", "0"),
                ("DB_CIRCUIT_BREAKER_ABANDONED_CALL_DURATION", "0ms"),
            ],
        )
        .unwrap_err();
    let problems: Vec<_> = err
        .problems()
        .iter()
        .map(|p| (p.variable(), p.reason()))
        .collect();
    assert_eq!(
        problems,
        [
            (
                "DB_CIRCUIT_BREAKER_TIMEOUT",
                "`timeout` must be longer than zero, got 0s"
            ),
            (
                "DB_CIRCUIT_BREAKER_ABANDONED_CALL_DURATION",
                "`abandoned_call_duration` must be longer than zero, got 0ms"
            ),
        ]
    );
}

#[test]
fn files_set_both_in_toml_and_json() {
    let toml = FileConfig::from_toml(
        r#"
[configs.default]
timeout = "2s"

[instances.upstream]
timeout = "500ms"
abandoned_call_duration = 1

[instances.other]
failure_threshold = 3
"#,
    )
    .unwrap();
    let registry = Registry::new();
    toml.apply(&registry).unwrap();
    let c = created(&registry, "upstream");
    assert_eq!(c.timeout(), Some(ms(500)));
    assert_eq!(c.abandoned_call_duration(), Some(ms(1000)));
    assert_eq!(created(&registry, "other").timeout(), Some(ms(2000)));

    let json = FileConfig::from_json(
        r#"{"instances": {"upstream": {"timeout": "750ms", "abandoned_call_duration": "3s"}}}"#,
    )
    .unwrap();
    let registry = Registry::new();
    json.apply(&registry).unwrap();
    let c = created(&registry, "upstream");
    assert_eq!(c.timeout(), Some(ms(750)));
    assert_eq!(c.abandoned_call_duration(), Some(ms(3000)));
}

#[test]
fn files_refuse_zero_with_the_path_and_line() {
    let err = FileConfig::from_toml("[instances.upstream]\ntimeout = \"0s\"\n")
        .and_then(|f| f.apply(&Registry::new()).map(|_| f))
        .unwrap_err();
    let p = &err.problems()[0];
    assert_eq!(
        (p.path(), p.line(), p.message()),
        (
            "instances.upstream.timeout",
            Some(2),
            "`timeout` must be longer than zero, got 0s"
        )
    );
}
