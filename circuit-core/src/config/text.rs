//! Values written as text, as environment variables and files hold them: a count is a whole
//! number; a duration follows the grammar the attribute reads (`grammar.rs`: `500ms`, `30s`,
//! `5m`, `1h`) or is a bare whole number of seconds (`60`); a ratio, a sliding window and a
//! backoff follow the forms of `grammar.rs` (`0.5`; `100 calls` or `60s`; `constant` or
//! `exponential(2, 5m)`); a yes or no is `true` or `false`. Surrounding whitespace is ignored.
//!
//! The errors say what to write; the setting's own limits are checked afterwards, with
//! `ConfigError`'s messages.

use crate::config::grammar::{self, describe_limit, DurationError, FormError};
use crate::config::{ConfigError, Growth, Kind, Setting, SlidingWindow, Value};
use std::time::Duration;

/// What a duration may look like, for the errors.
const DURATION_HINT: &str =
    "expected a whole number of seconds, or one with a unit: 500ms, 30s, 5m, 1h";

/// What a ratio may look like, for the errors.
const RATIO_HINT: &str = "expected a ratio, a decimal number like 0.5 (half the calls)";

/// What a window may look like, for the errors.
const WINDOW_HINT: &str =
    "expected a number of calls or a duration with its unit: 100 calls, 60s, 5m";

/// What a backoff may look like, for the errors.
const BACKOFF_HINT: &str = "expected `constant`, or `exponential(M, MAX)` with a multiplier and \
                            the longest period, like `exponential(2, 5m)`";

/// Reads `text` as a value of `setting`'s kind and checks it against the setting's limits;
/// a refusal shows the value as written.
pub(crate) fn checked(setting: Setting, text: &str) -> Result<Value, String> {
    let value = parse(setting, text)?;
    let t = text.trim();
    ConfigError::check(setting, value).map_err(|e| match setting.kind() {
        // A bare number of seconds, with its unit: `0s`.
        Kind::Duration if t.bytes().all(|b| b.is_ascii_digit()) => e.given(&format!("{t}s")),
        _ => e.given(t),
    })?;
    Ok(value)
}

/// Reads `text` as a value of `setting`'s kind (not yet checked against its limits).
pub(crate) fn parse(setting: Setting, text: &str) -> Result<Value, String> {
    match setting.kind() {
        Kind::Count => count(setting, text).map(Value::Count),
        Kind::Duration => duration(setting, text).map(Value::Duration),
        Kind::Ratio => ratio(text).map(Value::Ratio),
        Kind::Window => window(text).map(Value::Window),
        Kind::Backoff => backoff(text).map(Value::Backoff),
        Kind::Bool => boolean(text).map(Value::Bool),
    }
}

/// A yes or no: `true` or `false`. A `1`, `yes` or `on` is refused with the word it means.
pub(crate) fn boolean(text: &str) -> Result<bool, String> {
    let t = text.trim();
    grammar::parse_bool(t).ok_or_else(|| match grammar::bool_meant(t) {
        Some(meant) => format!("expected `true` or `false`: write {meant}"),
        None => "expected `true` or `false`".to_owned(),
    })
}

/// A ratio: `0.5`. A percentage is refused with the ratio it means.
pub(crate) fn ratio(text: &str) -> Result<f64, String> {
    grammar::parse_ratio(text.trim()).map_err(|e| match e {
        FormError::Percent(ratio) => format!("expected a ratio, not a percentage: write {ratio}"),
        FormError::Malformed | FormError::TooLong => RATIO_HINT.into(),
    })
}

/// A sliding window: `100 calls` or `60s`. A bare number is refused: calls or seconds?
pub(crate) fn window(text: &str) -> Result<SlidingWindow, String> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "a bare number could be calls or seconds: write `{t} calls` or `{t}s`"
        ));
    }
    grammar::parse_window(t).map_err(|e| match e {
        FormError::TooLong => "too large: at most 4294967295 calls, or 365 days".into(),
        FormError::Malformed | FormError::Percent(_) => WINDOW_HINT.into(),
    })
}

/// A backoff: `constant` or `exponential(2, 5m)`.
pub(crate) fn backoff(text: &str) -> Result<Growth, String> {
    grammar::parse_backoff(text.trim()).map_err(|e| match e {
        FormError::TooLong => "too long: the longest period must be at most 365 days".into(),
        FormError::Malformed | FormError::Percent(_) => BACKOFF_HINT.into(),
    })
}

