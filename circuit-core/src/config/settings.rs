//! Settings that a configuration source (the environment, a file) gives for one breaker: each
//! one optional, laid over a configuration the breaker already has.
//!
//! Every source checks its values with [`ConfigBuilder::build`]'s own rules, so a value is
//! refused with the same message whether it came from code, a variable or a file.
//!
//! [`ConfigBuilder::build`]: crate::ConfigBuilder::build

use crate::config::{Config, ConfigError, MAX_HALF_OPEN_CALLS};
use std::time::Duration;

/// Settings for one breaker from a configuration source; `None` keeps what the breaker has.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// See [`Config::failure_threshold`].
    pub failure_threshold: Option<u32>,
    /// See [`Config::success_threshold`].
    pub success_threshold: Option<u32>,
    /// See [`Config::recovery_timeout`].
    pub recovery_timeout: Option<Duration>,
    /// See [`Config::half_open_max_calls`].
    pub half_open_max_calls: Option<u32>,
}

impl Settings {
    /// Whether no setting is given.
    pub fn is_empty(&self) -> bool {
        *self == Settings::default()
    }

    /// These settings, with `under`'s where these give none.
    pub fn over(&self, under: &Settings) -> Settings {
        Settings {
            failure_threshold: self.failure_threshold.or(under.failure_threshold),
            success_threshold: self.success_threshold.or(under.success_threshold),
            recovery_timeout: self.recovery_timeout.or(under.recovery_timeout),
            half_open_max_calls: self.half_open_max_calls.or(under.half_open_max_calls),
        }
    }

    /// `base` with these settings applied, checked by [`ConfigBuilder::build`]; the clock
    /// is kept.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of the first value refused.
    ///
    /// [`ConfigBuilder::build`]: crate::ConfigBuilder::build
    pub fn apply(&self, base: &Config) -> Result<Config, ConfigError> {
        let mut b = base.to_builder();
        if let Some(n) = self.failure_threshold {
            b = b.failure_threshold(n);
        }
        if let Some(n) = self.success_threshold {
            b = b.success_threshold(n);
        }
        if let Some(t) = self.recovery_timeout {
            b = b.recovery_timeout(t);
        }
        if let Some(n) = self.half_open_max_calls {
            b = b.half_open_max_calls(n);
        }
        b.build()
    }
}

/// The four settings, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Setting {
    FailureThreshold,
    SuccessThreshold,
    RecoveryTimeout,
    HalfOpenMaxCalls,
}

impl Setting {
    /// In declaration order, so `ALL[s as usize] == s` (the environment loader indexes by it).
    pub(crate) const ALL: [Setting; 4] = [
        Setting::FailureThreshold,
        Setting::SuccessThreshold,
        Setting::RecoveryTimeout,
        Setting::HalfOpenMaxCalls,
    ];

    /// The name in `Config`, in files and in `ConfigError` messages.
    pub(crate) fn field(self) -> &'static str {
        match self {
            Setting::FailureThreshold => "failure_threshold",
            Setting::SuccessThreshold => "success_threshold",
            Setting::RecoveryTimeout => "recovery_timeout",
            Setting::HalfOpenMaxCalls => "half_open_max_calls",
        }
    }

    /// The setting a `ConfigError` is about.
    pub(crate) fn of_error(err: &ConfigError) -> Setting {
        Setting::ALL
            .into_iter()
            .find(|s| s.field() == err.field())
            .unwrap_or(Setting::FailureThreshold)
    }

    /// Parses `raw` as this setting's value and checks it on its own: counts are whole
    /// numbers, the timeout is a [duration](parse_duration).
    pub(crate) fn parse(self, raw: &str) -> Result<Settings, String> {
        let mut s = Settings::default();
        match self {
            Setting::RecoveryTimeout => s.recovery_timeout = Some(parse_duration(raw)?),
            _ => {
                let n = parse_count(raw)?;
                match self {
                    Setting::FailureThreshold => s.failure_threshold = Some(n),
                    Setting::SuccessThreshold => s.success_threshold = Some(n),
                    _ => s.half_open_max_calls = Some(n),
                }
            }
        }
        check_alone(&s).map_err(|e| e.to_string())?;
        Ok(s)
    }
}

