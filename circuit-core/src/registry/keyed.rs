//! Breakers per key (a host, a tenant, a route), made on first use from a template
//! configuration, bounded in number, and dropped when idle.
//!
//! The set is a sharded hash table of entries `{breaker, last use}`, found by the key, which is
//! the tail of the breaker's own name (so the key is stored once, in the name). Lookups take one
//! shard's read lock; creation, eviction and the idle sweep are serialised by one lock of their
//! own, which is what keeps the bound exact. Time is read from the template's clock, so tests
//! drive idleness with a [`ManualClock`](crate::clock::ManualClock). The template may be
//! replaced ([`KeyedBreakers::reconfigure`], which [`Registry::configure`](crate::Registry::configure)
//! calls for a set of its name): it sits behind a lock that only creation and reports take,
//! and its clock in a [`BreakerClock`], which a lookup reads as a breaker reads its own.
//!
//! Breakers here have counted names (see `breaker/name.rs`): once a breaker is dropped from
//! the set and the last `Arc` and `CircuitOpen` of it are gone, its name is freed too.

use crate::breaker::name::Name;
use crate::clock::swappable::BreakerClock;
use crate::events::delivery::Listener;
use crate::registry::table::{hash_name, same_name};
use crate::{CircuitBreaker, Config, Snapshot};
use hashbrown::HashTable;
use parking_lot::{Mutex, RwLock};
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The bounds of a [`KeyedBreakers`] set.
///
/// ```
/// use circuit_core::KeyedLimits;
/// use std::time::Duration;
///
/// let limits = KeyedLimits::new(1_000, Duration::from_secs(600));
/// assert_eq!(limits.max_breakers(), 1_000);
/// assert_eq!(KeyedLimits::default().idle_timeout(), Duration::from_secs(600));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyedLimits {
    max_breakers: usize,
    idle_timeout: Duration,
}

impl KeyedLimits {
    /// At most `max_breakers` breakers (at least 1), each dropped once no call has looked it up
    /// for `idle_timeout` (at least 1 ms). A `const fn`, so that the attribute's declarations
    /// can hold one in a `static`.
    pub const fn new(max_breakers: usize, idle_timeout: Duration) -> KeyedLimits {
        const SHORTEST: Duration = Duration::from_millis(1);
        // `Ord::max` is not `const`.
        KeyedLimits {
            max_breakers: if max_breakers == 0 { 1 } else { max_breakers },
            idle_timeout: if idle_timeout.as_nanos() < SHORTEST.as_nanos() {
                SHORTEST
            } else {
                idle_timeout
            },
        }
    }

    /// The defaults: 10,000 breakers, dropped after 10 minutes without a call.
    pub const DEFAULT: KeyedLimits = KeyedLimits::new(10_000, Duration::from_secs(600));

    /// The most breakers the set holds at once.
    pub const fn max_breakers(&self) -> usize {
        self.max_breakers
    }

    /// How long a breaker stays in the set without being looked up.
    pub const fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }
}

impl Default for KeyedLimits {
    /// [`KeyedLimits::DEFAULT`]: 10,000 breakers, dropped after 10 minutes without a call.
    fn default() -> KeyedLimits {
        KeyedLimits::DEFAULT
    }
}

/// A key a [`KeyedBreakers`] set refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key was empty: a key extractor that found nothing must not share one breaker among
    /// every request it failed on.
    #[error("an empty key cannot name a circuit breaker in the keyed set {set:?}; use a host, tenant or route, or a fixed key such as \"unknown\"")]
    Empty {
        /// The name of the set.
        set: String,
    },
}

