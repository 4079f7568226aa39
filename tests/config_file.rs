//! Configuration from a file: shared sections and instances; unknown keys and bad values are
//! refused with their location.

use circuit_core::clock::ManualClock;
use circuit_core::config::{FileConfig, FileError, Setting, Value};
use circuit_core::{Config, Registry, State};
use std::time::Duration;

const FILE: &str = r#"
[configs.default]
failure_threshold = 4
recovery_timeout = "30s"

[configs.slow-backend]
recovery_timeout = "5m"
half_open_max_calls = 1
success_threshold = 1

[instances.user-service]
failure_threshold = 3

[instances."inventory::db"]
base_config = "slow-backend"

[instances.search]
recovery_timeout = 10
"#;

fn created(registry: &Registry, name: &str) -> Config {
    registry.get_or_create(name, Config::default()).config()
}

fn settings(c: &Config) -> (u32, u32, Duration, u32) {
    (
        c.failure_threshold(),
        c.success_threshold(),
        c.recovery_timeout(),
        c.half_open_max_calls(),
    )
}

/// `(path, line, column, message)` of the only problem.
fn only(err: &FileError) -> (&str, Option<usize>, Option<usize>, &str) {
    assert_eq!(err.problems().len(), 1, "{err}");
    let p = &err.problems()[0];
    (p.path(), p.line(), p.column(), p.message())
}

#[test]
fn instances_build_on_their_base_section_and_default() {
    let file = FileConfig::from_toml(FILE).unwrap();
    assert_eq!(
        file.instances().collect::<Vec<_>>(),
        ["inventory::db", "search", "user-service"]
    );
    let registry = Registry::new();
    let applied = file.apply(&registry).unwrap();
    assert_eq!(applied.len(), 3);
    let s = |secs| Duration::from_secs(secs);
    assert_eq!(
        settings(&created(&registry, "user-service")),
        (3, 3, s(30), 3)
    );
    assert_eq!(
        settings(&created(&registry, "inventory::db")),
        (5, 1, s(300), 1),
        "slow-backend instead of default; the rest from the breaker"
    );
    assert_eq!(settings(&created(&registry, "search")), (4, 3, s(10), 3));
    assert_eq!(
        created(&registry, "unlisted").failure_threshold(),
        5,
        "left alone"
    );
}

#[test]
fn the_file_wins_over_the_code_and_keeps_what_it_leaves_unset() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let code = Config::builder()
        .failure_threshold(2)
        .half_open_max_calls(5)
        .clock(clock.clone())
        .build()
        .unwrap();
    let b = registry.get_or_create("search", code);
    FileConfig::from_toml(FILE)
        .unwrap()
        .apply(&registry)
        .unwrap();
    let c = b.config();
    assert_eq!(
        (
            c.failure_threshold(),
            c.half_open_max_calls(),
            c.recovery_timeout()
        ),
        (4, 5, Duration::from_secs(10))
    );
    for _ in 0..4 {
        let _ = b.call(|| Err::<(), _>(()));
    }
    clock.advance(Duration::from_secs(10));
    assert_eq!(b.state(), State::HalfOpen, "the breaker kept its clock");
}

#[test]
fn an_unknown_key_is_refused_with_its_path_line_and_column() {
    let err =
        FileConfig::from_toml("[instances.user-service]\nfailure_treshold = 3\n").unwrap_err();
    let (path, line, column, message) = only(&err);
    assert_eq!(path, "instances.user-service.failure_treshold");
    assert_eq!((line, column), (Some(2), Some(1)));
    assert!(
        message.starts_with("unknown field `failure_treshold`, expected one of")
            && message.contains("`failure_threshold`"),
        "{message}"
    );

    let err =
        FileConfig::from_toml("[instance.user-service]\nfailure_threshold = 3\n").unwrap_err();
    let (_, line, _, message) = only(&err);
    assert_eq!(line, Some(1));
    assert!(message.starts_with("unknown field `instance`"), "{message}");

    let err = FileConfig::from_toml("[configs.default]\nbase_config = \"x\"\n").unwrap_err();
    assert_eq!(
        only(&err).0,
        "configs.default.base_config",
        "sections have no base"
    );
}

