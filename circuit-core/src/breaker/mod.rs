//! One breaker: the packed state word ([`word`]), admission and outcomes on it, the permits
//! that carry a call's outcome back ([`permit`]), the call wrappers ([`call`]), the totals kept
//! without a shared write ([`totals`]), interned names ([`name`]), the states users see
//! ([`state`]) and what a rejected or failed call returns ([`error`]).

mod call;
pub(crate) mod error;
pub(crate) mod name;
pub(crate) mod permit;
pub(crate) mod state;
pub(crate) mod totals;
pub(crate) mod word;

use crate::breaker::error::CircuitOpen;
use crate::breaker::permit::Permit;
use crate::breaker::totals::{Total, Totals};
use crate::breaker::word::{Tag, Word};
use crate::clock::swappable::BreakerClock;
use crate::config::Config;
use crate::events::delivery::Events;
use crate::events::{Reason, Transition};
use crate::report::Snapshot;
use crate::sync::{AtomicU64, Ordering};
use crate::State;
use name::Name;
use parking_lot::Mutex;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
    name: Name,
    /// The thresholds, mirrored out of `config` so the call path reads them without a lock.
    /// `success_threshold` and `half_open_max_calls` share one atomic so that a reader never
    /// pairs one configuration's threshold with another's limit (which could strand the
    /// breaker in HalfOpen).
    failure_threshold: AtomicU64,
    trial_limits: AtomicU64,
    recovery_timeout_ns: AtomicU64,
    clock: BreakerClock,
    /// The configuration last applied, for reading back.
    config: Mutex<Config>,
    /// Wall-clock nanoseconds since the Unix epoch of the last counted failure, 0 for none.
    last_failure: AtomicU64,
    totals: Totals,
    events: Events,
}

impl CircuitBreaker {
    /// A breaker in the Closed state.
    pub fn new(name: impl Into<String>, config: Config) -> Self {
        let name = name.into();
        let breaker = CircuitBreaker {
            word: AtomicU64::new(Word::INITIAL.0),
            name: name::intern(&name),
            failure_threshold: AtomicU64::new(0),
            trial_limits: AtomicU64::new(0),
            recovery_timeout_ns: AtomicU64::new(0),
            clock: BreakerClock::new(config.clock.clone()),
            config: Mutex::new(config.clone()),
            last_failure: AtomicU64::new(0),
            totals: Totals::new(),
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
        self.config.lock().clone()
    }

    /// Applies a new configuration to the live breaker. Thresholds apply to the next decision;
    /// the current state is kept. If the clock changes while the breaker is Open, its Open
    /// period restarts on the new clock (a deadline on one clock means nothing on another).
    pub fn reconfigure(&self, config: Config) {
        let mut held = self.config.lock();
        self.store_limits(&config);
        if self.clock.replace(config.clock.clone()) {
            let timeout = config.recovery_timeout;
            let _ = self.update(|w| {
                (w.tag() == Tag::Open)
                    .then(|| Word::open(w.epoch(), self.clock.deadline_ms(timeout)))
            });
        }
        *held = config;
    }

    fn store_limits(&self, config: &Config) {
        self.failure_threshold
            .store(u64::from(config.failure_threshold), Ordering::Relaxed);
        self.trial_limits.store(
            u64::from(config.success_threshold) << 32 | u64::from(config.half_open_max_calls),
            Ordering::Relaxed,
        );
        let timeout = u64::try_from(config.recovery_timeout.as_nanos()).unwrap_or(u64::MAX);
        self.recovery_timeout_ns.store(timeout, Ordering::Relaxed);
    }

    /// `(success_threshold, half_open_max_calls)`, read together.
    fn trial_limits(&self) -> (u32, u32) {
        let limits = self.trial_limits.load(Ordering::Relaxed);
        ((limits >> 32) as u32, limits as u32)
    }

    fn open_deadline(&self) -> u64 {
        let timeout = Duration::from_nanos(self.recovery_timeout_ns.load(Ordering::Relaxed));
        self.clock.deadline_ms(timeout)
    }

    #[inline(always)]
    fn load(&self) -> Word {
        Word(self.word.load(Ordering::Acquire))
    }

    /// The current state. An Open breaker whose recovery timeout has passed moves to HalfOpen
    /// here (listeners hear of it), so what this returns is what the next call will meet.
    pub fn state(&self) -> State {
        let mut w = self.load();
        while w.tag() == Tag::Open {
            if self.open_time_left(w).is_some() {
                return State::Open;
            }
            match self.transition(
                w,
                Word::half_open(w.next_epoch(), 0, 0),
                Reason::RecoveryTimeout,
            ) {
                Ok(_) => return State::HalfOpen,
                Err(actual) => w = actual,
            }
        }
        state_of(w.tag())
    }

    // ---- admission -------------------------------------------------------------------------

    /// Asks to run one call. On `Ok`, run the call, then report its outcome on the permit
    /// ([`Permit::success`] or [`Permit::failure`]); a permit dropped without a report counts
    /// as nothing and gives back a half-open trial slot. On `Err`, the call must not run.
    ///
    /// This is the building block of [`call`](Self::call) for code that cannot hand the
    /// breaker a closure.
    #[inline]
    pub fn try_acquire(&self) -> Result<Permit<'_>, CircuitOpen> {
        let w = self.load();
        if w.is_closed() {
            return Ok(Permit::new(self, w));
        }
        self.acquire_slow(w)
    }

