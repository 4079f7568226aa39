//! One breaker: the packed state word ([`word`]) and the changes made to it ([`transitions`]),
//! admission ([`admission`]), outcomes ([`outcomes`]), the Open period's deadline
//! ([`deadline`]) and its length ([`backoff`]), what a call's result means ([`outcome`]), the
//! HalfOpen period's longest wait ([`max_wait`]), the failure-rate and slow-call rules'
//! sliding window ([`window`]), administration ([`admin`]) and what it reports of itself
//! ([`observe`]); the
//! permits that carry a call's outcome back ([`permit`]), the call wrappers ([`call`]), the
//! totals kept without a shared write ([`totals`]), interned names ([`name`]), the states users
//! see ([`state`]), what a rejected or failed call returns ([`error`]) and why a fallback runs
//! ([`fallback`]).
//!
//! This file holds the breaker itself and its construction.

mod admin;
mod admission;
mod backoff;
mod call;
mod deadline;
pub(crate) mod durations;
pub(crate) mod error;
pub(crate) mod fallback;
#[cfg(feature = "redis")]
mod fleet; // what the fleet's task does to a local breaker (feature `redis`)
mod max_wait;
pub(crate) mod name;
mod observe;
pub(crate) mod outcome;
mod outcomes;
pub(crate) mod permit;
pub(crate) mod state;
pub(crate) mod stripes;
pub(crate) mod totals;
mod transitions;
pub(crate) mod window;
pub(crate) mod word;

use crate::breaker::backoff::Periods;
use crate::breaker::totals::Totals;
use crate::breaker::word::{Remainder, Word};
use crate::clock::saturating_nanos;
use crate::clock::swappable::BreakerClock;
use crate::config::Config;
use crate::events::delivery::Events;
use crate::sync::{AtomicU64, Ordering};
use max_wait::HalfOpenStart;
use name::Name;
use parking_lot::Mutex;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use window::Window;

/// A circuit breaker. Shared as `Arc<CircuitBreaker>`; every method takes `&self`.
///
/// ```
/// use circuit_core::{CircuitBreaker, CircuitError, Config, State};
///
/// let breaker = CircuitBreaker::new("inventory", Config::builder().failure_threshold(2).build()?);
/// for _ in 0..2 {
///     let r: Result<(), _> = breaker.call(|| Err("timeout"));
///     assert!(matches!(r, Err(CircuitError::Inner("timeout"))));
/// }
/// assert_eq!(breaker.state(), State::Open);
/// let r = breaker.call(|| Ok::<_, &str>("never runs"));
/// assert!(matches!(r, Err(CircuitError::Open(_))));
/// # Ok::<(), circuit_core::ConfigError>(())
/// ```
pub struct CircuitBreaker {
    /// Everything the call path decides on; see [`crate::breaker::word`].
    word: AtomicU64,
    /// The part of an Open deadline finer than the word's milliseconds.
    remainder: Remainder,
    /// The Open period's re-openings and length, and the metrics-only flag; see
    /// [`backoff`].
    periods: Periods,
    /// When the current HalfOpen period began.
    half_open_start: HalfOpenStart,
    name: Name,
    /// The thresholds, mirrored out of `config` so the call path reads them without a lock.
    /// `success_threshold` and `half_open_max_calls` share one atomic so that a reader never
    /// pairs one configuration's threshold with another's limit (which could strand the
    /// breaker in HalfOpen).
    failure_threshold: AtomicU64,
    trial_limits: AtomicU64,
    recovery_timeout_ns: AtomicU64,
    half_open_max_wait_ns: AtomicU64,
    clock: BreakerClock,
    /// The configuration last applied, for reading back. Behind an `Arc` so that the breakers a
    /// keyed set makes from one template share it (an idle breaker stays small).
    config: Mutex<Arc<Config>>,
    /// Wall-clock nanoseconds since the Unix epoch of the last counted failure, 0 for none.
    last_failure: AtomicU64,
    totals: Totals,
    /// The failure-rate and slow-call rules' window; see [`window`].
    window: Window,
    events: Events,
}

impl CircuitBreaker {
    /// A breaker in the Closed state.
    pub fn new(name: impl Into<String>, config: Config) -> Self {
        Self::named(name::intern(&name.into()), shared_config(config))
    }

    /// A breaker in the Closed state with a name already made (interned or counted) and a
    /// configuration that may be shared.
    pub(crate) fn named(name: Name, config: Arc<Config>) -> Self {
        let breaker = CircuitBreaker {
            word: AtomicU64::new(Word::INITIAL.0),
            remainder: Remainder::new(),
            periods: Periods::new(),
            half_open_start: HalfOpenStart::new(),
            name,
            failure_threshold: AtomicU64::new(0),
            trial_limits: AtomicU64::new(0),
            recovery_timeout_ns: AtomicU64::new(0),
            half_open_max_wait_ns: AtomicU64::new(0),
            clock: BreakerClock::new(config.clock.clone()),
            config: Mutex::new(config.clone()),
            last_failure: AtomicU64::new(0),
            totals: Totals::new(),
            window: Window::new(&config),
            events: Events::new(),
        };
        breaker.store_limits(&config);
        breaker
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// The configuration in force.
    pub fn config(&self) -> Config {
        Config::clone(&self.config.lock())
    }

    /// Mirrors `config`'s thresholds for the call path. Relaxed: see
    /// [`load`](Self::load) for why they need no ordering.
    fn store_limits(&self, config: &Config) {
        self.failure_threshold
            .store(window::consecutive_threshold(config), Ordering::Relaxed);
        self.trial_limits.store(
            u64::from(config.success_threshold) << 32 | u64::from(config.half_open_max_calls),
            Ordering::Relaxed,
        );
        self.recovery_timeout_ns
            .store(saturating_nanos(config.recovery_timeout), Ordering::Relaxed);
        self.half_open_max_wait_ns.store(
            saturating_nanos(config.half_open_max_wait),
            Ordering::Relaxed,
        );
    }

    /// `(success_threshold, half_open_max_calls)`, read together.
    fn trial_limits(&self) -> (u32, u32) {
        let limits = self.trial_limits.load(Ordering::Relaxed);
        ((limits >> 32) as u32, limits as u32)
    }

    fn recovery_timeout(&self) -> Duration {
        Duration::from_nanos(self.recovery_timeout_ns.load(Ordering::Relaxed))
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.name())
            .field("word", &self.load())
            .field("config", &**self.config.lock())
            .field("totals", &self.totals)
            .field("events", &self.events)
            .finish()
    }
}

/// `config` to hold: the default configuration is one `Arc` shared by every breaker built from
/// it, so that such a breaker allocates no configuration of its own (an idle breaker stays
/// under 256 bytes; breakers made from a template share the template's `Arc` the same way).
fn shared_config(config: Config) -> Arc<Config> {
    static DEFAULT: std::sync::LazyLock<Arc<Config>> =
        std::sync::LazyLock::new(|| Arc::new(Config::default()));
    // `is_default` looks at every setting, the trip policies' included, so a rate breaker
    // never gets the shared default configuration.
    if config.is_default() {
        DEFAULT.clone()
    } else {
        Arc::new(config)
    }
}
