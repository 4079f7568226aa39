//! Configuration: a breaker's [`Config`], built and checked by [`ConfigBuilder`]; the table of
//! its settings ([`Setting`], each taking one [`Kind`] of [`Value`]); and the sources that lay
//! [`Settings`] over a configuration by breaker name: the environment ([`EnvConfig`]) and
//! files ([`FileConfig`], feature `serde`).
//!
//! Every source goes through the table, so a value is read, checked and refused in the same
//! way, with the same message, whether it comes from code, the attribute, a variable or a file.

mod env;
mod error;
#[cfg(feature = "serde")]
mod file;
mod grammar;
mod listing;
mod settings;
mod table;
mod text;
mod value;

pub use env::{EnvConfig, EnvError, EnvProblem, DEFAULT_ENV_PREFIX};
pub use error::ConfigError;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use file::{FileConfig, FileError, FileProblem};
pub use settings::Settings;
pub use table::{Kind, Setting, Value, MAX_HALF_OPEN_CALLS, MAX_RECOVERY_TIMEOUT};
pub use text::{parse_duration, ParseDurationError};

use crate::breaker::word::MAX_TRIAL_CALLS;
use crate::clock::Clock;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use value::Typed;

// The table cannot name the state word (the attribute compiles it too), so the two limits are
// pinned to each other here, at compile time.
const _: () = assert!(MAX_HALF_OPEN_CALLS == MAX_TRIAL_CALLS);

/// Gives each setting of the table its typed face: a field and a getter on `Config`, a setter
/// on `ConfigBuilder`, and the arms that reach the field by [`Setting`]. One line per setting:
/// its variant, its field, the field's Rust type, and the sentence that documents it.
macro_rules! typed_settings {
    ($($variant:ident => $field:ident: $ty:ty, $doc:literal;)*) => {
        /// The settings of one breaker.
        ///
        /// `Config::default()` holds the defaults of the design: `failure_threshold` 5,
        /// `success_threshold` 3, `recovery_timeout` 60 s, `half_open_max_calls` 3, and
        /// `half_open_max_wait` 120 s, system clock
        /// (the table of [`Setting`] gives each one's default and limits).
        ///
        /// ```
        /// use circuit_core::Config;
        /// use std::time::Duration;
        ///
        /// let config = Config::builder()
        ///     .failure_threshold(3)
        ///     .recovery_timeout(Duration::from_secs(30))
        ///     .build()?;
        /// assert_eq!(config.success_threshold(), 3);
        /// # Ok::<(), circuit_core::ConfigError>(())
        /// ```
        #[non_exhaustive]
        #[derive(Clone)]
        pub struct Config {
            $(pub(crate) $field: $ty,)*
            /// `None` is the system clock.
            pub(crate) clock: Option<Arc<dyn Clock>>,
        }

        impl Config {
            $(
                #[doc = $doc]
                pub fn $field(&self) -> $ty {
                    self.$field
                }
            )*

            /// The value of `setting`, as the table's [`Value`].
            pub fn value(&self, setting: Setting) -> Value {
                match setting {
                    $(Setting::$variant => Value::from(self.$field),)*
                }
            }

            /// Whether this is `Config::default()`: every setting at its default, system clock.
            pub(crate) fn is_default(&self) -> bool {
                self.clock.is_none()
                    && Setting::ALL.iter().all(|&s| self.value(s) == s.default_value())
            }

            /// Gives `setting` the value `value`, unchecked ([`ConfigBuilder::build`] checks
            /// it). Callers have checked its kind; one of another kind would be ignored.
            fn set_value(&mut self, setting: Setting, value: Value) {
                match setting {
                    $(Setting::$variant => {
                        if let Some(v) = <$ty>::from_value(value) {
                            self.$field = v;
                        }
                    })*
                }
            }
        }

        impl Default for Config {
            fn default() -> Self {
                Config {
                    $($field: <$ty>::from_value(Setting::$variant.default_value())
                        .expect("a default is of its setting's kind"),)*
                    clock: None,
                }
            }
        }

        impl fmt::Debug for Config {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut d = f.debug_struct("Config");
                $(d.field(stringify!($field), &self.$field);)*
                match &self.clock {
                    Some(clock) => d.field("clock", clock),
                    None => d.field("clock", &"system"),
                };
                d.finish()
            }
        }

        impl ConfigBuilder {
            $(
                #[doc = $doc]
                #[doc = ""]
                #[doc = concat!(
                    "[`build`](Self::build) checks it: see [`Setting::",
                    stringify!($variant),
                    "`] for its default and limits."
                )]
                pub fn $field(mut self, value: $ty) -> Self {
                    self.config.$field = value;
                    self
                }
            )*
        }
    };
}

typed_settings! {
    FailureThreshold => failure_threshold: u32,
        "Consecutive failures, while Closed, that open the breaker.";
    SuccessThreshold => success_threshold: u32,
        "Successful trial calls, while HalfOpen, that close the breaker.";
    HalfOpenMaxCalls => half_open_max_calls: u32,
        "Trial calls admitted in one HalfOpen period.";
    RecoveryTimeout => recovery_timeout: Duration,
        "How long the breaker stays Open before it lets trial calls through (kept to the \
         millisecond, rounded up).";
    HalfOpenMaxWait => half_open_max_wait: Duration,
        "How long a HalfOpen period whose trial slots are all taken may go undecided before \
         the breaker opens again (from the start of the period, kept to the millisecond, \
         rounded up): trial calls that never report (a permit forgotten, a future never \
         completed) cannot hold the breaker HalfOpen for longer. While a slot is free the \
         breaker is not held: the next call is a trial that can decide. Default 120 s, longer \
         than the request timeouts clients commonly default to (30 s to 100 s), so that a \
         slow but real trial is not cut off.";
}

impl Config {
    /// A builder starting from the defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder {
            config: Config::default(),
        }
    }

    /// A builder starting from this configuration.
    pub fn to_builder(&self) -> ConfigBuilder {
        ConfigBuilder {
            config: self.clone(),
        }
    }
}

/// Builds a [`Config`]; [`build`](ConfigBuilder::build) refuses values a breaker cannot work
/// with.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until `build()` is called"]
pub struct ConfigBuilder {
    config: Config,
}

impl ConfigBuilder {
    /// The clock the breaker reads: a [`ManualClock`](crate::clock::ManualClock) in tests.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.config.clock = Some(Arc::new(clock));
        self
    }

    /// The clock, already shared.
    pub fn shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.config.clock = Some(clock);
        self
    }

    /// Checks the settings and returns the configuration.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first setting refused, in the order of [`Setting::ALL`],
    /// and its value: zero, or above the setting's largest value (see [`Setting`]); then a
    /// `success_threshold` above `half_open_max_calls` (such a breaker could never close).
    pub fn build(self) -> Result<Config, ConfigError> {
        let c = &self.config;
        for setting in Setting::ALL {
            ConfigError::check(setting, c.value(setting))?;
        }
        // The rules that tie two settings together; the attribute checks its literals against
        // the same ones (`check_across` in circuit-macros).
        if c.success_threshold > c.half_open_max_calls {
            return Err(ConfigError::SuccessThresholdAboveMaxCalls {
                success_threshold: c.success_threshold,
                half_open_max_calls: c.half_open_max_calls,
            });
        }
        Ok(self.config)
    }
}