/// One breaker per key, made from a template [`Config`] on first use.
///
/// - **Bounded**: at most [`KeyedLimits::max_breakers`]. When a new key arrives and the set is
///   full, the set first drops the breakers idle for longer than the idle timeout, and if none
///   is, it *evicts the idlest breakers* (those whose last lookup is oldest): at least one, and
///   up to a sixteenth of the bound at once, so that a stream of new keys pays for one scan of
///   the set per sixteenth of the bound rather than one per key. An evicted breaker's state is
///   lost (its key starts Closed again next time), so choose a bound above the number of keys
///   in use within an idle timeout.
/// - **Idle breakers dropped**: a breaker not looked up for [`KeyedLimits::idle_timeout`],
///   measured on the template's clock, is dropped by a sweep that lookups run at most four
///   times per idle timeout (or by [`sweep`](Self::sweep)). Callers holding its `Arc` keep
///   using it; the next lookup of its key makes a new one.
/// - **Names freed**: each breaker is named `"{set}:{key}"`, with a name that is freed once the
///   breaker is dropped from the set and the last `Arc` and
///   [`CircuitOpen`](crate::CircuitOpen) of it are gone. A rejection from a keyed breaker costs
///   one atomic increment more than one from a named breaker, for that count.
/// - **Bounded metrics**: keyed breakers are not in the named [`Registry`](crate::Registry), so
///   its reports and Prometheus collector do not grow with keys; [`snapshots`](Self::snapshots)
///   reports at most `max_breakers` of them.
///
/// ```
/// use circuit_core::clock::ManualClock;
/// use circuit_core::{KeyError, KeyedLimits};
/// use circuit_core::{registry, CircuitError, Config};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let template = Config::builder().failure_threshold(2).clock(clock.clone()).build()?;
/// let hosts = registry().keyed("outbound", template, KeyedLimits::new(100, Duration::from_secs(60)));
///
/// let breaker = hosts.get("api.example.com")?;
/// assert_eq!(breaker.name(), "outbound:api.example.com");
/// let r: Result<(), CircuitError<&str>> = breaker.call(|| Err("503"));
/// assert!(r.is_err());
///
/// assert!(matches!(hosts.get(""), Err(KeyError::Empty { .. })));
///
/// drop(breaker);
/// clock.advance(Duration::from_secs(61));
/// assert_eq!(hosts.sweep(), 1);
/// assert!(hosts.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct KeyedBreakers {
    set: Box<str>,
    /// Shared by every breaker of the set until one is reconfigured. Read when a breaker is
    /// made and by reports, never by a lookup that finds its breaker.
    template: RwLock<Arc<Config>>,
    /// The template's clock, which idle times are measured on.
    clock: BreakerClock,
    limits: KeyedLimits,
    shards: Box<[RwLock<HashTable<Entry>>]>,
    hasher: foldhash::fast::RandomState,
    len: AtomicUsize,
    /// Clock milliseconds at which a lookup next runs the idle sweep.
    next_sweep_ms: AtomicU64,
    /// Serialises creation, eviction and sweeps, so the bound is never exceeded.
    changes: Mutex<()>,
    /// Keys refused (empty): counted, and the first one warned of, so that a refusal a
    /// fallback answers is still seen.
    refused: AtomicU64,
    /// The listeners of the registry that made the set, which its breakers are heard by.
    heard_by: Option<Arc<Vec<Listener>>>,
}

struct Entry {
    breaker: Arc<CircuitBreaker>,
    /// Clock milliseconds of the last lookup, written at most once per millisecond.
    last_used_ms: AtomicU64,
}

/// Shards of the table: enough that lookups of different keys from a few threads rarely meet
/// on one lock.
const SHARDS: usize = 16;

impl KeyedBreakers {
    /// An empty set. Its breakers are named `"{set}:{key}"` and configured by `template`
    /// (clock included). [`Registry::keyed`](crate::Registry::keyed) makes one shared by name.
    pub fn new(set: &str, template: Config, limits: KeyedLimits) -> KeyedBreakers {
        KeyedBreakers {
            set: set.into(),
            clock: BreakerClock::new(template.clock.clone()),
            template: RwLock::new(Arc::new(template)),
            limits,
            shards: (0..SHARDS).map(|_| RwLock::new(HashTable::new())).collect(),
            hasher: foldhash::fast::RandomState::default(),
            len: AtomicUsize::new(0),
            next_sweep_ms: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            changes: Mutex::new(()),
            heard_by: None,
        }
    }

    /// A set whose breakers a registry's listeners hear, through `forwarder`.
    pub(crate) fn heard_by(mut self, forwarder: Arc<Vec<Listener>>) -> Self {
        self.heard_by = Some(forwarder);
        self
    }

    /// The set's name.
    pub fn name(&self) -> &str {
        &self.set
    }

    /// The set's bounds.
    pub fn limits(&self) -> KeyedLimits {
        self.limits
    }

    /// The template new breakers are configured with.
    pub fn template(&self) -> Config {
        Config::clone(&self.template.read())
    }