fn count(setting: Setting, text: &str) -> Result<u32, String> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected a whole number".into());
    }
    t.parse().map_err(|_| too_many(setting, &t))
}

/// The message for a count above what a `u32` holds: with the setting's own largest value
/// (1,048,575 for `half_open_max_calls`), not the type's.
pub(crate) fn too_many(setting: Setting, given: &dyn std::fmt::Display) -> String {
    let max = match setting.max() {
        Some(Value::Count(max)) => max,
        _ => u32::MAX,
    };
    format!("`{}` must be at most {max}, got {given}", setting.name())
}

/// A duration for `setting`: the grammar, or bare seconds.
pub(crate) fn duration(setting: Setting, text: &str) -> Result<Duration, String> {
    parse_duration(text).map_err(|e| match e {
        ParseDurationError::Malformed => DURATION_HINT.into(),
        ParseDurationError::TooLong => too_long(setting),
    })
}

/// Why [`parse_duration`] refused a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseDurationError {
    /// Neither a whole number of seconds nor a whole number with one unit.
    #[error("expected a whole number of seconds, or one with a unit: 500ms, 30s, 5m, 1h")]
    Malformed,
    /// More milliseconds than a `u64` holds.
    #[error("too long")]
    TooLong,
}

/// Reads a duration as the environment and configuration files write a breaker's: a whole
/// number of seconds (`60`) or a whole number with one unit of `ms`, `s`, `m`, `h` (`500ms`,
/// `30s`, `5m`, `1h`), surrounding whitespace ignored. For an application's own settings that
/// sit beside its breakers' (a pool timeout read next to `DB_CIRCUIT_BREAKER_RECOVERY_TIMEOUT`),
/// so that both read alike. Zero is accepted: whether it makes sense is the caller's to say.
///
/// ```
/// use circuit_core::config::parse_duration;
/// use std::time::Duration;
///
/// assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
/// assert_eq!(parse_duration(" 300ms "), Ok(Duration::from_millis(300)));
/// assert!(parse_duration("1.5s").is_err()); // write 1500ms
/// ```
///
/// # Errors
///
/// [`ParseDurationError`] for a text outside the grammar or too long for a `u64` of
/// milliseconds.
pub fn parse_duration(text: &str) -> Result<Duration, ParseDurationError> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        // Only digits: a number that does not parse is too large for a u64.
        return t
            .parse::<u64>()
            .ok()
            .and_then(|secs| secs.checked_mul(1_000))
            .map(Duration::from_millis)
            .ok_or(ParseDurationError::TooLong);
    }
    grammar::parse_duration(t).map_err(|e| match e {
        DurationError::Malformed => ParseDurationError::Malformed,
        DurationError::TooLong => ParseDurationError::TooLong,
    })
}

/// `secs` whole seconds, as a duration kept to the millisecond like every other (a file's bare
/// number of seconds).
#[cfg(feature = "serde")]
pub(crate) fn seconds(setting: Setting, secs: u64) -> Result<Duration, String> {
    secs.checked_mul(1_000)
        .map(Duration::from_millis)
        .ok_or_else(|| too_long(setting))
}