#[test]
fn bad_values_are_refused_with_their_location_and_the_value() {
    for (text, path, line, message) in [
        (
            "[instances.db]\nfailure_threshold = 0\n",
            "instances.db.failure_threshold",
            2,
            "`failure_threshold` must be at least 1, got 0",
        ),
        (
            "[instances.db]\nhalf_open_max_calls = -1\n",
            "instances.db.half_open_max_calls",
            2,
            "`half_open_max_calls` must be at least 1, got -1",
        ),
        (
            "[configs.default]\n\nrecovery_timeout = \"10d\"\n",
            "configs.default.recovery_timeout",
            3,
            "\"10d\": expected a whole number of seconds, or one with a unit: 500ms, 30s, 5m, 1h",
        ),
        (
            "[instances.db]\nrecovery_timeout = 0\n",
            "instances.db.recovery_timeout",
            2,
            "`recovery_timeout` must be longer than zero, got 0s",
        ),
        (
            "[instances.db]\nrecovery_timeout = 1.5\n",
            "instances.db.recovery_timeout",
            2,
            "invalid type: floating point `1.5`, expected whole seconds, or a string with one unit of ms, s, m, h (\"30s\")",
        ),
        (
            "[instances.db]\nsuccess_threshold = \"3\"\n",
            "instances.db.success_threshold",
            2,
            "invalid type: string \"3\", expected a whole number",
        ),
    ] {
        let err = FileConfig::from_toml(text).unwrap_err();
        let (p, l, c, m) = only(&err);
        assert_eq!((p, l, m), (path, Some(line), message), "{text}");
        assert!(c.is_some());
    }
}

#[test]
fn text_that_is_not_toml_is_refused_with_its_line() {
    let err = FileConfig::from_toml("[instances.db\nfailure_threshold = 3\n").unwrap_err();
    let (path, line, _, _) = only(&err);
    assert_eq!((path, line), ("", Some(1)));
    assert!(
        err.to_string().contains("\n  (file) (line 1, column"),
        "{err}"
    );
}

#[test]
fn a_missing_base_section_is_refused() {
    let err = FileConfig::from_toml(
        "[configs.fast]\nfailure_threshold = 1\n[instances.db]\nbase_config = \"slow\"\n",
    )
    .unwrap_err();
    let (path, _, _, message) = only(&err);
    assert_eq!(path, "instances.db.base_config");
    assert_eq!(message, "no section `configs.slow`; there are `fast`");
}

#[test]
fn a_rule_between_two_settings_is_checked_against_the_breaker_and_nothing_is_applied() {
    let registry = Registry::new();
    let file = FileConfig::from_toml(
        "[configs.default]\nsuccess_threshold = 4\n\
         [instances.a]\nfailure_threshold = 2\n\
         [instances.b]\nhalf_open_max_calls = 4\n\
         [instances.c]\nsuccess_threshold = 9\n",
    )
    .unwrap();
    let err = file.apply(&registry).unwrap_err();
    let found: Vec<(&str, &str)> = err
        .problems()
        .iter()
        .map(|p| (p.path(), p.message()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "configs.default.success_threshold",
                "`success_threshold` (4) must not exceed `half_open_max_calls` (3): the breaker could never close"
            ),
            (
                "instances.c.success_threshold",
                "`success_threshold` (9) must not exceed `half_open_max_calls` (3): the breaker could never close"
            ),
        ]
    );
    assert!(registry.names().is_empty(), "nothing was configured");
    assert_eq!(created(&registry, "b").success_threshold(), 3);
}

#[test]
fn any_serde_format_works_and_reports_the_path() {
    let json = r#"{"instances": {"db": {"failure_threshold": 2, "recovery_timeout": "90s"}}}"#;
    let file =
        FileConfig::from_deserializer(&mut serde_json::Deserializer::from_str(json)).unwrap();
    let s = file.settings("db").unwrap();
    assert_eq!(
        s.iter().collect::<Vec<_>>(),
        [
            (Setting::FailureThreshold, Value::Count(2)),
            (
                Setting::RecoveryTimeout,
                Value::Duration(Duration::from_secs(90))
            )
        ]
    );

    let bad = r#"{"instances": {"db": {"failure_threshold": 0}}}"#;
    let err =
        FileConfig::from_deserializer(&mut serde_json::Deserializer::from_str(bad)).unwrap_err();
    let (path, _, _, message) = only(&err);
    assert_eq!(path, "instances.db.failure_threshold");
    assert!(
        message.starts_with("`failure_threshold` must be at least 1, got 0"),
        "{message}"
    );
}

#[test]
fn an_empty_file_configures_nothing() {
    let registry = Registry::new();
    assert!(FileConfig::from_toml("")
        .unwrap()
        .apply(&registry)
        .unwrap()
        .is_empty());
    assert!(registry.names().is_empty());
}

