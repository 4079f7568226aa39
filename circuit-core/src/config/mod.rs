//! Configuration: a breaker's [`Config`], built and checked by [`ConfigBuilder`]; the table of
//! its settings ([`Setting`], each taking one [`Kind`] of [`Value`]); and the sources that lay
//! [`Settings`] over a configuration by breaker name: the environment ([`EnvConfig`]) and
//! files ([`FileConfig`], feature `serde`).
//!
//! Every source goes through the table, so a value is read, checked and refused in the same
//! way, with the same message, whether it comes from code, the attribute, a variable or a file.

mod by_hand;
mod env;
mod error;
#[cfg(feature = "serde")]
mod file;
#[cfg(feature = "serde")]
mod file_values;
mod grammar;
mod listing;
mod policy;
mod rules;
mod settings;
mod table;
mod text;
mod value;

pub use by_hand::DEFAULT_MINIMUM_CALLS;
pub use env::{EnvConfig, EnvError, EnvProblem, DEFAULT_ENV_PREFIX};
pub use error::ConfigError;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use file::{FileConfig, FileError, FileProblem};
pub use policy::Backoff;
pub use settings::Settings;
pub use table::{
    Growth, Kind, Setting, SlidingWindow, Value, MAX_HALF_OPEN_CALLS, MAX_RECOVERY_TIMEOUT,
};
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
///
/// `always` settings have a value whatever happens (their default, or one given); `optional`
/// ones are "not configured" until given (the field is an `Option`, the getter returns it,
/// the setter takes the value). `minimum_calls`, `backoff` and `jitter` are written by hand
/// (`by_hand.rs`): the first has an effective value when not given, the other two share the
/// one `Backoff` the builder takes.
macro_rules! typed_settings {
    (
        always { $($variant:ident => $field:ident: $ty:ty, $doc:literal;)* }
        optional { $($ovariant:ident => $ofield:ident: $oty:ty, $odoc:literal;)* }
        by_hand { $($hvariant:ident),* }
    ) => {
        /// The settings of one breaker.
        ///
        /// `Config::default()` holds the defaults of the design: `failure_threshold` 5,
        /// `success_threshold` 3, `recovery_timeout` 60 s, `half_open_max_calls` 3,
        /// `half_open_max_wait` 120 s, `sliding_window` the last 100 calls, constant
        /// `backoff` without `jitter`, system clock; no failure-rate or slow-call rule (the
        /// table of [`Setting`] gives each one's default and limits).
        ///
        /// # Which rules trip the breaker
        ///
        /// Those configured. With no rate setting, consecutive failures, as
        /// `failure_threshold` says (default 5). A failure-rate rule
        /// ([`failure_rate_threshold`](Self::failure_rate_threshold)) or a slow-call rule
        /// ([`slow_call_rate_threshold`](Self::slow_call_rate_threshold)) replaces the
        /// consecutive rule unless `failure_threshold` is set explicitly; then any configured
        /// rule trips the breaker. A rate counts once the window holds
        /// [`minimum_calls`](Self::minimum_calls) calls (default 100, capped at a count
        /// window's size).
        ///
        /// A slow-call rule needs [`slow_call_duration`](Self::slow_call_duration);
        /// `slow_call_duration` alone times calls and reports the slow-call rate without
        /// tripping anything.
        ///
        /// ```
        /// use circuit_core::{Config, SlidingWindow};
        /// use std::time::Duration;
        ///
        /// let config = Config::builder()
        ///     .failure_rate_threshold(0.5)
        ///     .sliding_window(SlidingWindow::Time(Duration::from_secs(60)))
        ///     .minimum_calls(20)
        ///     .build()?;
        /// // The rate rule replaces the consecutive one: `failure_threshold` was not set.
        /// assert!(!config.trips_on_consecutive_failures());
        /// assert_eq!(config.success_threshold(), 3);
        /// # Ok::<(), circuit_core::ConfigError>(())
        /// ```
        #[non_exhaustive]
        #[derive(Clone)]
        pub struct Config {
            $(pub(crate) $field: $ty,)*
            $(pub(crate) $ofield: Option<$oty>,)*
            /// As given; `None`: 100, capped at a count window's size.
            pub(crate) minimum_calls: Option<u32>,
            /// The `backoff` setting (its growth) and the `jitter` setting (its spread).
            pub(crate) backoff: Backoff,
            /// Bit `Setting::index()` set: that setting was given (by code, a variable, a
            /// file or the attribute), not left at its default.
            pub(crate) explicit: u32,
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
            $(
                #[doc = $odoc]
                pub fn $ofield(&self) -> Option<$oty> {
                    self.$ofield
                }
            )*

            /// The value of `setting`, as the table's [`Value`]; `None` for a setting that is
            /// not configured. (`minimum_calls` not given is `None` here, and its effective
            /// value in [`minimum_calls`](Self::minimum_calls).)
            pub fn value(&self, setting: Setting) -> Option<Value> {
                match setting {
                    $(Setting::$variant => Some(Value::from(self.$field)),)*
                    $(Setting::$ovariant => self.$ofield.map(Value::from),)*
                    $(Setting::$hvariant)|* => self.value_by_hand(setting),
                }
            }

            /// Gives `setting` the value `value`, unchecked ([`ConfigBuilder::build`] checks
            /// it), and marks it given. Callers have checked its kind; one of another kind
            /// would be ignored.
            fn set_value(&mut self, setting: Setting, value: Value) {
                let set = match setting {
                    $(Setting::$variant => <$ty>::from_value(value).map(|v| self.$field = v),)*
                    $(Setting::$ovariant => {
                        <$oty>::from_value(value).map(|v| self.$ofield = Some(v))
                    })*
                    $(Setting::$hvariant)|* => self.set_by_hand(setting, value),
                };
                if set.is_some() {
                    self.explicit |= 1 << setting.index();
                }
            }
        }

        impl Default for Config {
            fn default() -> Self {
                Config {
                    $($field: Setting::$variant
                        .default_value()
                        .and_then(<$ty>::from_value)
                        .expect("a setting that always has a value has a default of its kind"),)*
                    $($ofield: None,)*
                    minimum_calls: None,
                    backoff: Backoff::constant(),
                    explicit: 0,
                    clock: None,
                }
            }
        }

        impl fmt::Debug for Config {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut d = f.debug_struct("Config");
                $(d.field(stringify!($field), &self.$field);)*
                $(d.field(stringify!($ofield), &self.$ofield);)*
                d.field("minimum_calls", &self.minimum_calls());
                d.field("backoff", &self.backoff.growth);
                d.field("jitter", &self.backoff.jitter);
                let given: Vec<&str> = Setting::ALL
                    .into_iter()
                    .filter(|&s| self.is_set(s))
                    .map(Setting::name)
                    .collect();
                d.field("given", &given);
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
                    self.config.explicit |= 1 << Setting::$variant.index();
                    self
                }
            )*
            $(
                #[doc = $odoc]
                #[doc = ""]
                #[doc = concat!(
                    "[`build`](Self::build) checks it: see [`Setting::",
                    stringify!($ovariant),
                    "`] for its limits."
                )]
                pub fn $ofield(mut self, value: $oty) -> Self {
                    self.config.$ofield = Some(value);
                    self.config.explicit |= 1 << Setting::$ovariant.index();
                    self
                }
            )*
        }
    };
}

