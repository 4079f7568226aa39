//! [`ConfigError`]: a value refused, with the [`Setting`] it was given for.

use crate::config::grammar::describe_limit;
use crate::config::table::Refusal;
use crate::config::{Kind, Setting, Value};
use std::fmt;
use std::time::Duration;

/// A setting that [`ConfigBuilder::build`](crate::ConfigBuilder::build) (or
/// [`Settings::set`](crate::config::Settings::set)) refused. Its message names the setting and
/// the value.
// Not `Eq`, as `Value` is not.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigError {
    /// A setting was zero.
    Zero {
        /// The setting refused.
        setting: Setting,
    },
    /// A setting was above its largest value ([`Setting::max`]).
    TooLarge {
        /// The setting refused.
        setting: Setting,
        /// The value given.
        value: Value,
        /// The largest value accepted.
        max: Value,
    },
    /// A value of another kind than its setting takes (a duration for a count).
    WrongKind {
        /// The setting refused.
        setting: Setting,
        /// The value given.
        value: Value,
    },
    /// `success_threshold` exceeded `half_open_max_calls`.
    SuccessThresholdAboveMaxCalls {
        /// The `success_threshold` given.
        success_threshold: u32,
        /// The `half_open_max_calls` given.
        half_open_max_calls: u32,
    },
    /// A ratio, a window or a backoff outside its setting's range: a rate not above 0 and at
    /// most 1 (NaN included), a jitter not at least 0 and below 1, a window of no calls or no
    /// time (or longer than 365 days), a backoff whose multiplier is below 1 or not finite or
    /// whose longest period is zero or above 365 days.
    OutOfRange {
        /// The setting refused.
        setting: Setting,
        /// The value given.
        value: Value,
    },
    /// `minimum_calls` exceeded the size of a count `sliding_window`.
    MinimumCallsAboveWindow {
        /// The `minimum_calls` given.
        minimum_calls: u32,
        /// The count window's size.
        window: u32,
    },
    /// `slow_call_rate_threshold` without `slow_call_duration`.
    SlowCallRateWithoutDuration {
        /// The `slow_call_rate_threshold` given.
        threshold: f64,
    },
    /// An exponential backoff's longest period was shorter than `recovery_timeout`.
    BackoffBelowRecoveryTimeout {
        /// The backoff's longest period.
        max: Duration,
        /// The `recovery_timeout`.
        recovery_timeout: Duration,
    },
}

impl ConfigError {
    /// The setting refused; for a rule that ties two settings, the one the rule limits
    /// (`success_threshold` for `SuccessThresholdAboveMaxCalls`, `minimum_calls` for
    /// `MinimumCallsAboveWindow`, `slow_call_rate_threshold` for
    /// `SlowCallRateWithoutDuration`, `backoff` for `BackoffBelowRecoveryTimeout`).
    pub fn setting(&self) -> Setting {
        match self {
            ConfigError::Zero { setting }
            | ConfigError::TooLarge { setting, .. }
            | ConfigError::WrongKind { setting, .. }
            | ConfigError::OutOfRange { setting, .. } => *setting,
            ConfigError::SuccessThresholdAboveMaxCalls { .. } => Setting::SuccessThreshold,
            ConfigError::MinimumCallsAboveWindow { .. } => Setting::MinimumCalls,
            ConfigError::SlowCallRateWithoutDuration { .. } => Setting::SlowCallRateThreshold,
            ConfigError::BackoffBelowRecoveryTimeout { .. } => Setting::Backoff,
        }
    }

