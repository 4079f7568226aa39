//! Configuration: a breaker's [`Config`], built and checked by [`ConfigBuilder`], and the
//! sources that lay [`Settings`] over it by breaker name: the environment ([`EnvConfig`]) and
//! files ([`FileConfig`], feature `serde`).

mod env;
#[cfg(feature = "serde")]
mod file;
pub(crate) mod settings;

pub use env::{EnvConfig, EnvError, EnvProblem, DEFAULT_ENV_PREFIX};
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use file::{FileConfig, FileError, FileProblem};
pub use settings::Settings;

use crate::breaker::word::MAX_TRIAL_CALLS;
use crate::clock::Clock;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The longest `recovery_timeout` accepted: anything longer is surely a unit mistake.
pub const MAX_RECOVERY_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The largest `half_open_max_calls` (and so `success_threshold`) accepted.
pub const MAX_HALF_OPEN_CALLS: u32 = MAX_TRIAL_CALLS;

/// The settings of one breaker.
///
/// `Config::default()` holds the seed design's values: `failure_threshold` 5,
/// `success_threshold` 3, `recovery_timeout` 60 s, `half_open_max_calls` 3, system clock.
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
    pub(crate) failure_threshold: u32,
    pub(crate) success_threshold: u32,
    pub(crate) recovery_timeout: Duration,
    pub(crate) half_open_max_calls: u32,
    /// `None` is the system clock.
    pub(crate) clock: Option<Arc<dyn Clock>>,
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

    /// Consecutive failures, while Closed, that open the breaker.
    pub fn failure_threshold(&self) -> u32 {
        self.failure_threshold
    }

    /// Successful trial calls, while HalfOpen, that close the breaker.
    pub fn success_threshold(&self) -> u32 {
        self.success_threshold
    }

    /// How long the breaker stays Open before it lets trial calls through.
    pub fn recovery_timeout(&self) -> Duration {
        self.recovery_timeout
    }

    /// Trial calls admitted in one HalfOpen period.
    pub fn half_open_max_calls(&self) -> u32 {
        self.half_open_max_calls
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            failure_threshold: 5,
            success_threshold: 3,
            recovery_timeout: Duration::from_secs(60),
            half_open_max_calls: 3,
            clock: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Config");
        d.field("failure_threshold", &self.failure_threshold)
            .field("success_threshold", &self.success_threshold)
            .field("recovery_timeout", &self.recovery_timeout)
            .field("half_open_max_calls", &self.half_open_max_calls);
        match &self.clock {
            Some(clock) => d.field("clock", clock),
            None => d.field("clock", &"system"),
        };
        d.finish()
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
    /// Consecutive failures, while Closed, that open the breaker. At least 1.
    pub fn failure_threshold(mut self, n: u32) -> Self {
        self.config.failure_threshold = n;
        self
    }

    /// Successful trial calls that close a HalfOpen breaker. At least 1, at most
    /// `half_open_max_calls`.
    pub fn success_threshold(mut self, n: u32) -> Self {
        self.config.success_threshold = n;
        self
    }

    /// How long the breaker stays Open. Longer than zero, at most [`MAX_RECOVERY_TIMEOUT`];
    /// kept to the millisecond, rounded up.
    pub fn recovery_timeout(mut self, timeout: Duration) -> Self {
        self.config.recovery_timeout = timeout;
        self
    }

    /// Trial calls admitted in one HalfOpen period. At least 1, at most
    /// [`MAX_HALF_OPEN_CALLS`].
    pub fn half_open_max_calls(mut self, n: u32) -> Self {
        self.config.half_open_max_calls = n;
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
    /// A [`ConfigError`] naming the first setting refused and its value: a zero threshold or
    /// count, a zero or over-long timeout, a count above [`MAX_HALF_OPEN_CALLS`], or a
    /// `success_threshold` above `half_open_max_calls` (such a breaker could never close).
    pub fn build(self) -> Result<Config, ConfigError> {
        let c = &self.config;
        for (field, value) in [
            ("failure_threshold", c.failure_threshold),
            ("success_threshold", c.success_threshold),
            ("half_open_max_calls", c.half_open_max_calls),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero { field });
            }
        }
        if c.half_open_max_calls > MAX_HALF_OPEN_CALLS {
            return Err(ConfigError::TooLarge {
                field: "half_open_max_calls",
                value: c.half_open_max_calls,
                max: MAX_HALF_OPEN_CALLS,
            });
        }
        if c.success_threshold > c.half_open_max_calls {
            return Err(ConfigError::SuccessThresholdAboveMaxCalls {
                success_threshold: c.success_threshold,
                half_open_max_calls: c.half_open_max_calls,
            });
        }
        if c.recovery_timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        if c.recovery_timeout > MAX_RECOVERY_TIMEOUT {
            return Err(ConfigError::TimeoutTooLong {
                value: c.recovery_timeout,
            });
        }
        Ok(self.config)
    }
}

/// A setting that [`ConfigBuilder::build`] refused. Its message names the setting and the value.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A threshold or count was zero.
    #[error("`{field}` must be at least 1, got 0")]
    Zero {
        /// The setting refused.
        field: &'static str,
    },
    /// A count was above what the breaker can track.
    #[error("`{field}` must be at most {max}, got {value}")]
    TooLarge {
        /// The setting refused.
        field: &'static str,
        /// The value given.
        value: u32,
        /// The largest value accepted.
        max: u32,
    },
    /// `success_threshold` exceeded `half_open_max_calls`.
    #[error(
        "`success_threshold` ({success_threshold}) must not exceed `half_open_max_calls` \
         ({half_open_max_calls}): the breaker could never close"
    )]
    SuccessThresholdAboveMaxCalls {
        /// The `success_threshold` given.
        success_threshold: u32,
        /// The `half_open_max_calls` given.
        half_open_max_calls: u32,
    },
    /// `recovery_timeout` was zero.
    #[error("`recovery_timeout` must be longer than zero, got 0s")]
    ZeroTimeout,
    /// `recovery_timeout` was longer than [`MAX_RECOVERY_TIMEOUT`].
    #[error("`recovery_timeout` must be at most 365 days, got {value:?}")]
    TimeoutTooLong {
        /// The value given.
        value: Duration,
    },
}

impl ConfigError {
    /// The name of the setting refused.
    pub fn field(&self) -> &'static str {
        match self {
            ConfigError::Zero { field } | ConfigError::TooLarge { field, .. } => field,
            ConfigError::SuccessThresholdAboveMaxCalls { .. } => "success_threshold",
            ConfigError::ZeroTimeout | ConfigError::TimeoutTooLong { .. } => "recovery_timeout",
        }
    }
}
