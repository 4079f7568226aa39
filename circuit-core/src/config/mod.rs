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
mod policy;
mod settings;
mod table;
mod text;
mod value;

pub use env::{EnvConfig, EnvError, EnvProblem, DEFAULT_ENV_PREFIX};
pub use error::ConfigError;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use file::{FileConfig, FileError, FileProblem};
pub use policy::{Backoff, SlidingWindow};
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
            /// The trip policies beyond consecutive failures (not in the table yet).
            pub(crate) policy: Policy,
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
                            self.policy.explicit |= 1 << Setting::$variant.index();
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
                    policy: Policy::default(),
                    clock: None,
                }
            }
        }

        impl fmt::Debug for Config {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut d = f.debug_struct("Config");
                $(d.field(stringify!($field), &self.$field);)*
                d.field("policy", &self.policy);
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
                    self.config.policy.explicit |= 1 << Setting::$variant.index();
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

/// The trip policies beyond consecutive failures, and which settings were given explicitly.
/// `None` is "not configured": that rule does not trip the breaker.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Policy {
    pub(crate) failure_rate_threshold: Option<f64>,
    pub(crate) sliding_window: SlidingWindow,
    pub(crate) minimum_calls: Option<u32>,
    pub(crate) slow_call_duration: Option<Duration>,
    pub(crate) slow_call_rate_threshold: Option<f64>,
    pub(crate) backoff: Backoff,
    /// Bit `Setting::index()` set: that setting was given (by code, a variable, a file or the
    /// attribute), not left at its default.
    pub(crate) explicit: u32,
}

/// The `minimum_calls` of a breaker that does not set it: resilience4j's 100, or a count
/// window's size when that is smaller.
pub const DEFAULT_MINIMUM_CALLS: u32 = 100;

impl Config {
    /// The failure rate, over [`sliding_window`](Self::sliding_window), at or above which the
    /// breaker opens; `None` when no failure-rate rule is configured.
    pub fn failure_rate_threshold(&self) -> Option<f64> {
        self.policy.failure_rate_threshold
    }

    /// The calls the failure and slow-call rates are measured over.
    pub fn sliding_window(&self) -> SlidingWindow {
        self.policy.sliding_window
    }

    /// The calls the window must hold before a rate can open the breaker: as set, or
    /// [`DEFAULT_MINIMUM_CALLS`] (at most a count window's size).
    pub fn minimum_calls(&self) -> u32 {
        self.policy
            .minimum_calls
            .unwrap_or(match self.policy.sliding_window {
                SlidingWindow::Count(n) => DEFAULT_MINIMUM_CALLS.min(n),
                SlidingWindow::Time(_) => DEFAULT_MINIMUM_CALLS,
            })
    }

    /// How long a call must take to count as slow; `None` when calls are not timed.
    pub fn slow_call_duration(&self) -> Option<Duration> {
        self.policy.slow_call_duration
    }

    /// The slow-call rate at or above which the breaker opens; `None` when no slow-call rule
    /// is configured.
    pub fn slow_call_rate_threshold(&self) -> Option<f64> {
        self.policy.slow_call_rate_threshold
    }

    /// How the open period grows with consecutive re-openings.
    pub fn backoff(&self) -> Backoff {
        self.policy.backoff
    }

    /// Whether `setting` was given explicitly rather than left at its default.
    pub fn is_set(&self, setting: Setting) -> bool {
        self.policy.explicit & (1 << setting.index()) != 0
    }

    /// Whether consecutive failures open the breaker: when no rate rule is configured, or when
    /// `failure_threshold` is set explicitly beside one.
    pub fn trips_on_consecutive_failures(&self) -> bool {
        let rate_rule = self.policy.failure_rate_threshold.is_some()
            || self.policy.slow_call_rate_threshold.is_some();
        !rate_rule || self.is_set(Setting::FailureThreshold)
    }

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
    /// The failure rate, a ratio in (0, 1], over [`sliding_window`](Self::sliding_window)
    /// at or above which the breaker opens, once the window holds
    /// [`minimum_calls`](Self::minimum_calls).
    pub fn failure_rate_threshold(mut self, ratio: f64) -> Self {
        self.config.policy.failure_rate_threshold = Some(ratio);
        self
    }

    /// The calls the rates are measured over (default: the last 100 calls).
    pub fn sliding_window(mut self, window: SlidingWindow) -> Self {
        self.config.policy.sliding_window = window;
        self
    }

    /// The calls the window must hold before a rate can open the breaker.
    pub fn minimum_calls(mut self, calls: u32) -> Self {
        self.config.policy.minimum_calls = Some(calls);
        self
    }

    /// How long a call must take, succeeding or failing, to count as slow.
    pub fn slow_call_duration(mut self, duration: Duration) -> Self {
        self.config.policy.slow_call_duration = Some(duration);
        self
    }

    /// The slow-call rate, a ratio in (0, 1], at or above which the breaker opens.
    pub fn slow_call_rate_threshold(mut self, ratio: f64) -> Self {
        self.config.policy.slow_call_rate_threshold = Some(ratio);
        self
    }

    /// How the open period grows with consecutive re-openings (default: constant).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.config.policy.backoff = backoff;
        self
    }

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
