//! [`Settings`]: what a configuration source (the environment, a file, an attribute's
//! literals) gives for one breaker, each setting optional, to be laid over a configuration the
//! breaker already has.
//!
//! Each value is checked on its own when it is set, with the table's limits, so a value is
//! refused with the same message whether it came from code, a variable or a file; the rules
//! that tie two settings together are checked when the settings are applied, since the
//! other value may come from the breaker.

use crate::config::{Config, ConfigBuilder, ConfigError, Setting, Value};

/// Settings for one breaker from a configuration source; a setting not given keeps what the
/// breaker has.
///
/// ```
/// use circuit_core::config::{Setting, Settings};
/// use circuit_core::Config;
/// use std::time::Duration;
///
/// let mut settings = Settings::new();
/// settings.set(Setting::FailureThreshold, 2.into())?;
/// settings.set(Setting::RecoveryTimeout, Duration::from_secs(5).into())?;
/// assert!(settings.set(Setting::HalfOpenMaxCalls, 0.into()).is_err());
///
/// let config = settings.apply(&Config::default())?;
/// assert_eq!((config.failure_threshold(), config.success_threshold()), (2, 3));
/// # Ok::<(), circuit_core::ConfigError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    /// By `Setting::index`.
    values: [Option<Value>; Setting::COUNT],
}

impl Settings {
    /// No setting given.
    pub fn new() -> Self {
        Settings::default()
    }

    /// The value given for `setting`, if any.
    pub fn get(&self, setting: Setting) -> Option<Value> {
        self.values[setting.index()]
    }

    /// Gives `setting` the value `value`, once it is checked on its own: of the setting's
    /// kind, not zero, not above its largest value.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of the value refused; then the settings are unchanged.
    pub fn set(&mut self, setting: Setting, value: Value) -> Result<(), ConfigError> {
        ConfigError::check(setting, value)?;
        self.values[setting.index()] = Some(value);
        Ok(())
    }

