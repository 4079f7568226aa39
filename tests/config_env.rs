//! Configuration from environment variables. The variables come from each test, never from
//! the process environment.

use circuit_core::clock::ManualClock;
use circuit_core::config::EnvConfig;
use circuit_core::{Config, Registry, State};
use std::time::Duration;

fn created(registry: &Registry, name: &str) -> Config {
    registry.get_or_create(name, Config::default()).config()
}

#[test]
fn a_prefix_of_its_own_reads_variables_such_as_db_circuit_breaker() {
    let registry = Registry::new();
    let applied = EnvConfig::new()
        .breaker_with_prefix("database", "DB_CIRCUIT_BREAKER")
        .apply_from(
            &registry,
            [
                ("DB_CIRCUIT_BREAKER_FAILURE_THRESHOLD", "7"),
                ("DB_CIRCUIT_BREAKER_RECOVERY_TIMEOUT", "90"),
                ("POOL_SIZE", "10"),
            ],
        )
        .unwrap();
    assert_eq!(applied.len(), 1);
    let c = created(&registry, "database");
    assert_eq!(c.failure_threshold(), 7);
    assert_eq!(c.recovery_timeout(), Duration::from_secs(90));
    assert_eq!(c.success_threshold(), 3, "unset: the default");
}

#[test]
fn a_breaker_reads_circuit_and_its_name_in_capitals() {
    let registry = Registry::new();
    EnvConfig::new()
        .breaker("user-service")
        .apply_from(
            &registry,
            [
                ("CIRCUIT_USER_SERVICE_FAILURE_THRESHOLD", "3"),
                ("CIRCUIT_USER_SERVICE_SUCCESS_THRESHOLD", "2"),
                ("CIRCUIT_USER_SERVICE_RECOVERY_TIMEOUT", "5m"),
                ("CIRCUIT_USER_SERVICE_HALF_OPEN_MAX_CALLS", "4"),
            ],
        )
        .unwrap();
    let c = created(&registry, "user-service");
    assert_eq!(
        (
            c.failure_threshold(),
            c.success_threshold(),
            c.recovery_timeout(),
            c.half_open_max_calls()
        ),
        (3, 2, Duration::from_secs(300), 4)
    );
}

#[test]
fn recovery_timeouts_take_seconds_or_a_unit() {
    for (raw, expected) in [
        ("45", Duration::from_secs(45)),
        ("1500ms", Duration::from_millis(1500)),
        ("30s", Duration::from_secs(30)),
        ("2m", Duration::from_secs(120)),
        ("1h", Duration::from_secs(3600)),
        (" 7s\n", Duration::from_secs(7)),
    ] {
        let registry = Registry::new();
        EnvConfig::new()
            .breaker("svc")
            .apply_from(&registry, [("CIRCUIT_SVC_RECOVERY_TIMEOUT", raw)])
            .unwrap();
        assert_eq!(
            created(&registry, "svc").recovery_timeout(),
            expected,
            "{raw}"
        );
    }
}

#[test]
fn recovery_timeouts_follow_the_attributes_grammar_besides_bare_seconds() {
    // One unit, no space, no fraction: what the attribute refuses, the environment refuses.
    for raw in ["1.5s", "2 h", "1m30s", "10d", "-1s"] {
        let err = EnvConfig::new()
            .breaker("svc")
            .apply_from(&Registry::new(), [("CIRCUIT_SVC_RECOVERY_TIMEOUT", raw)])
            .unwrap_err();
        assert_eq!(
            err.problems()[0].reason(),
            "expected a whole number of seconds, or one with a unit: 500ms, 30s, 5m, 1h",
            "{raw}"
        );
    }
}

