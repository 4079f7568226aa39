//! The messages of configuration errors, each pinned: the limit given is the setting's own, the
//! value is shown as it was written, a cross-field error blames the key, and a value of the
//! wrong shape says what it is and what to write.

use circuit_core::config::{EnvConfig, FileConfig, FileError};
use circuit_core::Registry;

/// The only problem of the environment `vars` for the breaker `db`, as `VARIABLE="value": why`.
fn env_problem(vars: &[(&str, &str)]) -> String {
    let err = EnvConfig::new()
        .breaker("db")
        .apply_from(&Registry::new(), vars.iter().copied())
        .unwrap_err();
    assert_eq!(err.problems().len(), 1, "{err}");
    err.problems()[0].to_string()
}

/// The only problem of a file, as `path (line l, column c): why`.
fn file_problem(err: FileError) -> String {
    assert_eq!(err.problems().len(), 1, "{err}");
    err.problems()[0].to_string()
}

fn toml_problem(text: &str) -> String {
    file_problem(FileConfig::from_toml(text).unwrap_err())
}

#[test]
fn a_count_too_large_for_a_u32_is_refused_with_the_settings_own_limit() {
    // Said "must be at most 4294967295", which 4294967295 is not either.
    assert_eq!(
        env_problem(&[("CIRCUIT_DB_HALF_OPEN_MAX_CALLS", "4294967296")]),
        "CIRCUIT_DB_HALF_OPEN_MAX_CALLS=\"4294967296\": `half_open_max_calls` must be at most \
         1048575, got 4294967296"
    );
    assert_eq!(
        env_problem(&[("CIRCUIT_DB_SUCCESS_THRESHOLD", "99999999999")]),
        "CIRCUIT_DB_SUCCESS_THRESHOLD=\"99999999999\": `success_threshold` must be at most \
         1048575, got 99999999999"
    );
    // A setting without a limit of its own is limited by its type.
    assert_eq!(
        env_problem(&[("CIRCUIT_DB_FAILURE_THRESHOLD", "4294967296")]),
        "CIRCUIT_DB_FAILURE_THRESHOLD=\"4294967296\": `failure_threshold` must be at most \
         4294967295, got 4294967296"
    );
    assert_eq!(
        toml_problem("[instances.db]\nhalf_open_max_calls = 4294967296\n"),
        "instances.db.half_open_max_calls (line 2, column 23): `half_open_max_calls` must be at \
         most 1048575, got 4294967296"
    );
    assert_eq!(
        file_problem(
            FileConfig::from_json(r#"{"instances": {"db": {"half_open_max_calls": 99999999999}}}"#)
                .unwrap_err()
        ),
        "instances.db.half_open_max_calls (line 1, column 56): `half_open_max_calls` must be at \
         most 1048575, got 99999999999"
    );
    assert_eq!(
        toml_problem("[instances.db]\nfailure_threshold = -1\n"),
        "instances.db.failure_threshold (line 2, column 21): `failure_threshold` must be at \
         least 1, got -1"
    );
}

#[test]
fn a_value_refused_is_shown_as_it_was_written_not_as_converted() {
    // Showed "8761h" as "31539600s".
    assert_eq!(
        env_problem(&[("CIRCUIT_DB_RECOVERY_TIMEOUT", " 8761h ")]),
        "CIRCUIT_DB_RECOVERY_TIMEOUT=\" 8761h \": `recovery_timeout` must be at most 365 days, \
         got 8761h"
    );
    assert_eq!(
        env_problem(&[("CIRCUIT_DB_RECOVERY_TIMEOUT", "0ms")]),
        "CIRCUIT_DB_RECOVERY_TIMEOUT=\"0ms\": `recovery_timeout` must be longer than zero, got 0ms"
    );
    assert_eq!(
        toml_problem("[instances.db]\nrecovery_timeout = \"525601m\"\n"),
        "instances.db.recovery_timeout (line 2, column 20): `recovery_timeout` must be at most \
         365 days, got 525601m"
    );
}

#[test]
fn a_rule_between_two_settings_blames_the_key_not_the_instance() {
    let err = FileConfig::from_toml("[instances.db]\nsuccess_threshold = 4\n")
        .unwrap()
        .apply(&Registry::new())
        .unwrap_err();
    assert_eq!(
        file_problem(err),
        "instances.db.success_threshold: `success_threshold` (4) must not exceed \
         `half_open_max_calls` (3): the breaker could never close"
    );
    let err = FileConfig::from_toml(
        "[configs.default]\nhalf_open_max_calls = 1\n[instances.db]\nfailure_threshold = 2\n",
    )
    .unwrap()
    .apply(&Registry::new())
    .unwrap_err();
    assert_eq!(
        file_problem(err),
        "configs.default.half_open_max_calls: `success_threshold` (3) must not exceed \
         `half_open_max_calls` (1): the breaker could never close"
    );
}

#[test]
fn a_date_or_a_table_given_as_a_setting_is_named_as_such() {
    // Said "invalid type: map": TOML hands a date to serde as a map.
    assert_eq!(
        toml_problem("[instances.db]\nrecovery_timeout = 1979-05-27\n"),
        "instances.db.recovery_timeout (line 2, column 20): `recovery_timeout` takes a \
         duration, not the date or time 1979-05-27: write for example `recovery_timeout = \"30s\"`"
    );
    assert_eq!(
        toml_problem("[instances.db]\nrecovery_timeout = 07:32:00\n"),
        "instances.db.recovery_timeout (line 2, column 20): `recovery_timeout` takes a \
         duration, not the date or time 07:32:00: write for example `recovery_timeout = \"30s\"`"
    );
    assert_eq!(
        toml_problem("[instances.db]\nfailure_threshold = 1979-05-27T07:32:00Z\n"),
        "instances.db.failure_threshold (line 2, column 21): `failure_threshold` takes a whole \
         number, not the date or time 1979-05-27T07:32:00Z: write for example \
         `failure_threshold = 5`"
    );
    assert_eq!(
        toml_problem("[instances.db]\nrecovery_timeout = { seconds = 30 }\n"),
        "instances.db.recovery_timeout (line 2, column 20): `recovery_timeout` takes a \
         duration, not a table: write for example `recovery_timeout = \"30s\"`"
    );
    assert_eq!(
        file_problem(
            FileConfig::from_json(r#"{"instances": {"db": {"recovery_timeout": {}}}}"#)
                .unwrap_err()
        ),
        "instances.db.recovery_timeout (line 1, column 44): `recovery_timeout` takes a \
         duration, not a table: write for example `recovery_timeout = \"30s\"`"
    );
    // A count is read as a number (so that formats without types in their text work too):
    // JSON then says what it found itself.
    assert_eq!(
        file_problem(
            FileConfig::from_json(r#"{"instances": {"db": {"half_open_max_calls": {}}}}"#)
                .unwrap_err()
        ),
        "instances.db.half_open_max_calls (line 1, column 45): invalid type: map, expected a \
         whole number"
    );
}