    /// Replaces the template: breakers made from now on are configured with `template`, and
    /// every breaker in the set is reconfigured with it now (each keeps its state, as
    /// [`CircuitBreaker::reconfigure`] says). Idle times are measured on the new template's
    /// clock; when that is another clock, every breaker's idle time starts again from now.
    /// The bounds stay as they are.
    ///
    /// [`Registry::configure`](crate::Registry::configure) calls it for the set of the name it
    /// is given, so the environment and files configure a set as they configure a named
    /// breaker.
    pub fn reconfigure(&self, template: Config) {
        let template = Arc::new(template);
        let live: Vec<Arc<CircuitBreaker>> = {
            // Under `changes`: no breaker is made from the old template once it is replaced,
            // and every breaker made before is in the table.
            let _changes = self.changes.lock();
            *self.template.write() = template.clone();
            if self.clock.replace(template.clock.clone()) {
                let now = self.now_ms();
                for shard in self.shards.iter() {
                    for entry in shard.read().iter() {
                        entry.last_used_ms.store(now, Ordering::Relaxed);
                    }
                }
                self.next_sweep_ms.store(0, Ordering::Relaxed);
            }
            self.shards
                .iter()
                .flat_map(|s| {
                    s.read()
                        .iter()
                        .map(|e| e.breaker.clone())
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        // Outside every lock of the set: a reconfigured breaker may change state, and its
        // listeners may look keys up.
        for breaker in live {
            breaker.reconfigure_shared(template.clone());
        }
    }

    /// How many keys [`get`](Self::get) has refused (empty keys) since the set was made.
    /// A refused call runs through no breaker, so no breaker's totals count it; and where a
    /// fallback answers it (the attribute's `key`, which may not tell the fallback why), the
    /// caller sees no error either. The first refusal of each set is also warned of, through
    /// `tracing` (feature `tracing`) or on standard error.
    pub fn refused_keys(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Counts an empty key and makes its error; warns of the set's first.
    #[cold]
    fn refuse_empty(&self) -> KeyError {
        let error = KeyError::Empty {
            set: self.set.to_string(),
        };
        if self.refused.fetch_add(1, Ordering::Relaxed) == 0 {
            let message = format!(
                "{error} (the first refusal of this set; KeyedBreakers::refused_keys counts them)"
            );
            #[cfg(feature = "tracing")]
            tracing::warn!(target: "circuit_breaker", set = %self.set, "{message}");
            #[cfg(not(feature = "tracing"))]
            eprintln!("warning: {message}");
        }
        error
    }

    /// How many breakers the set holds.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Whether the set holds no breaker.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The breaker for `key`, made from the template if the set has none. Marks it used now.
    /// May first drop idle breakers (see the type's docs), or evict the idlest if the set is
    /// full.
    ///
    /// # Errors
    ///
    /// [`KeyError::Empty`] if `key` is empty.
    pub fn get(&self, key: &str) -> Result<Arc<CircuitBreaker>, KeyError> {
        if key.is_empty() {
            return Err(self.refuse_empty());
        }
        let now = self.now_ms();
        if now >= self.next_sweep_ms.load(Ordering::Relaxed) {
            self.sweep_at(now, false);
        }
        let hash = hash_name(&self.hasher, key);
        if let Some(found) = self.find(hash, key, now) {
            return Ok(found);
        }
        Ok(self.create(hash, key, now))
    }

    /// The breaker for `key` if the set holds one, without making one or marking it used.
    pub fn peek(&self, key: &str) -> Option<Arc<CircuitBreaker>> {
        let hash = hash_name(&self.hasher, key);
        let shard = self.shard(hash).read();
        shard
            .find(hash, |e| same_name(self.key_of(e), key))
            .map(|e| e.breaker.clone())
    }

    /// Drops every breaker not looked up for the idle timeout; returns how many.
    pub fn sweep(&self) -> usize {
        self.sweep_at(self.now_ms(), true)
    }

    /// Snapshots of every breaker in the set, sorted by name: at most `max_breakers`.
    pub fn snapshots(&self) -> Vec<Snapshot> {
        let mut all: Vec<Snapshot> = self
            .shards
            .iter()
            .flat_map(|s| {
                s.read()
                    .iter()
                    .map(|e| e.breaker.snapshot())
                    .collect::<Vec<_>>()
            })
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    fn find(&self, hash: u64, key: &str, now: u64) -> Option<Arc<CircuitBreaker>> {
        let shard = self.shard(hash).read();
        let entry = shard.find(hash, |e| same_name(self.key_of(e), key))?;
        // Written once per millisecond at most, so a hot key's lookups mostly only read.
        if entry.last_used_ms.load(Ordering::Relaxed) < now {
            entry.last_used_ms.store(now, Ordering::Relaxed);
        }
        Some(entry.breaker.clone())
    }

    #[cold]
    fn create(&self, hash: u64, key: &str, now: u64) -> Arc<CircuitBreaker> {
        let _changes = self.changes.lock();
        if let Some(found) = self.find(hash, key, now) {
            return found;
        }
        if self.len() >= self.limits.max_breakers && self.drop_idle(now) == 0 {
            self.evict_idlest();
        }
        let name = if self.set.is_empty() {
            Name::counted(key)
        } else {
            Name::counted(&format!("{}:{key}", self.set))
        };
        let template = self.template.read().clone();
        let mut breaker = CircuitBreaker::named(name, template);
        if let Some(forwarder) = &self.heard_by {
            breaker = breaker.heard_by(forwarder.clone());
        }
        let breaker = Arc::new(breaker);
        self.shard(hash).write().insert_unique(
            hash,
            Entry {
                breaker: breaker.clone(),
                last_used_ms: AtomicU64::new(now),
            },
            |e| hash_name(&self.hasher, self.key_of(e)),
        );
        self.len.fetch_add(1, Ordering::Relaxed);
        breaker
    }

    /// Runs the idle sweep if it is due (or `forced`) and no other change is under way.
    fn sweep_at(&self, now: u64, forced: bool) -> usize {
        let _changes = if forced {
            self.changes.lock()
        } else {
            // A lookup never waits for a sweep: whoever holds the lock is doing the work.
            match self.changes.try_lock() {
                Some(guard) => guard,
                None => return 0,
            }
        };
        self.drop_idle(now)
    }

    /// Drops the breakers idle for the idle timeout. Called under `changes`.
    fn drop_idle(&self, now: u64) -> usize {
        let idle_ms = u64::try_from(self.limits.idle_timeout.as_millis()).unwrap_or(u64::MAX);
        // The next sweep: a quarter of the idle timeout away, so a breaker outlives its idle
        // timeout by at most a quarter of it (when lookups keep coming).
        self.next_sweep_ms
            .store(now.saturating_add((idle_ms / 4).max(1)), Ordering::Relaxed);
        let mut dropped = 0;
        for shard in self.shards.iter() {
            shard.write().retain(|e| {
                let idle = now.saturating_sub(e.last_used_ms.load(Ordering::Relaxed)) >= idle_ms;
                dropped += usize::from(idle);
                !idle
            });
        }
        self.len.fetch_sub(dropped, Ordering::Relaxed);
        dropped
    }

    /// Evicts the idlest breakers: at least one, up to a sixteenth of the bound. Called under
    /// `changes` with the set full.
    fn evict_idlest(&self) {
        let batch = (self.limits.max_breakers / 16).max(1);
        let mut ages: Vec<u64> = self
            .shards
            .iter()
            .flat_map(|s| {
                s.read()
                    .iter()
                    .map(|e| e.last_used_ms.load(Ordering::Relaxed))
                    .collect::<Vec<_>>()
            })
            .collect();
        if ages.is_empty() {
            return;
        }
        let batch = batch.min(ages.len());
        // The `batch`-th oldest last use: everything at or before it goes, ties counted off so
        // that exactly `batch` leave.
        let (_, &mut cutoff, _) = ages.select_nth_unstable(batch - 1);
        let mut below = ages.iter().filter(|&&a| a < cutoff).count();
        let mut evicted = 0;
        for shard in self.shards.iter() {
            shard.write().retain(|e| {
                let used = e.last_used_ms.load(Ordering::Relaxed);
                let evict = used < cutoff || (used == cutoff && below < batch);
                if used == cutoff && evict {
                    below += 1;
                }
                evicted += usize::from(evict);
                !evict
            });
        }
        self.len.fetch_sub(evicted, Ordering::Relaxed);
    }

    fn shard(&self, hash: u64) -> &RwLock<HashTable<Entry>> {
        // The high bits: hashbrown uses the low ones within a shard.
        &self.shards[(hash >> 60) as usize % SHARDS]
    }

    /// The key an entry is stored under: its breaker's name after `"{set}:"`.
    fn key_of<'e>(&self, entry: &'e Entry) -> &'e str {
        let name = entry.breaker.name();
        if self.set.is_empty() {
            name
        } else {
            &name[self.set.len() + 1..]
        }
    }

    /// Milliseconds on the template's clock. The system clock is read coarse (its last
    /// scheduler tick, on the same time base as the precise reading and at most a few
    /// milliseconds behind it): idle times are whole seconds, and the precise read cost
    /// several times the rest of a lookup.
    fn now_ms(&self) -> u64 {
        self.clock.coarse_now_nanos() / 1_000_000
    }
}

impl fmt::Debug for KeyedBreakers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedBreakers")
            .field("set", &self.set)
            .field("len", &self.len())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}
