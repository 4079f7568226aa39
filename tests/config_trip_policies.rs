//! The trip-policy settings of `ConfigBuilder`: what `build()` refuses, with which message,
//! the defaults and effective values, explicit-setting tracking, and which rules trip the
//! breaker for each combination of settings.

use circuit_core::config::{ConfigError, Setting, Value};
use circuit_core::{Backoff, Config, ConfigBuilder, SlidingWindow};
use std::time::Duration;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn refused(builder: ConfigBuilder) -> (Setting, String) {
    let err = builder.build().unwrap_err();
    (err.setting(), err.to_string())
}

#[test]
fn a_rate_outside_zero_to_one_is_refused_nan_included() {
    for (ratio, written) in [
        (0.0, "0"),
        (-0.5, "-0.5"),
        (1.5, "1.5"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "inf"),
    ] {
        assert_eq!(
            refused(Config::builder().failure_rate_threshold(ratio)),
            (
                Setting::FailureRateThreshold,
                format!(
                    "`failure_rate_threshold` must be a ratio above 0 and at most 1, got {written}"
                )
            )
        );
        assert_eq!(
            refused(
                Config::builder()
                    .slow_call_duration(secs(2))
                    .slow_call_rate_threshold(ratio)
            ),
            (
                Setting::SlowCallRateThreshold,
                format!(
                    "`slow_call_rate_threshold` must be a ratio above 0 and at most 1, got \
                     {written}"
                )
            )
        );
    }
    // The ends that are in.
    for ratio in [1.0, f64::MIN_POSITIVE, 0.5] {
        let c = Config::builder()
            .failure_rate_threshold(ratio)
            .build()
            .unwrap();
        assert_eq!(c.failure_rate_threshold(), Some(ratio));
    }
}

#[test]
fn a_window_of_no_calls_or_no_time_is_refused() {
    assert_eq!(
        refused(Config::builder().sliding_window(SlidingWindow::Count(0))),
        (
            Setting::SlidingWindow,
            "`sliding_window` must be at least 1 call, got 0 calls".to_owned()
        )
    );
    assert_eq!(
        refused(Config::builder().sliding_window(SlidingWindow::Time(Duration::ZERO))),
        (
            Setting::SlidingWindow,
            "`sliding_window` must be longer than zero, got 0s".to_owned()
        )
    );
    assert_eq!(
        refused(Config::builder().sliding_window(SlidingWindow::Time(secs(366 * 86_400)))),
        (
            Setting::SlidingWindow,
            "`sliding_window` must be at most 365 days, got 31622400s".to_owned()
        )
    );
}

#[test]
fn minimum_calls_of_zero_or_above_a_count_windows_size_is_refused() {
    assert_eq!(
        refused(Config::builder().minimum_calls(0)),
        (
            Setting::MinimumCalls,
            "`minimum_calls` must be at least 1, got 0".to_owned()
        )
    );
    assert_eq!(
        refused(
            Config::builder()
                .sliding_window(SlidingWindow::Count(10))
                .minimum_calls(11)
        ),
        (
            Setting::MinimumCalls,
            "`minimum_calls` (11) must not exceed the size of `sliding_window` (10 calls): the \
             window could never hold enough calls for a rate to count"
                .to_owned()
        )
    );
    // Against the default window too, and not against a time window.
    assert!(Config::builder().minimum_calls(101).build().is_err());
    let c = Config::builder()
        .sliding_window(SlidingWindow::Time(secs(60)))
        .minimum_calls(5_000)
        .build()
        .unwrap();
    assert_eq!(c.minimum_calls(), 5_000);
}

#[test]
fn minimum_calls_is_100_capped_at_a_count_windows_size_unless_given() {
    let minimum = |window| {
        Config::builder()
            .sliding_window(window)
            .build()
            .unwrap()
            .minimum_calls()
    };
    assert_eq!(Config::default().minimum_calls(), 100);
    assert_eq!(
        Config::default().sliding_window(),
        SlidingWindow::Count(100)
    );
    assert_eq!(minimum(SlidingWindow::Count(20)), 20);
    assert_eq!(minimum(SlidingWindow::Count(500)), 100);
    assert_eq!(minimum(SlidingWindow::Time(secs(10))), 100);
    // Not configured: `value` says so, while the getter gives the effective value.
    assert_eq!(Config::default().value(Setting::MinimumCalls), None);
    let given = Config::builder().minimum_calls(7).build().unwrap();
    assert_eq!(given.value(Setting::MinimumCalls), Some(Value::Count(7)));
}

#[test]
fn a_slow_call_rate_without_a_duration_is_refused_and_a_duration_alone_is_not() {
    assert_eq!(
        refused(Config::builder().slow_call_rate_threshold(0.5)),
        (
            Setting::SlowCallRateThreshold,
            "`slow_call_rate_threshold` (0.5) needs `slow_call_duration`: without it no call is \
             timed, so none is slow"
                .to_owned()
        )
    );
    let alone = Config::builder()
        .slow_call_duration(secs(2))
        .build()
        .unwrap();
    assert_eq!(alone.slow_call_duration(), Some(secs(2)));
    assert_eq!(alone.slow_call_rate_threshold(), None);
    // Timing calls alone trips nothing new: the consecutive rule stays.
    assert!(alone.trips_on_consecutive_failures());
    assert_eq!(
        refused(Config::builder().slow_call_duration(Duration::ZERO)),
        (
            Setting::SlowCallDuration,
            "`slow_call_duration` must be longer than zero, got 0s".to_owned()
        )
    );
}