typed_settings! {
    always {
        FailureThreshold => failure_threshold: u32,
            "Consecutive failures, while Closed, that open the breaker (when the consecutive \
             rule is on: see [`Config`]).";
        SuccessThreshold => success_threshold: u32,
            "Successful trial calls, while HalfOpen, that close the breaker.";
        HalfOpenMaxCalls => half_open_max_calls: u32,
            "Trial calls admitted in one HalfOpen period.";
        RecoveryTimeout => recovery_timeout: Duration,
            "How long the breaker stays Open before it lets trial calls through (kept to the \
             millisecond, rounded up); the first Open period, which \
             [`backoff`](Self::backoff) may grow.";
        HalfOpenMaxWait => half_open_max_wait: Duration,
            "How long a HalfOpen period whose trial slots are all taken may go undecided before \
             the breaker opens again (from the start of the period, kept to the millisecond, \
             rounded up): trial calls that never report (a permit forgotten, a future never \
             completed) cannot hold the breaker HalfOpen for longer. While a slot is free the \
             breaker is not held: the next call is a trial that can decide. Default 120 s, longer \
             than the request timeouts clients commonly default to (30 s to 100 s), so that a \
             slow but real trial is not cut off.";
        SlidingWindow => sliding_window: SlidingWindow,
            "The calls the failure and slow-call rates are measured over: the last N calls, or \
             the calls of the last period. Default the last 100 calls.";
        RecordCallDurations => record_call_durations: bool,
            "Whether the breaker times each call it admits on the precise clock, from admission \
             to its outcome (sync calls; async calls from their first poll), into a histogram \
             of call durations by outcome: [`CircuitBreaker::durations`](crate::CircuitBreaker::durations), \
             [`Snapshot::durations`](crate::Snapshot::durations) and, with feature \
             `prometheus`, `circuit_breaker_call_duration_seconds`. Default `false`: calls are \
             not timed for it, and the breaker neither reads the clock for it nor holds a \
             histogram. Turned on by `reconfigure`, recording starts with the next call \
             admitted; turned off, it stops at once and the histogram is hidden, keeping its \
             counts should it be turned on again.";
    }
    optional {
        FailureRateThreshold => failure_rate_threshold: f64,
            "The failure rate, a ratio above 0 and at most 1, over \
             [`sliding_window`](Self::sliding_window) at or above which the breaker opens, \
             once the window holds [`minimum_calls`](Self::minimum_calls) calls; not \
             configured (`None`) by default: no failure-rate rule.";
        SlowCallDuration => slow_call_duration: Duration,
            "How long a call must take, succeeding or failing, to count as slow; not \
             configured (`None`) by default: calls are not timed. Alone, it times calls and \
             reports the slow-call rate without tripping anything.";
        SlowCallRateThreshold => slow_call_rate_threshold: f64,
            "The slow-call rate, a ratio above 0 and at most 1, over \
             [`sliding_window`](Self::sliding_window) at or above which the breaker opens, \
             once the window holds [`minimum_calls`](Self::minimum_calls) calls; needs \
             [`slow_call_duration`](Self::slow_call_duration). Not configured (`None`) by \
             default: no slow-call rule.";
        Timeout => timeout: Duration,
            "How long an async call ([`call_async`](crate::CircuitBreaker::call_async), \
             [`call_async_with`](crate::CircuitBreaker::call_async_with), an attribute's \
             `async fn` with the `timeout` key) may wait before it is cancelled (its future \
             dropped), counted as a failure (and in [`Snapshot::timeouts`](crate::Snapshot)) \
             and answered with [`CircuitError::Timeout`](crate::CircuitError::Timeout); timed \
             from the first time the call waits, on tokio's clock. Not configured (`None`) by \
             default: no timeout. Enforced only with the `tokio` feature, inside a tokio \
             runtime with its time driver. Sync calls are never cut short (a thread cannot be \
             cancelled): on a breaker reached only through `call`, this setting does nothing; \
             nor on the tower and reqwest layers, which have their own timeouts.";
        AbandonedCallDuration => abandoned_call_duration: Duration,
            "How long an async call must have waited, when its caller drops it unfinished (a \
             client that gave up, a `select!` that took another branch), to count as a \
             failure. Every such call is counted in \
             [`Snapshot::abandoned`](crate::Snapshot); without this setting (the default, \
             `None`) it counts as nothing else and gives back its half-open trial slot; with \
             it, one dropped after waiting at least this long also counts as a failure (and \
             fails a half-open trial). Timed on the breaker's clock from the first time the \
             call waits; the clock is read only when this is set.";
    }
    by_hand { MinimumCalls, Backoff, Jitter }
}