    /// The settings given, with their values, in the order of [`Setting::ALL`].
    pub fn iter(&self) -> impl Iterator<Item = (Setting, Value)> + '_ {
        Setting::ALL
            .into_iter()
            .filter_map(|setting| Some((setting, self.get(setting)?)))
    }

    /// Whether no setting is given.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// These settings, with `under`'s where these give none.
    pub fn over(&self, under: &Settings) -> Settings {
        let mut merged = under.clone();
        for (setting, value) in self.iter() {
            merged.values[setting.index()] = Some(value);
        }
        merged
    }

    /// `base` with these settings applied, checked by [`ConfigBuilder::build`]; the clock
    /// is kept.
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of the first value refused: here, one that a rule ties to another
    /// setting (`success_threshold` above `half_open_max_calls`), the other value perhaps
    /// being `base`'s.
    pub fn apply(&self, base: &Config) -> Result<Config, ConfigError> {
        let mut config = base.clone();
        for (setting, value) in self.iter() {
            config.set_value(setting, value);
        }
        ConfigBuilder { config }.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Backoff, Growth, Kind, SlidingWindow};
    use std::time::Duration;

    fn given(pairs: &[(Setting, Value)]) -> Settings {
        let mut settings = Settings::new();
        for &(setting, value) in pairs {
            settings.set(setting, value).unwrap();
        }
        settings
    }

    #[test]
    fn each_value_is_refused_by_its_own_setting() {
        let err = |setting: Setting, value: Value| {
            Settings::new().set(setting, value).unwrap_err().to_string()
        };
        assert_eq!(
            err(Setting::FailureThreshold, Value::Count(0)),
            "`failure_threshold` must be at least 1, got 0"
        );
        assert_eq!(
            err(Setting::SuccessThreshold, Value::Count(99_999_999)),
            "`success_threshold` must be at most 1048575, got 99999999"
        );
        assert_eq!(
            err(Setting::HalfOpenMaxCalls, Value::Count(99_999_999)),
            "`half_open_max_calls` must be at most 1048575, got 99999999"
        );
        assert_eq!(
            err(Setting::RecoveryTimeout, Value::Duration(Duration::ZERO)),
            "`recovery_timeout` must be longer than zero, got 0s"
        );
        assert_eq!(
            err(
                Setting::RecoveryTimeout,
                Value::Duration(Duration::from_secs(9000 * 3600))
            ),
            "`recovery_timeout` must be at most 365 days, got 32400000s"
        );
        assert_eq!(
            err(
                Setting::FailureThreshold,
                Value::Duration(Duration::from_secs(30))
            ),
            "`failure_threshold` takes a whole number, got 30s"
        );
    }

    #[test]
    fn a_refused_value_leaves_the_settings_unchanged() {
        let mut settings = given(&[(Setting::FailureThreshold, Value::Count(2))]);
        assert!(settings
            .set(Setting::FailureThreshold, Value::Count(0))
            .is_err());
        assert_eq!(
            settings.get(Setting::FailureThreshold),
            Some(Value::Count(2))
        );
    }

    #[test]
    fn a_success_threshold_alone_is_not_blamed_on_the_default_limit() {
        // 5 > the default half_open_max_calls (3), but that is for apply() to judge with
        // whatever limit the breaker ends up with.
        let settings = given(&[(Setting::SuccessThreshold, Value::Count(5))]);
        assert_eq!(
            settings.get(Setting::SuccessThreshold),
            Some(Value::Count(5))
        );
        let err = settings.apply(&Config::default()).unwrap_err();
        assert_eq!(
            err.blamed().collect::<Vec<_>>(),
            [Setting::SuccessThreshold, Setting::HalfOpenMaxCalls]
        );
    }

    #[test]
    fn settings_over_others_keep_their_own_values() {
        let top = given(&[(Setting::FailureThreshold, Value::Count(2))]);
        let under = given(&[
            (Setting::FailureThreshold, Value::Count(9)),
            (Setting::HalfOpenMaxCalls, Value::Count(4)),
        ]);
        let merged = top.over(&under);
        assert_eq!(
            merged.iter().collect::<Vec<_>>(),
            [
                (Setting::FailureThreshold, Value::Count(2)),
                (Setting::HalfOpenMaxCalls, Value::Count(4))
            ]
        );
        let config = merged.apply(&Config::default()).unwrap();
        assert_eq!(
            (config.failure_threshold(), config.half_open_max_calls()),
            (2, 4)
        );
        assert!(Settings::new().is_empty() && !merged.is_empty());
    }

    #[test]
    fn every_setting_reaches_its_field_of_config() {
        // A value distinct from the default for each, written through the table and read
        // back through the typed getters.
        let mut settings = Settings::new();
        for setting in Setting::ALL {
            let value = match (setting.kind(), setting.default_value()) {
                (_, Some(Value::Count(n))) => Value::Count(n + 1),
                (_, Some(Value::Duration(d))) => Value::Duration(d + Duration::from_secs(1)),
                (Kind::Count, None) => Value::Count(50),
                (Kind::Duration, None) => Value::Duration(Duration::from_secs(2)),
                (Kind::Ratio, Some(_)) => Value::Ratio(0.2),
                (Kind::Ratio, None) => Value::Ratio(0.5),
                (Kind::Window, _) => Value::Window(SlidingWindow::Count(200)),
                (Kind::Backoff, _) => Value::Backoff(Growth::Exponential {
                    multiplier: 2.0,
                    max: Duration::from_secs(600),
                }),
                (_, Some(Value::Bool(b))) => Value::Bool(!b),
                (kind, default) => unreachable!("{kind:?} with {default:?}"),
            };
            settings.set(setting, value).unwrap();
        }
        let c = settings.apply(&Config::default()).unwrap();
        assert_eq!(
            (
                c.failure_threshold(),
                c.success_threshold(),
                c.half_open_max_calls(),
                c.recovery_timeout()
            ),
            (6, 4, 4, Duration::from_secs(61))
        );
        assert_eq!(
            (
                c.failure_rate_threshold(),
                c.sliding_window(),
                c.minimum_calls(),
                c.slow_call_duration(),
                c.slow_call_rate_threshold(),
            ),
            (
                Some(0.5),
                SlidingWindow::Count(200),
                50,
                Some(Duration::from_secs(2)),
                Some(0.5)
            )
        );
        assert_eq!(
            c.backoff(),
            Backoff::exponential(2.0, Duration::from_secs(600)).with_jitter(0.2)
        );
        assert!(c.record_call_durations());
        for (setting, value) in settings.iter() {
            assert_eq!(c.value(setting), Some(value), "{setting:?}");
            assert!(c.is_set(setting), "{setting:?} was given");
        }
        assert!(Setting::ALL.iter().all(|&s| !Config::default().is_set(s)));
    }

    #[test]
    fn a_backoff_from_a_source_keeps_the_jitter_the_breaker_has_and_the_other_way_round() {
        let base = Config::builder()
            .backoff(Backoff::exponential(3.0, Duration::from_secs(600)).with_jitter(0.3))
            .build()
            .unwrap();
        let growth = given(&[(Setting::Backoff, Value::Backoff(Growth::Constant))]);
        assert_eq!(
            growth.apply(&base).unwrap().backoff(),
            Backoff::constant().with_jitter(0.3)
        );
        let jitter = given(&[(Setting::Jitter, Value::Ratio(0.1))]);
        assert_eq!(
            jitter.apply(&base).unwrap().backoff(),
            Backoff::exponential(3.0, Duration::from_secs(600)).with_jitter(0.1)
        );
    }
}
