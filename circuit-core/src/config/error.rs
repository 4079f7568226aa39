//! [`ConfigError`]: a value refused, with the [`Setting`] it was given for.

use crate::config::grammar::describe_limit;
use crate::config::table::Refusal;
use crate::config::{Kind, Setting, Value};
use std::fmt;

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
}

impl ConfigError {
    /// The setting refused; for a rule that ties two settings, the one the rule limits
    /// (`success_threshold` for `SuccessThresholdAboveMaxCalls`).
    pub fn setting(&self) -> Setting {
        match self {
            ConfigError::Zero { setting }
            | ConfigError::TooLarge { setting, .. }
            | ConfigError::WrongKind { setting, .. } => *setting,
            ConfigError::SuccessThresholdAboveMaxCalls { .. } => Setting::SuccessThreshold,
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
                Kind::Count => write!(f, "`{name}` must be at least 1, got {}", got(&0)),
                Kind::Duration => {
                    write!(f, "`{name}` must be longer than zero, got {}", got(&"0s"))
                }
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