impl Config {
    /// Whether this is `Config::default()`: every setting at its default and none given
    /// explicitly (a `failure_threshold` of 5 given beside a rate rule keeps the consecutive
    /// rule on), system clock.
    pub(crate) fn is_default(&self) -> bool {
        self.clock.is_none()
            && self.explicit == 0
            && Setting::ALL
                .iter()
                .all(|&s| self.value(s) == s.default_value())
    }

    /// Whether `setting` was given explicitly (by code, a variable, a file or the attribute)
    /// rather than left at its default.
    pub fn is_set(&self, setting: Setting) -> bool {
        self.explicit & (1 << setting.index()) != 0
    }

    /// Whether consecutive failures open the breaker: when no rate rule is configured, or when
    /// `failure_threshold` is set explicitly beside one.
    pub fn trips_on_consecutive_failures(&self) -> bool {
        let rate_rule =
            self.failure_rate_threshold.is_some() || self.slow_call_rate_threshold.is_some();
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
    /// and its value: zero, above the setting's largest value, or out of its range (see
    /// [`Setting`]); then the rules that tie two settings together, in this order:
    /// `success_threshold` above `half_open_max_calls` (such a breaker could never close),
    /// `minimum_calls` above a count window's size (the window could never hold enough calls),
    /// `slow_call_rate_threshold` without `slow_call_duration` (no call would be timed), and
    /// an exponential backoff's longest period shorter than `recovery_timeout` (the periods
    /// would shrink as the breaker kept failing).
    pub fn build(self) -> Result<Config, ConfigError> {
        let c = &self.config;
        for setting in Setting::ALL {
            if let Some(value) = c.value(setting) {
                ConfigError::check(setting, value)?;
            }
        }
        rules::check_across(c)?;
        Ok(self.config)
    }
}