#[test]
fn jitter_outside_zero_to_below_one_is_refused() {
    for (ratio, written) in [(1.0, "1"), (-0.1, "-0.1"), (f64::NAN, "NaN")] {
        assert_eq!(
            refused(Config::builder().backoff(Backoff::constant().with_jitter(ratio))),
            (
                Setting::Jitter,
                format!("`jitter` must be a ratio of at least 0 and below 1, got {written}")
            )
        );
    }
    for ratio in [0.0, 0.2, 0.999] {
        let c = Config::builder()
            .backoff(Backoff::constant().with_jitter(ratio))
            .build()
            .unwrap();
        assert_eq!(c.backoff().jitter(), ratio);
    }
}

#[test]
fn an_exponential_backoff_that_cannot_grow_or_has_no_sane_cap_is_refused() {
    let backoff =
        |multiplier, max| Config::builder().backoff(Backoff::exponential(multiplier, max));
    let message = |what: &str, got: &str| {
        (
            Setting::Backoff,
            format!("`backoff` must {what}, got {got}"),
        )
    };
    assert_eq!(
        refused(backoff(0.5, secs(600))),
        message(
            "have a finite multiplier of at least 1",
            "exponential(0.5, 600s)"
        )
    );
    assert_eq!(
        refused(backoff(f64::INFINITY, secs(600))),
        message(
            "have a finite multiplier of at least 1",
            "exponential(inf, 600s)"
        )
    );
    assert_eq!(
        refused(backoff(f64::NAN, secs(600))),
        message(
            "have a finite multiplier of at least 1",
            "exponential(NaN, 600s)"
        )
    );
    assert_eq!(
        refused(backoff(2.0, Duration::ZERO)),
        message(
            "have a longest period longer than zero",
            "exponential(2, 0s)"
        )
    );
    assert_eq!(
        refused(backoff(2.0, secs(366 * 86_400))),
        message(
            "have a longest period of at most 365 days",
            "exponential(2, 31622400s)"
        )
    );
    // A cap below the first period would make the periods shrink.
    assert_eq!(
        refused(backoff(2.0, secs(30))),
        (
            Setting::Backoff,
            "`backoff`'s longest period (30s) must not be shorter than `recovery_timeout` \
             (60s): the Open periods would shrink as the breaker kept failing"
                .to_owned()
        )
    );
    let equal = backoff(1.0, secs(60)).build().unwrap();
    assert_eq!(equal.backoff().multiplier(), Some(1.0));
    assert_eq!(equal.backoff().max(), Some(secs(60)));
}

#[test]
fn every_refusal_names_its_setting_and_the_rule_names_both_settings_it_ties() {
    let err = Config::builder()
        .backoff(Backoff::exponential(2.0, secs(30)))
        .build()
        .unwrap_err();
    assert!(matches!(
        err,
        ConfigError::BackoffBelowRecoveryTimeout { max, recovery_timeout }
            if max == secs(30) && recovery_timeout == secs(60)
    ));
    assert_eq!(err.field(), "backoff");
    let err = Config::builder()
        .failure_rate_threshold(2.0)
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        ConfigError::OutOfRange {
            setting: Setting::FailureRateThreshold,
            value: Value::Ratio(2.0)
        }
    );
}

#[test]
fn the_rate_settings_are_not_configured_by_default() {
    let c = Config::default();
    assert_eq!(c.failure_rate_threshold(), None);
    assert_eq!(c.slow_call_duration(), None);
    assert_eq!(c.slow_call_rate_threshold(), None);
    assert_eq!(c.backoff(), Backoff::constant());
    assert_eq!(c.backoff().jitter(), 0.0);
    for setting in [
        Setting::FailureRateThreshold,
        Setting::MinimumCalls,
        Setting::SlowCallDuration,
        Setting::SlowCallRateThreshold,
    ] {
        assert_eq!(setting.default_value(), None, "{setting:?}");
        assert_eq!(c.value(setting), None, "{setting:?}");
    }
}

#[test]
fn which_rules_trip_the_breaker_for_every_combination() {
    // (failure rate, slow-call rate, failure_threshold given) -> consecutive rule on.
    for rate in [false, true] {
        for slow in [false, true] {
            for threshold in [false, true] {
                let mut b = Config::builder();
                if rate {
                    b = b.failure_rate_threshold(0.5);
                }
                if slow {
                    b = b.slow_call_duration(secs(1)).slow_call_rate_threshold(0.5);
                }
                if threshold {
                    b = b.failure_threshold(5); // the default value, given explicitly
                }
                let c = b.build().unwrap();
                let expected = !(rate || slow) || threshold;
                assert_eq!(
                    c.trips_on_consecutive_failures(),
                    expected,
                    "rate {rate}, slow {slow}, failure_threshold given {threshold}"
                );
                assert_eq!(c.is_set(Setting::FailureThreshold), threshold);
                assert_eq!(c.failure_rate_threshold().is_some(), rate);
                assert_eq!(c.slow_call_rate_threshold().is_some(), slow);
            }
        }
    }
}

#[test]
fn every_setter_marks_its_setting_given_and_backoff_marks_jitter_too() {
    let c = Config::builder()
        .sliding_window(SlidingWindow::Count(100)) // the default value, still given
        .backoff(Backoff::constant())
        .build()
        .unwrap();
    let given: Vec<Setting> = Setting::ALL.into_iter().filter(|&s| c.is_set(s)).collect();
    assert_eq!(
        given,
        [Setting::SlidingWindow, Setting::Backoff, Setting::Jitter]
    );
    // A config given a default value explicitly is not the shared default one.
    let debug = format!(
        "{:?}",
        Config::builder().failure_threshold(5).build().unwrap()
    );
    assert!(debug.contains("given: [\"failure_threshold\"]"), "{debug}");
}