#[test]
fn durations_follow_the_attributes_grammar_besides_whole_seconds() {
    let timeout = |value: &str| {
        FileConfig::from_toml(&format!("[instances.db]\nrecovery_timeout = {value}\n"))
            .map(|file| {
                file.apply(&Registry::new()).unwrap()[0]
                    .1
                    .recovery_timeout()
            })
            .map_err(|err| only(&err).3.to_owned())
    };
    assert_eq!(timeout("\"500ms\""), Ok(Duration::from_millis(500)));
    assert_eq!(timeout("\" 60 \""), Ok(Duration::from_secs(60)));
    assert_eq!(timeout("60"), Ok(Duration::from_secs(60)));
    for refused in ["\"1.5s\"", "\"2 h\"", "\"1m30s\""] {
        assert_eq!(
            timeout(refused),
            Err(format!(
                "{refused}: expected a whole number of seconds, or one with a unit: 500ms, 30s, 5m, 1h"
            )),
        );
    }
    assert_eq!(
        timeout("\"9000h\""),
        Err("`recovery_timeout` must be at most 365 days, got 9000h".to_owned())
    );
}

#[test]
fn a_key_given_twice_is_refused() {
    let json = r#"{"instances": {"db": {"failure_threshold": 2, "failure_threshold": 3}}}"#;
    let err =
        FileConfig::from_deserializer(&mut serde_json::Deserializer::from_str(json)).unwrap_err();
    let (path, _, _, message) = only(&err);
    assert_eq!(path, "instances.db");
    assert!(
        message.starts_with("duplicate field `failure_threshold`"),
        "{message}"
    );
}

#[test]
fn a_rule_broken_by_the_other_setting_blames_that_one() {
    // success_threshold stays the breaker's 3; the file lowers half_open_max_calls under it.
    let err = FileConfig::from_toml("[instances.db]\nhalf_open_max_calls = 2\n")
        .unwrap()
        .apply(&Registry::new())
        .unwrap_err();
    assert_eq!(
        only(&err).0,
        "instances.db.half_open_max_calls",
        "the value the file gave, not the instance as a whole"
    );
}

/// A file of `n` sections and `n` instances, each naming a section that is not there.
fn instances_with_missing_bases(n: usize) -> String {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "[configs.section-{i:05}]\nfailure_threshold = 2\n\
             [instances.breaker-{i:05}]\nbase_config = \"missing-{i:05}\"\n"
        ));
    }
    text
}

#[test]
fn an_error_about_thousands_of_missing_bases_grows_linearly_with_the_file() {
    // Each instance's problem used to list every section: 3,000 of each (a 238 KB file) gave
    // a 78 MB message. Now a problem names a few sections and how many it left out, and the
    // message names a few problems and how many it left out.
    let sizes: Vec<(usize, usize, usize)> = [1_500, 3_000]
        .into_iter()
        .map(|n| {
            let text = instances_with_missing_bases(n);
            let err = FileConfig::from_toml(&text).unwrap_err();
            assert_eq!(err.problems().len(), n, "every instance is reported");
            let problems: usize = err.problems().iter().map(|p| p.to_string().len()).sum();
            (text.len(), problems, err.to_string().len())
        })
        .collect();
    let [(small_file, small_problems, small_message), (large_file, large_problems, large_message)] =
        sizes[..]
    else {
        unreachable!()
    };
    assert!(large_file > 2 * small_file - 100);
    assert!(
        large_problems <= 2 * small_problems + 1_000,
        "problems of {small_problems} then {large_problems} bytes"
    );
    assert!(
        large_problems < 4 * large_file,
        "the problems ({large_problems} bytes) are within a few times the file ({large_file})"
    );
    assert!(
        large_message <= small_message + 16 && large_message < 20_000,
        "messages of {small_message} then {large_message} bytes"
    );

    let err = FileConfig::from_toml(&instances_with_missing_bases(3_000)).unwrap_err();
    assert_eq!(
        err.problems()[0].to_string(),
        "instances.breaker-00000.base_config: no section `configs.missing-00000`; there are \
         3000, the first 8 by name: `section-00000`, `section-00001`, `section-00002`, \
         `section-00003`, `section-00004`, `section-00005`, `section-00006`, `section-00007` \
         and 2992 more"
    );
    let message = err.to_string();
    assert!(
        message.ends_with(
            "\n  and 2950 more (the first 50 are shown; `FileError::problems()` has them all)"
        ),
        "{}",
        &message[message.len() - 300..]
    );
    assert_eq!(message.lines().count(), 1 + 50 + 1);
}