/// Checks each value given, on its own, with `build()`'s rules and messages: every value that
/// is bad by itself (zero, too large) is found, not only the first. The base lets the one rule
/// that ties two settings together (`success_threshold <= half_open_max_calls`) pass, since a
/// value alone cannot break it; [`Settings::apply`] checks that rule afterwards.
pub(crate) fn check_alone(s: &Settings) -> Result<(), ConfigError> {
    if let Some(n) = s.success_threshold {
        if n > MAX_HALF_OPEN_CALLS {
            // Else build() would blame a half_open_max_calls that nobody gave.
            return Err(ConfigError::TooLarge {
                field: "success_threshold",
                value: n,
                max: MAX_HALF_OPEN_CALLS,
            });
        }
    }
    let permissive = Config::builder()
        .success_threshold(1)
        .half_open_max_calls(MAX_HALF_OPEN_CALLS)
        .build()?;
    for one in [
        Settings {
            failure_threshold: s.failure_threshold,
            ..Settings::default()
        },
        Settings {
            success_threshold: s.success_threshold,
            ..Settings::default()
        },
        Settings {
            recovery_timeout: s.recovery_timeout,
            ..Settings::default()
        },
        Settings {
            half_open_max_calls: s.half_open_max_calls,
            ..Settings::default()
        },
    ] {
        one.apply(&permissive)?;
    }
    Ok(())
}

fn parse_count(raw: &str) -> Result<u32, String> {
    let t = raw.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected a whole number".into());
    }
    t.parse()
        .map_err(|_| format!("must be at most {}", u32::MAX))
}

/// A duration: a whole number of seconds (`60`), or a whole number with one unit of `ms`,
/// `s`, `m` or `h` (`500ms`, `30s`, `5m`, `1h`), the units of the attribute's
/// `recovery_timeout`.
pub(crate) fn parse_duration(raw: &str) -> Result<Duration, String> {
    const HINT: &str = "expected a whole number of seconds, or one with a unit: 500ms, 30s, 5m, 1h";
    let t = raw.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = t.split_at(digits);
    if number.is_empty() {
        return Err(HINT.into());
    }
    let millis_per_unit: u64 = match unit.trim_start() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(HINT.into()),
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(millis_per_unit))
        .map(Duration::from_millis)
        .ok_or_else(|| "too long: must be at most 365 days".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_plain_seconds_or_one_unit() {
        let ok = |s: &str| parse_duration(s).unwrap();
        assert_eq!(ok("60"), Duration::from_secs(60));
        assert_eq!(ok(" 500ms "), Duration::from_millis(500));
        assert_eq!(ok("30s"), Duration::from_secs(30));
        assert_eq!(ok("5m"), Duration::from_secs(300));
        assert_eq!(ok("2 h"), Duration::from_secs(7200));
        for bad in [
            "",
            "s",
            "1.5s",
            "-1",
            "10d",
            "1m30s",
            "99999999999999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn each_bad_value_is_refused_by_its_own_field() {
        let err = |setting: Setting, raw: &str| setting.parse(raw).unwrap_err();
        assert_eq!(
            err(Setting::FailureThreshold, "x"),
            "expected a whole number"
        );
        assert_eq!(
            err(Setting::FailureThreshold, "0"),
            "`failure_threshold` must be at least 1, got 0"
        );
        assert!(err(Setting::SuccessThreshold, "99999999")
            .starts_with("`success_threshold` must be at most"));
        assert!(err(Setting::HalfOpenMaxCalls, "99999999")
            .starts_with("`half_open_max_calls` must be at most"));
        assert!(err(Setting::RecoveryTimeout, "0s").contains("recovery_timeout"));
        assert!(err(Setting::RecoveryTimeout, "9000h").contains("365 days"));
    }

    #[test]
    fn a_success_threshold_alone_is_not_blamed_on_the_default_limit() {
        // 5 > the default half_open_max_calls (3), but that is for apply() to judge with
        // whatever limit the breaker ends up with.
        assert_eq!(
            Setting::SuccessThreshold
                .parse("5")
                .unwrap()
                .success_threshold,
            Some(5)
        );
    }

    #[test]
    fn settings_over_others_keep_their_own_values() {
        let top = Setting::FailureThreshold.parse("2").unwrap();
        let under = Settings {
            failure_threshold: Some(9),
            half_open_max_calls: Some(4),
            ..Settings::default()
        };
        let merged = top.over(&under);
        assert_eq!(
            (merged.failure_threshold, merged.half_open_max_calls),
            (Some(2), Some(4))
        );
        let config = merged.apply(&Config::default()).unwrap();
        assert_eq!(
            (config.failure_threshold(), config.half_open_max_calls()),
            (2, 4)
        );
    }
}
