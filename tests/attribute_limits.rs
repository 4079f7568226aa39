//! The attribute checks its literals at compile time with its own copy of the table of
//! settings and of the duration grammar (a proc-macro crate cannot depend on the runtime).
//! These tests fail as soon as a copy drifts from the runtime's: a default, a limit or a unit
//! changed on one side only.

use circuit_core::config::{self, Setting, Value};
use circuit_core::Config;
use std::time::Duration;

/// The attribute's table, compiled here as the attribute compiles it.
#[allow(dead_code)] // the attribute's copy, used here only in part
#[path = "../circuit-macros/src/table.rs"]
mod macro_table;

/// The canonical copies (in circuit-macros) and the runtime's, which must be the same text.
const SHARED: [(&str, &str, &str); 2] = [
    (
        "table.rs",
        include_str!("../circuit-macros/src/table.rs"),
        include_str!("../circuit-core/src/config/table.rs"),
    ),
    (
        "grammar.rs",
        include_str!("../circuit-macros/src/grammar.rs"),
        include_str!("../circuit-core/src/config/grammar.rs"),
    ),
];

#[test]
fn the_runtime_compiles_the_attributes_table_and_grammar_word_for_word() {
    for (file, canonical, copy) in SHARED {
        assert!(
            canonical == copy,
            "circuit-core/src/config/{file} differs from circuit-macros/src/{file}; \
             edit the latter and copy it over the former"
        );
    }
}

/// A value of either table, written the same way for both.
fn text(debug: impl std::fmt::Debug) -> String {
    format!("{debug:?}")
}

#[test]
fn the_attributes_defaults_and_limits_are_the_runtimes() {
    assert_eq!(macro_table::Setting::ALL.len(), Setting::ALL.len());
    for (ours, theirs) in macro_table::Setting::ALL.into_iter().zip(Setting::ALL) {
        assert_eq!(
            text(ours),
            text(theirs),
            "the same variant at the same place"
        );
        assert_eq!(ours.name(), theirs.name());
        assert_eq!(ours.env_suffix(), theirs.env_suffix());
        assert_eq!(text(ours.kind()), text(theirs.kind()), "{}", theirs.name());
        assert_eq!(
            text(ours.default_value()),
            text(theirs.default_value()),
            "{}",
            theirs.name()
        );
        assert_eq!(text(ours.max()), text(theirs.max()), "{}", theirs.name());
    }
    assert_eq!(
        macro_table::MAX_HALF_OPEN_CALLS,
        config::MAX_HALF_OPEN_CALLS
    );
    assert_eq!(
        macro_table::MAX_RECOVERY_TIMEOUT,
        config::MAX_RECOVERY_TIMEOUT
    );
}

#[test]
fn the_tables_defaults_are_configs_defaults() {
    let c = Config::default();
    for setting in Setting::ALL {
        assert_eq!(c.value(setting), setting.default_value(), "{setting:?}");
    }
    // And the numbers the docs give.
    assert_eq!(
        (
            c.failure_threshold(),
            c.success_threshold(),
            c.half_open_max_calls(),
            c.recovery_timeout()
        ),
        (5, 3, 3, Duration::from_secs(60))
    );
}

#[test]
fn the_tables_limits_are_what_build_accepts() {
    for setting in Setting::ALL {
        let Some(max) = setting.max() else { continue };
        let above = match max {
            Value::Count(n) => Value::Count(n + 1),
            Value::Duration(d) => Value::Duration(d + Duration::from_millis(1)),
            other => panic!("no test for {other:?}"),
        };
        let mut at_max = config::Settings::new();
        at_max.set(setting, max).unwrap();
        // The largest success_threshold needs as many trial calls.
        if setting == Setting::SuccessThreshold {
            at_max
                .set(
                    Setting::HalfOpenMaxCalls,
                    Value::Count(config::MAX_HALF_OPEN_CALLS),
                )
                .unwrap();
        }
        let config = at_max.apply(&Config::default()).unwrap();
        assert_eq!(config.value(setting), Some(max));
        assert!(config::Settings::new().set(setting, above).is_err());
    }
}