/// `(path, message)` of the only problem of reading `json` with `from_deserializer`.
fn from_json_deserializer(json: &str) -> Result<FileConfig, (String, String)> {
    FileConfig::from_deserializer(&mut serde_json::Deserializer::from_str(json)).map_err(|err| {
        let (path, _, _, message) = only(&err);
        (path.to_owned(), message.to_owned())
    })
}

#[test]
fn json_refuses_an_instance_or_a_section_given_twice_as_toml_does() {
    // serde_json kept the last of two instances of one name, where TOML refuses the second.
    let twice =
        r#"{"instances": {"db": {"failure_threshold": 2}, "db": {"failure_threshold": 9}}}"#;
    let (path, message) = from_json_deserializer(twice).unwrap_err();
    assert_eq!(path, "instances.db");
    assert_eq!(
        message,
        "instance `db` is given twice: list each breaker once, with all its settings at line 1 \
         column 53"
    );
    let twice = r#"{"configs": {"slow": {}, "slow": {"failure_threshold": 9}}}"#;
    let (path, message) = from_json_deserializer(twice).unwrap_err();
    assert_eq!(path, "configs.slow");
    assert!(
        message.starts_with("section `slow` is given twice: give each section once"),
        "{message}"
    );
    let twice = r#"{"instances": {}, "instances": {"db": {}}}"#;
    let (_, message) = from_json_deserializer(twice).unwrap_err();
    assert!(
        message.starts_with("duplicate field `instances`"),
        "{message}"
    );

    for toml in [
        "[instances.db]\nfailure_threshold = 2\n[instances.db]\nfailure_threshold = 9\n",
        "[configs.slow]\n[configs.slow]\n",
    ] {
        assert!(FileConfig::from_toml(toml).is_err(), "{toml}");
    }
}

#[test]
fn a_document_that_is_not_a_table_is_refused_in_every_format() {
    // A derived struct reads a JSON array as its fields in order: `[]` was an empty file.
    for json in ["[]", "[{}, {}]", "3", "\"configs\"", "null"] {
        let (path, message) = from_json_deserializer(json).unwrap_err();
        assert_eq!(path, ".", "{json}");
        assert!(
            message.contains("expected a table with `configs` and `instances`"),
            "{json}: {message}"
        );
    }
    let (path, message) = from_json_deserializer(r#"{"instances": []}"#).unwrap_err();
    assert_eq!(path, "instances");
    assert!(
        message.starts_with("invalid type: sequence, expected a table of instances by name"),
        "{message}"
    );
    assert!(FileConfig::from_toml("instances = []").is_err());
}

#[test]
fn text_after_a_json_document_is_the_callers_to_check_or_from_json_refuses_it() {
    let two = "{\"instances\": {\"db\": {\"failure_threshold\": 2}}}\n{\"instances\": {}}";
    // `from_deserializer` reads one document; the deserializer tells what follows.
    let mut d = serde_json::Deserializer::from_str(two);
    let file = FileConfig::from_deserializer(&mut d).unwrap();
    assert_eq!(file.instances().collect::<Vec<_>>(), ["db"]);
    assert!(d.end().is_err(), "the caller's check");

    let err = FileConfig::from_json(two).unwrap_err();
    assert_eq!(only(&err), ("", Some(2), Some(1), "trailing characters"));
    assert_eq!(
        err.to_string(),
        "bad circuit breaker configuration; none was applied:\n  \
         (file) (line 2, column 1): trailing characters"
    );
}

#[test]
fn from_json_reads_what_from_toml_reads_and_locates_what_it_refuses() {
    let json = r#"{
        "configs": {"slow-backend": {"recovery_timeout": "5m", "half_open_max_calls": 1, "success_threshold": 1}},
        "instances": {"inventory::db": {"base_config": "slow-backend"}, "search": {"recovery_timeout": 10}}
    }"#;
    let registry = Registry::new();
    FileConfig::from_json(json)
        .unwrap()
        .apply(&registry)
        .unwrap();
    assert_eq!(
        settings(&created(&registry, "inventory::db")),
        (5, 1, Duration::from_secs(300), 1)
    );
    assert_eq!(
        created(&registry, "search").recovery_timeout(),
        Duration::from_secs(10)
    );

    let err = FileConfig::from_json("{\"instances\": {\"db\":\n {\"failure_threshold\": 0}}}")
        .unwrap_err();
    assert_eq!(
        only(&err),
        (
            "instances.db.failure_threshold",
            Some(2),
            Some(25),
            "`failure_threshold` must be at least 1, got 0"
        )
    );
    let err = FileConfig::from_json("{").unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad circuit breaker configuration; none was applied:\n  \
         (file) (line 1, column 1): EOF while parsing an object"
    );
}
