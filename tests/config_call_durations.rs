//! `record_call_durations`, a yes or no, from every source: the builder, the environment, a
//! TOML or JSON file; `true` or `false` written alike everywhere, anything else refused with
//! the word to write.

use circuit_core::config::{EnvConfig, FileConfig, Kind, Setting, Settings, Value};
use circuit_core::{Config, Registry};

fn created(registry: &Registry, name: &str) -> Config {
    registry.get_or_create(name, Config::default()).config()
}

#[test]
fn it_is_off_by_default_and_a_yes_or_no_in_the_table() {
    let setting = Setting::RecordCallDurations;
    assert_eq!(setting.name(), "record_call_durations");
    assert_eq!(setting.kind(), Kind::Bool);
    assert_eq!(setting.default_value(), Some(Value::Bool(false)));
    assert_eq!(setting.env_suffix(), "RECORD_CALL_DURATIONS");
    assert_eq!(Setting::from_name("record_call_durations"), Some(setting));
    let c = Config::default();
    assert!(!c.record_call_durations());
    assert!(!c.is_set(setting));
}

#[test]
fn the_builder_turns_it_on_and_marks_it_given() {
    let c = Config::builder()
        .record_call_durations(true)
        .build()
        .unwrap();
    assert!(c.record_call_durations());
    assert!(c.is_set(Setting::RecordCallDurations));
    assert_eq!(
        c.value(Setting::RecordCallDurations),
        Some(Value::Bool(true))
    );
    // Given as `false`, it is given all the same: a source below cannot turn it on.
    let off = Config::builder()
        .record_call_durations(false)
        .build()
        .unwrap();
    assert!(off.is_set(Setting::RecordCallDurations));
}

#[test]
fn settings_take_a_bool_and_refuse_another_kind_naming_it() {
    let mut settings = Settings::new();
    settings
        .set(Setting::RecordCallDurations, true.into())
        .unwrap();
    assert!(settings
        .apply(&Config::default())
        .unwrap()
        .record_call_durations());
    let err = Settings::new()
        .set(Setting::RecordCallDurations, Value::Count(1))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`record_call_durations` takes `true` or `false`, got 1"
    );
    let err = Settings::new()
        .set(Setting::FailureThreshold, Value::Bool(true))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`failure_threshold` takes a whole number, got true"
    );
}

#[test]
fn the_environment_turns_it_on_under_either_prefix() {
    let registry = Registry::new();
    EnvConfig::new()
        .breaker("user-service")
        .breaker_with_prefix("database", "DB_CIRCUIT_BREAKER")
        .apply_from(
            &registry,
            [
                ("CIRCUIT_USER_SERVICE_RECORD_CALL_DURATIONS", " true "),
                ("DB_CIRCUIT_BREAKER_RECORD_CALL_DURATIONS", "true"),
            ],
        )
        .unwrap();
    assert!(created(&registry, "user-service").record_call_durations());
    assert!(created(&registry, "database").record_call_durations());
    // And off again, over a breaker that had it on.
    EnvConfig::new()
        .breaker("database")
        .apply_from(
            &registry,
            [("CIRCUIT_DATABASE_RECORD_CALL_DURATIONS", "false")],
        )
        .unwrap();
    assert!(!created(&registry, "database").record_call_durations());
}

#[test]
fn the_environment_refuses_other_words_saying_which_to_write() {
    let registry = Registry::new();
    let err = EnvConfig::new()
        .breaker("a")
        .breaker("b")
        .breaker("c")
        .apply_from(
            &registry,
            [
                ("CIRCUIT_A_RECORD_CALL_DURATIONS", "1"),
                ("CIRCUIT_B_RECORD_CALL_DURATIONS", "off"),
                ("CIRCUIT_C_RECORD_CALL_DURATIONS", "sometimes"),
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
                "CIRCUIT_A_RECORD_CALL_DURATIONS",
                "expected `true` or `false`: write true"
            ),
            (
                "CIRCUIT_B_RECORD_CALL_DURATIONS",
                "expected `true` or `false`: write false"
            ),
            (
                "CIRCUIT_C_RECORD_CALL_DURATIONS",
                "expected `true` or `false`"
            ),
        ]
    );
    assert!(registry.names().is_empty(), "nothing applied");
}

#[test]
fn files_take_a_boolean_or_the_word_in_toml_and_json() {
    let toml = FileConfig::from_toml(
        r#"
[configs.default]
record_call_durations = true

[instances.orders]
record_call_durations = "false"

[instances.users]
failure_threshold = 3
"#,
    )
    .unwrap();
    let registry = Registry::new();
    toml.apply(&registry).unwrap();
    assert!(!created(&registry, "orders").record_call_durations());
    assert!(created(&registry, "users").record_call_durations());

    let json =
        FileConfig::from_json(r#"{"instances": {"orders": {"record_call_durations": true}}}"#)
            .unwrap();
    let registry = Registry::new();
    json.apply(&registry).unwrap();
    assert!(created(&registry, "orders").record_call_durations());
}

#[test]
fn files_refuse_a_number_with_the_path_and_line() {
    let err = FileConfig::from_toml("[instances.orders]\nrecord_call_durations = 1\n").unwrap_err();
    let p = &err.problems()[0];
    assert_eq!(
        (p.path(), p.line(), p.message()),
        (
            "instances.orders.record_call_durations",
            Some(2),
            "`record_call_durations` takes true or false, not the number 1: write \
             `record_call_durations = true`"
        )
    );
    let err =
        FileConfig::from_json(r#"{"instances": {"orders": {"record_call_durations": "yes"}}}"#)
            .unwrap_err();
    assert_eq!(
        err.problems()[0].message(),
        "\"yes\": expected `true` or `false`: write true"
    );
}