fn too_long(setting: Setting) -> String {
    match setting.max() {
        Some(Value::Duration(max)) => format!("too long: must be at most {}", describe_limit(max)),
        _ => "too long".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Setting = Setting::RecoveryTimeout;

    #[test]
    fn durations_take_the_grammar_or_bare_seconds() {
        let ok = |s: &str| duration(TIMEOUT, s).unwrap();
        assert_eq!(ok("60"), Duration::from_secs(60));
        assert_eq!(ok(" 500ms "), Duration::from_millis(500));
        assert_eq!(ok("30s"), Duration::from_secs(30));
        assert_eq!(ok("5m"), Duration::from_secs(300));
        assert_eq!(ok("2h"), Duration::from_secs(7200));
        for bad in ["", "s", "1.5s", "-1", "10d", "1m30s", "2 h", "30 seconds"] {
            assert_eq!(duration(TIMEOUT, bad), Err(DURATION_HINT.into()), "{bad:?}");
        }
        for huge in [
            "99999999999999999999h",
            "99999999999999999999",
            "18446744073709552",
        ] {
            assert_eq!(
                duration(TIMEOUT, huge),
                Err("too long: must be at most 365 days".into()),
                "{huge:?}"
            );
        }
    }

    #[test]
    fn counts_are_whole_numbers_of_a_u32() {
        let count = |s| parse(Setting::FailureThreshold, s);
        let max_calls = |s| checked(Setting::HalfOpenMaxCalls, s);
        assert_eq!(count(" 7 "), Ok(Value::Count(7)));
        assert_eq!(
            count("0"),
            Ok(Value::Count(0)),
            "the limits are checked later"
        );
        for bad in ["", "x", "-1", "1.0", "1e3"] {
            assert_eq!(count(bad), Err("expected a whole number".into()), "{bad:?}");
        }
        assert_eq!(
            count("4294967296"),
            Err("`failure_threshold` must be at most 4294967295, got 4294967296".into())
        );
        // The setting's own limit, not the type's.
        for too_many in ["4294967296", " 1048576 "] {
            assert_eq!(
                max_calls(too_many),
                Err(format!(
                    "`half_open_max_calls` must be at most 1048575, got {}",
                    too_many.trim()
                ))
            );
        }
    }

    #[test]
    fn ratios_are_decimal_numbers_and_a_percentage_says_which_ratio_to_write() {
        assert_eq!(ratio(" 0.5 "), Ok(0.5));
        assert_eq!(ratio("1"), Ok(1.0));
        assert_eq!(ratio("0.05"), Ok(0.05));
        assert_eq!(
            ratio("50%"),
            Err("expected a ratio, not a percentage: write 0.5".into())
        );
        assert_eq!(
            ratio("12.5 %"),
            Err("expected a ratio, not a percentage: write 0.125".into())
        );
        for bad in ["", ".5", "5.", "-0.5", "1e-3", "half", "0,5", "%"] {
            assert_eq!(ratio(bad), Err(RATIO_HINT.into()), "{bad:?}");
        }
    }

    #[test]
    fn windows_are_calls_or_a_duration() {
        assert_eq!(window("100 calls"), Ok(SlidingWindow::Count(100)));
        assert_eq!(window(" 1 call "), Ok(SlidingWindow::Count(1)));
        assert_eq!(window("7calls"), Ok(SlidingWindow::Count(7)));
        assert_eq!(
            window("2m"),
            Ok(SlidingWindow::Time(Duration::from_secs(120)))
        );
        assert_eq!(
            window("4294967296 calls"),
            Err("too large: at most 4294967295 calls, or 365 days".into())
        );
        for bad in [
            "calls",
            "100 call s",
            "1.5 calls",
            "-1 calls",
            "60 s",
            "1m30s",
        ] {
            assert_eq!(window(bad), Err(WINDOW_HINT.into()), "{bad:?}");
        }
    }

    #[test]
    fn a_yes_or_no_is_true_or_false_and_other_words_say_which_to_write() {
        assert_eq!(boolean(" true "), Ok(true));
        assert_eq!(boolean("false"), Ok(false));
        for (given, meant) in [("1", true), ("YES", true), ("On", true), ("TRUE", true)] {
            assert_eq!(
                boolean(given),
                Err(format!("expected `true` or `false`: write {meant}")),
                "{given:?}"
            );
        }
        for (given, meant) in [("0", false), ("no", false), ("off", false)] {
            assert_eq!(
                boolean(given),
                Err(format!("expected `true` or `false`: write {meant}")),
                "{given:?}"
            );
        }
        for bad in ["", "2", "maybe", "t rue"] {
            assert_eq!(
                boolean(bad),
                Err("expected `true` or `false`".into()),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse(Setting::RecordCallDurations, "true"),
            Ok(Value::Bool(true))
        );
    }

    #[test]
    fn backoffs_are_constant_or_exponential_with_a_multiplier_and_a_cap() {
        assert_eq!(backoff("constant"), Ok(Growth::Constant));
        assert_eq!(
            backoff(" exponential(2, 5m) "),
            Ok(Growth::Exponential {
                multiplier: 2.0,
                max: Duration::from_secs(300)
            })
        );
        assert_eq!(
            backoff("exponential (1.5,30s)"),
            Ok(Growth::Exponential {
                multiplier: 1.5,
                max: Duration::from_secs(30)
            })
        );
        // The range is checked afterwards, against the setting.
        assert!(backoff("exponential(0.5, 5m)").is_ok());
        for bad in [
            "",
            "Constant",
            "exponential",
            "exponential()",
            "exponential(2)",
            "exponential(2, 5m",
            "exponential(2, 300)",
            "exponential(x2, 5m)",
            "exponential(2, 5m, 1m)",
        ] {
            assert_eq!(backoff(bad), Err(BACKOFF_HINT.into()), "{bad:?}");
        }
    }
}