#[test]
fn names_with_punctuation_read_one_underscore_per_run_of_it() {
    let prefix = |name| EnvConfig::env_prefix(name);
    assert_eq!(prefix("user-service").unwrap(), "CIRCUIT_USER_SERVICE");
    assert_eq!(
        prefix("my_app::db::get_user").unwrap(),
        "CIRCUIT_MY_APP_DB_GET_USER"
    );
    assert_eq!(prefix("http.client:v2").unwrap(), "CIRCUIT_HTTP_CLIENT_V2");
    assert_eq!(prefix("--Ünïcode--x").unwrap(), "CIRCUIT_N_CODE_X");
    assert_eq!(prefix("::"), None);

    let registry = Registry::new();
    EnvConfig::new()
        .breaker("app::db.pool")
        .breaker("::") // nothing to spell: reads nothing, not CIRCUIT_FAILURE_THRESHOLD
        .apply_from(
            &registry,
            [
                ("CIRCUIT_APP_DB_POOL_FAILURE_THRESHOLD", "9"),
                ("CIRCUIT_FAILURE_THRESHOLD", "1"),
            ],
        )
        .unwrap();
    assert_eq!(created(&registry, "app::db.pool").failure_threshold(), 9);
    assert_eq!(created(&registry, "::").failure_threshold(), 5);

    // Chosen explicitly, the bare prefix is honoured.
    EnvConfig::new()
        .breaker_with_prefix("only", "CIRCUIT_")
        .apply_from(&registry, [("CIRCUIT_FAILURE_THRESHOLD", "1")])
        .unwrap();
    assert_eq!(created(&registry, "only").failure_threshold(), 1);
}

#[test]
fn every_bad_value_is_reported_at_once_and_nothing_is_applied() {
    let registry = Registry::new();
    registry.get_or_create("user-service", Config::default());
    let err = EnvConfig::new()
        .breaker("user-service")
        .breaker_with_prefix("database", "DB_CIRCUIT_BREAKER")
        .breaker("search")
        .apply_from(
            &registry,
            [
                ("CIRCUIT_USER_SERVICE_FAILURE_THRESHOLD", "0"),
                ("CIRCUIT_USER_SERVICE_RECOVERY_TIMEOUT", "10 days"),
                ("DB_CIRCUIT_BREAKER_FAILURE_THRESHOLD", "five"),
                ("DB_CIRCUIT_BREAKER_RECOVERY_TIMEOUT", "0"),
                ("CIRCUIT_SEARCH_FAILURE_THRESHOLD", "2"), // good, but not applied
            ],
        )
        .unwrap_err();
    let problems: Vec<(&str, &str, &str)> = err
        .problems()
        .iter()
        .map(|p| (p.variable(), p.value(), p.reason()))
        .collect();
    assert_eq!(
        problems,
        [
            (
                "CIRCUIT_USER_SERVICE_FAILURE_THRESHOLD",
                "0",
                "`failure_threshold` must be at least 1, got 0"
            ),
            (
                "CIRCUIT_USER_SERVICE_RECOVERY_TIMEOUT",
                "10 days",
                "expected a whole number of seconds, or one with a unit: 500ms, 30s, 5m, 1h"
            ),
            (
                "DB_CIRCUIT_BREAKER_FAILURE_THRESHOLD",
                "five",
                "expected a whole number"
            ),
            (
                "DB_CIRCUIT_BREAKER_RECOVERY_TIMEOUT",
                "0",
                "`recovery_timeout` must be longer than zero, got 0s"
            ),
        ]
    );
    assert_eq!(
        err.to_string().lines().next(),
        Some("4 bad circuit breaker settings in the environment; none was applied:")
    );
    assert!(err
        .to_string()
        .contains("\n  DB_CIRCUIT_BREAKER_FAILURE_THRESHOLD=\"five\": expected a whole number"));
    assert_eq!(created(&registry, "user-service").failure_threshold(), 5);
    assert_eq!(created(&registry, "search").failure_threshold(), 5);
}

#[test]
fn a_rule_between_two_settings_blames_the_variable_that_broke_it() {
    let registry = Registry::new();
    registry.get_or_create("a", Config::default()); // half_open_max_calls 3
    registry.get_or_create("b", Config::default()); // success_threshold 3
    let err = EnvConfig::new()
        .breaker("a")
        .breaker("b")
        .apply_from(
            &registry,
            [
                ("CIRCUIT_A_SUCCESS_THRESHOLD", "5"),
                ("CIRCUIT_B_HALF_OPEN_MAX_CALLS", "2"),
            ],
        )
        .unwrap_err();
    let blamed: Vec<(&str, &str)> = err
        .problems()
        .iter()
        .map(|p| (p.variable(), p.reason()))
        .collect();
    assert_eq!(
        blamed,
        [
            (
                "CIRCUIT_A_SUCCESS_THRESHOLD",
                "`success_threshold` (5) must not exceed `half_open_max_calls` (3): the breaker could never close"
            ),
            (
                "CIRCUIT_B_HALF_OPEN_MAX_CALLS",
                "`success_threshold` (3) must not exceed `half_open_max_calls` (2): the breaker could never close"
            ),
        ]
    );
}

