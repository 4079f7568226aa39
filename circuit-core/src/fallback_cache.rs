//! The fallback cache of the design: the last good result per key, served for a while when the
//! service behind a breaker is down.

use crate::clock::{Clock, SystemClock};
use parking_lot::Mutex;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

/// The default time to live for cached results: 300 s.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);

/// The most entries a cache keeps unless told otherwise.
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// The last good result per key, for a fallback to serve while a breaker rejects calls.
///
/// Store each successful result with [`put`](Self::put); in the fallback, [`get`](Self::get)
/// returns it while it is younger than the time to live. This is opt-in and off the breaker's
/// call path: it takes a lock per operation.
///
/// ```
/// use circuit_core::FallbackCache;
///
/// let cache = FallbackCache::new(); // entries live 300 s, the default
/// cache.put(42_u64, "Ada".to_string());
/// assert_eq!(cache.get(&42).as_deref(), Some("Ada"));
/// assert_eq!(cache.get(&7), None);
/// ```
pub struct FallbackCache<K, V> {
    ttl: Duration,
    capacity: usize,
    clock: Arc<dyn Clock>,
    entries: Mutex<HashMap<K, (V, Duration)>>,
}

impl<K: Eq + Hash, V: Clone> FallbackCache<K, V> {
    /// A cache with the default 300 s time to live, on the system clock.
    pub fn new() -> Self {
        Self::with_ttl(DEFAULT_CACHE_TTL)
    }

    /// A cache whose entries are served for `ttl` after they were stored.
    pub fn with_ttl(ttl: Duration) -> Self {
        FallbackCache {
            ttl,
            capacity: DEFAULT_CACHE_CAPACITY,
            clock: Arc::new(SystemClock),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The same cache reading `clock` (a [`ManualClock`](crate::clock::ManualClock) in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The same cache keeping at most `capacity` entries (at least 1). When full, expired
    /// entries go first, then the one stored longest ago.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Stores `value` as the last good result for `key`.
    pub fn put(&self, key: K, value: V) {
        let now = self.clock.now();
        let mut entries = self.entries.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            let ttl = self.ttl;
            let mut oldest: Option<Duration> = None;
            entries.retain(|_, (_, stored)| {
                let live = now.saturating_sub(*stored) < ttl;
                if live {
                    oldest = Some(oldest.map_or(*stored, |o| o.min(*stored)));
                }
                live
            });
            if entries.len() >= self.capacity {
                // Still full: the oldest entry goes. `retain` finds it by its time, so the key
                // needs no `Clone` to be named.
                let mut evicted = false;
                entries.retain(|_, (_, stored)| {
                    let victim = !evicted && Some(*stored) == oldest;
                    evicted |= victim;
                    !victim
                });
            }
        }
        entries.insert(key, (value, now));
    }

    /// The last good result for `key`, if it is younger than the time to live. An expired entry
    /// is removed.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let now = self.clock.now();
        let mut entries = self.entries.lock();
        let (value, stored) = entries.get(key)?;
        if now.saturating_sub(*stored) < self.ttl {
            return Some(value.clone());
        }
        entries.remove(key);
        None
    }

    /// The number of entries held, expired ones included until they are touched.
    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: Eq + Hash, V: Clone> Default for FallbackCache<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V> fmt::Debug for FallbackCache<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FallbackCache")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .field("entries", &self.entries.lock().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn entries_are_served_until_their_ttl_and_then_dropped() {
        let clock = ManualClock::new();
        let cache = FallbackCache::new().clock(clock.clone());
        cache.put("user:1", 10);
        clock.advance(Duration::from_secs(299));
        assert_eq!(cache.get("user:1"), Some(10));
        clock.advance(Duration::from_secs(1));
        assert_eq!(cache.get("user:1"), None);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_full_cache_drops_expired_entries_first_and_never_grows_past_capacity() {
        let clock = ManualClock::new();
        let cache = FallbackCache::with_ttl(Duration::from_secs(10))
            .clock(clock.clone())
            .capacity(2);
        cache.put(1, 'a');
        clock.advance(Duration::from_secs(11));
        cache.put(2, 'b');
        cache.put(3, 'c'); // 1 has expired and makes room
        assert_eq!(
            (cache.get(&2), cache.get(&3), cache.len()),
            (Some('b'), Some('c'), 2)
        );
        clock.advance(Duration::from_secs(1));
        cache.put(2, 'B'); // a new value for a key held: nothing goes, and 2 is now the newest
        clock.advance(Duration::from_secs(1));
        cache.put(4, 'd'); // nothing expired: the oldest entry, 3, goes
        assert_eq!(
            (cache.get(&2), cache.get(&3), cache.get(&4), cache.len()),
            (Some('B'), None, Some('d'), 2)
        );
    }
}