    /// The name of the setting refused: `self.setting().name()`.
    pub fn field(&self) -> &'static str {
        self.setting().name()
    }

    /// Every setting the error is about, [`setting`](Self::setting) first: a source blames
    /// the first of them that it was given.
    pub(crate) fn blamed(&self) -> impl Iterator<Item = Setting> {
        let other = match self {
            ConfigError::SuccessThresholdAboveMaxCalls { .. } => Some(Setting::HalfOpenMaxCalls),
            ConfigError::MinimumCallsAboveWindow { .. } => Some(Setting::SlidingWindow),
            ConfigError::SlowCallRateWithoutDuration { .. } => Some(Setting::SlowCallDuration),
            ConfigError::BackoffBelowRecoveryTimeout { .. } => Some(Setting::RecoveryTimeout),
            _ => None,
        };
        std::iter::once(self.setting()).chain(other)
    }

    /// Checks `value` for `setting` on its own, with the table's limits.
    pub(crate) fn check(setting: Setting, value: Value) -> Result<(), ConfigError> {
        match setting.refusal(value) {
            None => Ok(()),
            Some(Refusal::WrongKind) => Err(ConfigError::WrongKind { setting, value }),
            Some(Refusal::Zero) => Err(ConfigError::Zero { setting }),
            Some(Refusal::TooLarge { max }) => Err(ConfigError::TooLarge {
                setting,
                value,
                max,
            }),
            Some(Refusal::OutOfRange) => Err(ConfigError::OutOfRange { setting, value }),
        }
    }
}

impl ConfigError {
    /// The message, with the value as the source gave it (`"8761h"`) rather than as the
    /// value it was read as (`31539600s`): an operator looks for what they wrote.
    pub(crate) fn given(&self, given: &str) -> String {
        Message {
            error: self,
            given: Some(given),
        }
        .to_string()
    }
}

/// The message of a [`ConfigError`]; `given`, when a source has it, is the value as written.
struct Message<'a> {
    error: &'a ConfigError,
    given: Option<&'a str>,
}

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.error.field();
        let got = |value: &dyn fmt::Display| -> String {
            match self.given {
                Some(given) => given.to_owned(),
                None => value.to_string(),
            }
        };
        match self.error {
            ConfigError::Zero { setting } => match setting.kind() {
                Kind::Duration => {
                    write!(f, "`{name}` must be longer than zero, got {}", got(&"0s"))
                }
                // Only counts and durations are refused as zero; the other kinds are out of
                // their range (`OutOfRange`).
                _ => write!(f, "`{name}` must be at least 1, got {}", got(&0)),
            },
            ConfigError::TooLarge { value, max, .. } => {
                let max = match max {
                    Value::Duration(d) => describe_limit(*d),
                    other => other.to_string(),
                };
                write!(f, "`{name}` must be at most {max}, got {}", got(value))
            }
            ConfigError::WrongKind { setting, value } => {
                write!(f, "`{name}` takes {}, got {}", setting.kind(), got(value))
            }
            ConfigError::SuccessThresholdAboveMaxCalls {
                success_threshold,
                half_open_max_calls,
            } => write!(
                f,
                "`success_threshold` ({success_threshold}) must not exceed `half_open_max_calls` \
                 ({half_open_max_calls}): the breaker could never close"
            ),
            ConfigError::OutOfRange { setting, value } => write!(
                f,
                "`{name}` must {}, got {}",
                setting.expected(*value),
                got(value)
            ),
            ConfigError::MinimumCallsAboveWindow {
                minimum_calls,
                window,
            } => write!(
                f,
                "`minimum_calls` ({minimum_calls}) must not exceed the size of `sliding_window` \
                 ({window} calls): the window could never hold enough calls for a rate to count"
            ),
            ConfigError::SlowCallRateWithoutDuration { threshold } => write!(
                f,
                "`slow_call_rate_threshold` ({threshold}) needs `slow_call_duration`: without \
                 it no call is timed, so none is slow"
            ),
            ConfigError::BackoffBelowRecoveryTimeout {
                max,
                recovery_timeout,
            } => write!(
                f,
                "`backoff`'s longest period ({max:?}) must not be shorter than \
                 `recovery_timeout` ({recovery_timeout:?}): the Open periods would shrink as the \
                 breaker kept failing"
            ),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Message {
            error: self,
            given: None,
        }
        .fmt(f)
    }
}

impl std::error::Error for ConfigError {}