#[test]
fn unset_variables_keep_the_breakers_own_settings_and_clock() {
    let registry = Registry::new();
    let clock = ManualClock::new();
    let declared = Config::builder()
        .failure_threshold(2)
        .clock(clock.clone())
        .build()
        .unwrap();
    let b = registry.get_or_create("inventory", declared);
    EnvConfig::new()
        .breaker("inventory")
        .apply_from(&registry, [("CIRCUIT_INVENTORY_RECOVERY_TIMEOUT", "10s")])
        .unwrap();
    assert_eq!(b.config().failure_threshold(), 2);
    for _ in 0..2 {
        let _ = b.call(|| Err::<(), _>(()));
    }
    assert_eq!(b.state(), State::Open);
    clock.advance(Duration::from_secs(10));
    assert_eq!(
        b.state(),
        State::HalfOpen,
        "the new timeout, on the breaker's clock"
    );
}

#[test]
fn variables_lay_over_a_configuration_given_before_creation() {
    let registry = Registry::new();
    registry.configure(
        "later",
        Config::builder().failure_threshold(8).build().unwrap(),
    );
    EnvConfig::new()
        .breaker("later")
        .apply_from(&registry, [("CIRCUIT_LATER_HALF_OPEN_MAX_CALLS", "6")])
        .unwrap();
    let c = created(&registry, "later");
    assert_eq!((c.failure_threshold(), c.half_open_max_calls()), (8, 6));
}

#[test]
fn registered_reads_every_breaker_of_the_registry() {
    let registry = Registry::new();
    registry.get_or_create("orders", Config::default());
    registry.get_or_create("payments", Config::default());
    let applied = EnvConfig::new()
        .breaker_with_prefix("payments", "PAY")
        .registered(&registry)
        .apply_from(
            &registry,
            [
                ("CIRCUIT_ORDERS_FAILURE_THRESHOLD", "4"),
                ("PAY_FAILURE_THRESHOLD", "6"),
                ("CIRCUIT_PAYMENTS_FAILURE_THRESHOLD", "99"),
            ],
        )
        .unwrap();
    assert_eq!(applied.len(), 2);
    assert_eq!(created(&registry, "orders").failure_threshold(), 4);
    assert_eq!(
        created(&registry, "payments").failure_threshold(),
        6,
        "its own prefix"
    );
}

#[test]
fn two_breakers_reading_one_variable_is_an_error() {
    let registry = Registry::new();
    let env = EnvConfig::new().breaker("a-b").breaker("a_b");
    let err = env
        .apply_from(&registry, [("CIRCUIT_A_B_FAILURE_THRESHOLD", "4")])
        .unwrap_err();
    assert_eq!(err.problems().len(), 1);
    assert_eq!(
        err.problems()[0].variable(),
        "CIRCUIT_A_B_FAILURE_THRESHOLD"
    );
    assert_eq!(
        err.problems()[0].reason(),
        "breakers `a-b`, `a_b` all read it; give all but one a prefix of their own"
    );
    // Unset, the clash harms nothing.
    assert!(env
        .apply_from(&registry, [("OTHER", "1")])
        .unwrap()
        .is_empty());
}

#[cfg(unix)]
#[test]
fn a_value_that_is_not_utf8_is_reported() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    let err = EnvConfig::new()
        .breaker("svc")
        .apply_from(
            &Registry::new(),
            [(
                OsString::from("CIRCUIT_SVC_FAILURE_THRESHOLD"),
                OsString::from_vec(vec![b'3', 0xff]),
            )],
        )
        .unwrap_err();
    assert_eq!(err.problems()[0].reason(), "not valid UTF-8");
    assert_eq!(err.problems()[0].value(), "3\u{fffd}");
}