    #[cold]
    fn acquire_slow(&self, mut w: Word) -> Result<Permit<'_>, CircuitOpen> {
        loop {
            match w.tag() {
                Tag::Closed | Tag::Disabled => return Ok(Permit::new(self, w)),
                Tag::ForcedOpen => return Err(self.reject(State::ForcedOpen, None)),
                Tag::Open => {
                    if let Some(left) = self.open_nanos_left(w) {
                        self.totals.add(Total::Rejected);
                        return Err(CircuitOpen::open_for(self.name, left));
                    }
                    // The timeout has passed: this call is the first trial.
                    let trial = Word::half_open(w.next_epoch(), 1, 0);
                    match self.transition(w, trial, Reason::RecoveryTimeout) {
                        Ok(()) => return Ok(Permit::new(self, trial)),
                        Err(actual) => w = actual,
                    }
                }
                Tag::HalfOpen => {
                    let (_, max_calls) = self.trial_limits();
                    if w.admitted() >= max_calls {
                        return Err(self.reject(State::HalfOpen, None));
                    }
                    let taken = Word::half_open(w.epoch(), w.admitted() + 1, w.successes());
                    match self.cas(w, taken) {
                        Ok(()) => return Ok(Permit::new(self, taken)),
                        Err(actual) => w = actual,
                    }
                }
            }
        }
    }

    fn reject(&self, state: State, retry_after: Option<Duration>) -> CircuitOpen {
        self.totals.add(Total::Rejected);
        CircuitOpen::new(self.name, state, retry_after)
    }

    // ---- outcomes (called by Permit) -------------------------------------------------------

    #[inline]
    pub(crate) fn on_success(&self, admitted: Word) {
        match admitted.tag() {
            Tag::Closed => {
                self.totals.add(Total::Successes);
                // A success clears the consecutive failures; most of the time there are none and
                // this is one load, no write.
                let now = self.load();
                if now.failures() != 0 && admitted.same_period(now) {
                    self.clear_failures(admitted);
                }
            }
            Tag::HalfOpen => {
                self.totals.add(Total::Successes);
                self.trial_succeeded(admitted);
            }
            // Disabled records nothing; Open and ForcedOpen admit nobody.
            Tag::Disabled | Tag::Open | Tag::ForcedOpen => {}
        }
    }

    #[cold]
    fn clear_failures(&self, admitted: Word) {
        let _ = self.update(|w| {
            (admitted.same_period(w) && w.failures() != 0).then(|| Word::closed(w.epoch(), 0))
        });
    }

    #[cold]
    fn trial_succeeded(&self, admitted: Word) {
        let mut w = self.load();
        while admitted.same_period(w) {
            let successes = w.successes() + 1;
            let (threshold, _) = self.trial_limits();
            let result = if successes >= threshold {
                let closed = Word::closed(w.next_epoch(), 0);
                self.transition(w, closed, Reason::TrialsSucceeded(successes))
            } else {
                self.cas(w, Word::half_open(w.epoch(), w.admitted(), successes))
            };
            match result {
                Ok(()) => return,
                Err(actual) => w = actual,
            }
        }
    }

    #[cold]
    pub(crate) fn on_failure(&self, admitted: Word) {
        if admitted.tag() == Tag::Disabled {
            return;
        }
        self.totals.add(Total::Failures);
        let stamp = self
            .clock
            .system_time()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| {
                u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1)
            });
        self.last_failure.store(stamp, Ordering::Relaxed);

        let mut w = self.load();
        while admitted.same_period(w) {
            let result = match w.tag() {
                Tag::Closed => {
                    let failures = w.failures() + 1;
                    let threshold = self.failure_threshold.load(Ordering::Relaxed);
                    if failures >= threshold {
                        let open = Word::open(w.next_epoch(), self.open_deadline());
                        let n = u32::try_from(failures).unwrap_or(u32::MAX);
                        self.transition(w, open, Reason::FailureThreshold(n))
                    } else {
                        self.cas(w, Word::closed(w.epoch(), failures))
                    }
                }
                Tag::HalfOpen => {
                    let open = Word::open(w.next_epoch(), self.open_deadline());
                    self.transition(w, open, Reason::TrialFailed)
                }
                _ => return,
            };
            match result {
                Ok(()) => return,
                Err(actual) => w = actual,
            }
        }
    }

    /// A permit dropped without an outcome: give back its half-open trial slot.
    #[cold]
    pub(crate) fn on_cancel(&self, admitted: Word) {
        if admitted.tag() != Tag::HalfOpen {
            return;
        }
        let _ = self.update(|w| {
            (admitted.same_period(w) && w.admitted() > 0)
                .then(|| Word::half_open(w.epoch(), w.admitted() - 1, w.successes()))
        });
    }

    // ---- administration --------------------------------------------------------------------

    /// Rejects every call until [`reset`](Self::reset).
    pub fn force_open(&self) {
        self.move_to(Tag::ForcedOpen, Reason::ForcedOpen);
    }

    /// Lets every call through and records nothing, until [`reset`](Self::reset).
    pub fn disable(&self) {
        self.move_to(Tag::Disabled, Reason::Disabled);
    }

    /// Back to Closed with its counters cleared. Calls in flight from before the reset are
    /// counted in the totals but move no state.
    pub fn reset(&self) {
        self.move_to(Tag::Closed, Reason::Reset);
    }

    fn move_to(&self, tag: Tag, reason: Reason) {
        let mut w = self.load();
        loop {
            // Forcing or disabling twice changes nothing; a reset always starts a new period.
            if w.tag() == tag && tag != Tag::Closed {
                return;
            }
            let epoch = w.next_epoch();
            let target = match tag {
                Tag::ForcedOpen => Word::forced_open(epoch),
                Tag::Disabled => Word::disabled(epoch),
                _ => Word::closed(epoch, 0),
            };
            match self.transition(w, target, reason) {
                Ok(()) => return,
                Err(actual) => w = actual,
            }
        }
    }

    /// Calls `listener` after every change of state, outside every lock, in the order of the
    /// changes. It may read or change the breaker; if it panics, the breaker and the other
    /// listeners carry on.
    pub fn on_state_change(&self, listener: impl Fn(&Transition) + Send + Sync + 'static) {
        self.events.subscribe(std::sync::Arc::new(listener));
    }

    /// Counts a call answered by a fallback, for [`Snapshot::fallbacks`]. The
    /// `#[circuit_breaker]` attribute calls it; call it when you run a fallback yourself.
    pub fn record_fallback(&self) {
        self.totals.add(Total::Fallbacks);
    }

    /// The breaker's counters and state at this moment.
    pub fn snapshot(&self) -> Snapshot {
        let state = self.state();
        let w = self.load();
        let last = self.last_failure.load(Ordering::Relaxed);
        Snapshot {
            name: self.name().to_owned(),
            state,
            failure_count: if w.tag() == Tag::Closed {
                u32::try_from(w.failures()).unwrap_or(u32::MAX)
            } else {
                0
            },
            success_count: if w.tag() == Tag::HalfOpen {
                w.successes()
            } else {
                0
            },
            last_failure: (last != 0).then(|| UNIX_EPOCH + Duration::from_nanos(last)),
            successes: self.totals.get(Total::Successes),
            failures: self.totals.get(Total::Failures),
            rejected: self.totals.get(Total::Rejected),
            fallbacks: self.totals.get(Total::Fallbacks),
        }
    }

    /// When an Open breaker lets its next trial call through, from now; `None` unless Open.
    pub fn retry_after(&self) -> Option<Duration> {
        let w = self.load();
        if w.tag() != Tag::Open {
            return None;
        }
        Some(self.open_time_left(w).unwrap_or_default())
    }

    /// Time left in the Open period of `w`, or `None` once it has passed. The coarse clock may
    /// overstate the wait by its slack; never report more than a whole timeout (a health
    /// report once showed 1005 ms left of a 1 s timeout).
    #[inline]
    fn open_time_left(&self, w: Word) -> Option<Duration> {
        self.open_nanos_left(w).map(Duration::from_nanos)
    }

    /// [`open_time_left`](Self::open_time_left) in nanoseconds, for the rejection path.
    #[inline]
    fn open_nanos_left(&self, w: Word) -> Option<u64> {
        let left = self.clock.nanos_left(|now| w.remaining_ms(now))?;
        Some(left.min(self.recovery_timeout_ns.load(Ordering::Relaxed)))
    }

    /// When the last counted failure happened (see [`Snapshot::last_failure`]).
    pub fn last_failure(&self) -> Option<SystemTime> {
        let last = self.last_failure.load(Ordering::Relaxed);
        (last != 0).then(|| UNIX_EPOCH + Duration::from_nanos(last))
    }

    // ---- the state word --------------------------------------------------------------------

    fn cas(&self, from: Word, to: Word) -> Result<(), Word> {
        self.word
            .compare_exchange(from.0, to.0, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(Word)
    }

    /// Replaces the word as `f` says, until it says `None` or a swap succeeds.
    fn update(&self, f: impl Fn(Word) -> Option<Word>) -> Result<(), Word> {
        let mut w = self.load();
        loop {
            let Some(next) = f(w) else { return Err(w) };
            match self.cas(w, next) {
                Ok(()) => return Ok(()),
                Err(actual) => w = actual,
            }
        }
    }

    /// Swaps `from` for `to`, a word of the next epoch, and on success tells the listeners.
    fn transition(&self, from: Word, to: Word, reason: Reason) -> Result<(), Word> {
        debug_assert_eq!(to.epoch(), from.next_epoch());
        self.cas(from, to)?;
        let (from_state, to_state) = (state_of(from.tag()), state_of(to.tag()));
        let transition = (from_state != to_state).then(|| Transition {
            name: self.name().to_owned(),
            from: from_state,
            to: to_state,
            reason,
        });
        self.events
            .publish(to.epoch(), transition, Word::epoch_after);
        Ok(())
    }
}

fn state_of(tag: Tag) -> State {
    match tag {
        Tag::Closed => State::Closed,
        Tag::Open => State::Open,
        Tag::HalfOpen => State::HalfOpen,
        Tag::ForcedOpen => State::ForcedOpen,
        Tag::Disabled => State::Disabled,
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.name())
            .field("word", &self.load())
            .field("config", &*self.config.lock())
            .field("totals", &self.totals)
            .field("events", &self.events)
            .finish()
    }
}
