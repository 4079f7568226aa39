//! The fallback cache of the design: the last good result per key, served for a while when the
//! service behind a breaker is down.

use crate::clock::{Clock, SystemClock};
use parking_lot::Mutex;
use std::borrow::Borrow;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hash};
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
    entries: Mutex<Store<K, V>>,
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
            entries: Mutex::new(Store::new()),
        }
    }

    /// The same cache reading `clock` (a [`ManualClock`](crate::clock::ManualClock) in tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The same cache keeping at most `capacity` entries (at least 1). When full, expired
    /// entries go first, then the one stored longest ago. A put costs the same at any size
    /// (amortised over the expired entries it removes, each removed once).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Stores `value` as the last good result for `key`.
    pub fn put(&self, key: K, value: V) {
        let now = self.clock.now();
        let mut store = self.entries.lock();
        let hash = store.hash(&key);
        if let Some(at) = store.find(hash, &key) {
            store.refresh(at, value, now);
            return;
        }
        if store.len >= self.capacity {
            // Entries are in the order they were stored, so the expired ones are the oldest.
            let ttl = self.ttl;
            store.remove_oldest_while(|stored| now.saturating_sub(stored) >= ttl);
            if store.len >= self.capacity {
                let oldest = store.oldest;
                store.remove(oldest);
            }
        }
        store.insert(hash, key, value, now);
    }

    /// The last good result for `key`, if it is younger than the time to live. An expired entry
    /// is removed.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let now = self.clock.now();
        let mut store = self.entries.lock();
        let hash = store.hash(key);
        let at = store.find(hash, key)?;
        let entry = store.entry(at);
        if now.saturating_sub(entry.stored) < self.ttl {
            return Some(entry.value.clone());
        }
        store.remove(at);
        None
    }

    /// The number of entries held, expired ones included until they are touched.
    pub fn len(&self) -> usize {
        self.entries.lock().len
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

const NIL: usize = usize::MAX;

/// The entries, found by key and kept in the order they were stored, each operation O(1):
/// a slab of entries linked from oldest to newest, and an index from each key's hash to the
/// entries with that hash (a chain through the slab, almost always of one). The key is held
/// once, in the slab, so keys need not be `Clone` to be both found and evicted.
struct Store<K, V> {
    hasher: RandomState,
    index: HashMap<u64, usize>,
    slots: Vec<Slot<K, V>>,
    /// Slots emptied, for reuse.
    free: Vec<usize>,
    oldest: usize,
    newest: usize,
    len: usize,
    /// Entries looked at by finds and evictions, so a test can count work instead of time.
    #[cfg(test)]
    examined: usize,
}

enum Slot<K, V> {
    Used(Entry<K, V>),
    Free,
}

struct Entry<K, V> {
    key: K,
    value: V,
    stored: Duration,
    hash: u64,
    /// The next entry with the same hash.
    same_hash: usize,
    older: usize,
    newer: usize,
}

impl<K: Eq + Hash, V> Store<K, V> {
    fn new() -> Self {
        Store {
            hasher: RandomState::new(),
            index: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            oldest: NIL,
            newest: NIL,
            len: 0,
            #[cfg(test)]
            examined: 0,
        }
    }

    /// `Borrow` promises that a key and what it borrows as hash alike.
    fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.hasher.hash_one(key)
    }

    fn entry(&self, at: usize) -> &Entry<K, V> {
        match &self.slots[at] {
            Slot::Used(entry) => entry,
            Slot::Free => unreachable!("linked slots are in use"),
        }
    }

    fn entry_mut(&mut self, at: usize) -> &mut Entry<K, V> {
        match &mut self.slots[at] {
            Slot::Used(entry) => entry,
            Slot::Free => unreachable!("linked slots are in use"),
        }
    }

    fn find<Q>(&mut self, hash: u64, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let mut at = *self.index.get(&hash)?;
        while at != NIL {
            #[cfg(test)]
            {
                self.examined += 1;
            }
            let entry = self.entry(at);
            if entry.key.borrow() == key {
                return Some(at);
            }
            at = entry.same_hash;
        }
        None
    }

    fn insert(&mut self, hash: u64, key: K, value: V, stored: Duration) {
        let same_hash = self.index.get(&hash).copied().unwrap_or(NIL);
        let entry = Entry {
            key,
            value,
            stored,
            hash,
            same_hash,
            older: NIL,
            newer: NIL,
        };
        let at = match self.free.pop() {
            Some(at) => {
                self.slots[at] = Slot::Used(entry);
                at
            }
            None => {
                self.slots.push(Slot::Used(entry));
                self.slots.len() - 1
            }
        };
        self.index.insert(hash, at);
        self.link_newest(at);
        self.len += 1;
    }

    /// A new value for the entry at `at`, which becomes the newest.
    fn refresh(&mut self, at: usize, value: V, stored: Duration) {
        self.unlink_age(at);
        let entry = self.entry_mut(at);
        entry.value = value;
        entry.stored = stored;
        self.link_newest(at);
    }

    /// Removes the oldest entries while `expired` says so of their time stored.
    fn remove_oldest_while(&mut self, expired: impl Fn(Duration) -> bool) {
        while self.oldest != NIL {
            #[cfg(test)]
            {
                self.examined += 1;
            }
            if !expired(self.entry(self.oldest).stored) {
                return;
            }
            self.remove(self.oldest);
        }
    }

    fn remove(&mut self, at: usize) {
        self.unlink_age(at);
        let (hash, next) = {
            let entry = self.entry(at);
            (entry.hash, entry.same_hash)
        };
        // Unlink from its hash's chain.
        let head = self.index[&hash];
        if head == at {
            if next == NIL {
                self.index.remove(&hash);
            } else {
                self.index.insert(hash, next);
            }
        } else {
            let mut before = head;
            while self.entry(before).same_hash != at {
                before = self.entry(before).same_hash;
            }
            self.entry_mut(before).same_hash = next;
        }
        self.slots[at] = Slot::Free;
        self.free.push(at);
        self.len -= 1;
    }

    fn link_newest(&mut self, at: usize) {
        let newest = self.newest;
        {
            let entry = self.entry_mut(at);
            entry.older = newest;
            entry.newer = NIL;
        }
        if newest == NIL {
            self.oldest = at;
        } else {
            self.entry_mut(newest).newer = at;
        }
        self.newest = at;
    }

    fn unlink_age(&mut self, at: usize) {
        let (older, newer) = {
            let entry = self.entry(at);
            (entry.older, entry.newer)
        };
        if older == NIL {
            self.oldest = newer;
        } else {
            self.entry_mut(older).newer = newer;
        }
        if newer == NIL {
            self.newest = older;
        } else {
            self.entry_mut(newer).older = older;
        }
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
            .field("entries", &self.entries.lock().len)
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

    /// Regression: a put of a new key into a full cache scanned every entry under the lock
    /// (15 ms a put at a million entries). Counted in entries looked at, not in time.
    #[test]
    fn a_put_into_a_full_cache_looks_at_a_few_entries_whatever_its_size() {
        let clock = ManualClock::new();
        let capacity = 50_000;
        let cache = FallbackCache::with_ttl(Duration::from_secs(60))
            .clock(clock.clone())
            .capacity(capacity);
        for key in 0..capacity {
            cache.put(key, key);
        }
        let before = cache.entries.lock().examined;
        let puts = 10_000;
        for key in capacity..capacity + puts {
            cache.put(key, key);
        }
        let per_put = (cache.entries.lock().examined - before) as f64 / puts as f64;
        assert!(per_put <= 3.0, "{per_put} entries looked at per put");
        assert_eq!(cache.len(), capacity, "the bound holds");
        assert_eq!(cache.get(&0), None, "the oldest went first");
        assert_eq!(cache.get(&(capacity + puts - 1)), Some(capacity + puts - 1));

        // Everything expired: one put removes every entry, each once.
        clock.advance(Duration::from_secs(60));
        let before = cache.entries.lock().examined;
        cache.put(usize::MAX, 0);
        let examined = cache.entries.lock().examined - before;
        assert!(examined <= capacity + 2, "{examined}");
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn keys_that_hash_alike_are_told_apart_and_removed_cleanly() {
        let cache = FallbackCache::with_ttl(Duration::from_secs(60)).capacity(3);
        let mut store = cache.entries.lock();
        // Three keys forced onto one hash: the chain holds them all.
        for key in [1, 2, 3] {
            store.insert(7, key, key * 10, Duration::ZERO);
        }
        assert_eq!(store.find(7, &2), Some(1));
        store.remove(1); // the middle of the chain
        assert_eq!(store.find(7, &2), None);
        assert_eq!((store.find(7, &1), store.find(7, &3)), (Some(0), Some(2)));
        store.remove(2); // the head
        store.remove(0);
        assert!(store.index.is_empty() && store.len == 0);
        assert_eq!((store.oldest, store.newest), (NIL, NIL));
    }

    #[test]
    fn a_cache_of_keys_that_are_not_clone_works() {
        #[derive(PartialEq, Eq, Hash)]
        struct Key(String);
        let cache = FallbackCache::new().capacity(1);
        cache.put(Key("a".into()), 1);
        cache.put(Key("b".into()), 2);
        assert_eq!(cache.get(&Key("a".into())), None);
        assert_eq!(cache.get(&Key("b".into())), Some(2));
    }
}
