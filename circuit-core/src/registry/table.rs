//! The registry's map from names to breakers: lock-free to read, so a lookup by name costs a
//! hash and a probe, with no lock and no reference count written, and two threads looking up
//! one name share no written cache line.
//!
//! The registry never removes a named breaker (names are spelled out in code, so they are
//! few), which makes the map simple to read without locks: an append-only open-addressing
//! table of pointers to entries. Writers take the registry's lock, fill an empty slot with a
//! release store, and when the table is half full copy the pointers into one twice the size and
//! publish it. Readers load the table and the slots with acquire loads: a slot they see filled
//! holds a complete entry, and an entry, once published, is never moved, changed or freed
//! before the registry is dropped. So a lookup may hand back a plain `&CircuitBreaker`
//! borrowed from the registry.
//!
//! Tables a resize replaced stay allocated until the registry is dropped, since a reader may
//! still be probing one; each is half the size of the next, so together they take less memory
//! than the table in use.

use crate::sync::{AtomicPtr, Ordering};
use crate::CircuitBreaker;
use std::hash::{BuildHasher, Hasher};
use std::ptr;
use std::sync::Arc;

/// One named breaker.
pub(crate) struct Entry {
    hash: u64,
    /// The breaker's interned name, compared without reaching into the breaker.
    name: &'static str,
    pub(crate) breaker: Arc<CircuitBreaker>,
}

/// A power-of-two array of slots, each null or an entry.
struct Table {
    mask: usize,
    slots: Box<[AtomicPtr<Entry>]>,
}

impl Table {
    fn with_capacity(capacity: usize) -> Table {
        Table {
            mask: capacity - 1,
            slots: (0..capacity)
                .map(|_| AtomicPtr::new(ptr::null_mut()))
                .collect(),
        }
    }

    /// The entry named `name`, if any.
    #[inline]
    fn find(&self, hash: u64, name: &str) -> Option<&Entry> {
        let mut i = hash as usize & self.mask;
        loop {
            let entry = self.slots[i].load(Ordering::Acquire);
            if entry.is_null() {
                return None;
            }
            // SAFETY: a published entry lives, unchanged, until the map is dropped, which
            // cannot happen while `self` is borrowed.
            let entry = unsafe { &*entry };
            if entry.hash == hash && same_name(entry.name, name) {
                return Some(entry);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Puts `entry` in the first empty slot of its probe sequence. The table has room (the
    /// writer keeps it at most half full) and does not hold the name yet.
    fn place(&self, entry: *mut Entry, hash: u64) {
        let mut i = hash as usize & self.mask;
        while !self.slots[i].load(Ordering::Relaxed).is_null() {
            i = (i + 1) & self.mask;
        }
        // Release: a reader that sees the pointer sees the entry it points to, whole.
        self.slots[i].store(entry, Ordering::Release);
    }

    fn entries(&self) -> impl Iterator<Item = *mut Entry> + '_ {
        self.slots
            .iter()
            .map(|s| s.load(Ordering::Acquire))
            .filter(|e| !e.is_null())
    }
}

/// Breakers by name. Reads take no lock; [`insert`](Self::insert) must be called under the
/// registry's lock (it takes `&mut Writer` to say so).
pub(crate) struct NameTable {
    table: AtomicPtr<Table>,
    hasher: foldhash::fast::RandomState,
}

/// What only the writer touches: the count, and the tables replaced by resizes.
#[derive(Default)]
pub(crate) struct Writer {
    len: usize,
    /// Boxed: a reader may be probing one through the pointer it loaded, so a table must
    /// not move when this vector grows.
    #[allow(clippy::vec_box)]
    retired: Vec<Box<Table>>,
}

const INITIAL_CAPACITY: usize = 16;

impl NameTable {
    pub(crate) fn new() -> NameTable {
        NameTable {
            table: AtomicPtr::new(Box::into_raw(Box::new(Table::with_capacity(
                INITIAL_CAPACITY,
            )))),
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    #[inline]
    fn table(&self) -> &Table {
        // SAFETY: the pointer is never null, and every table it ever held lives until `self`
        // is dropped (replaced tables are retired, not freed).
        unsafe { &*self.table.load(Ordering::Acquire) }
    }

    /// The breaker named `name`, borrowed for as long as the map.
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<&Arc<CircuitBreaker>> {
        self.table().find(self.hash(name), name).map(|e| &e.breaker)
    }

    #[inline]
    fn hash(&self, name: &str) -> u64 {
        hash_name(&self.hasher, name)
    }

    /// Adds `breaker` under its name, which must be interned and not in the map yet.
    pub(crate) fn insert(
        &self,
        writer: &mut Writer,
        name: &'static str,
        breaker: Arc<CircuitBreaker>,
    ) {
        let hash = self.hash(name);
        let entry = Box::into_raw(Box::new(Entry {
            hash,
            name,
            breaker,
        }));
        let mut table = self.table();
        if (writer.len + 1) * 2 > table.slots.len() {
            let bigger = Table::with_capacity(table.slots.len() * 2);
            for old in table.entries() {
                // SAFETY: as in `find`; the writer lock keeps the entry's hash from racing.
                bigger.place(old, unsafe { (*old).hash });
            }
            let bigger = Box::into_raw(Box::new(bigger));
            let old = self.table.swap(bigger, Ordering::AcqRel);
            // SAFETY: `old` came from `Box::into_raw`; it is kept, not freed (readers may
            // still be probing it).
            writer.retired.push(unsafe { Box::from_raw(old) });
            table = self.table();
        }
        table.place(entry, hash);
        writer.len += 1;
    }

    /// Every entry, in no particular order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry> + '_ {
        // SAFETY: as in `find`.
        self.table().entries().map(|e| unsafe { &*e })
    }
}

/// The hash of a name: its bytes alone. `str`'s `Hash` adds a terminator byte (so that a
/// tuple of strings hashes apart from their concatenation), which foldhash folds in with a
/// second multiply after the name's own; a table of whole names gains nothing from it. A name
/// of up to 16 bytes is then one multiply.
#[inline]
pub(crate) fn hash_name(hasher: &foldhash::fast::RandomState, name: &str) -> u64 {
    let mut hasher = hasher.build_hasher();
    hasher.write(name.as_bytes());
    hasher.finish()
}

/// `a == b`, without a call to the C library's `bcmp` for short names: two loads a side, as
/// the hash reads them (overlapping when the name is shorter than 16 bytes). Service names are
/// short; longer ones go to the library.
#[inline]
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let len = a.len();
    if len != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_ne_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let half = |s: &[u8], at: usize| u32::from_ne_bytes(s[at..at + 4].try_into().expect("4 bytes"));
    match len {
        0..=3 => a == b,
        4..=7 => half(a, 0) == half(b, 0) && half(a, len - 4) == half(b, len - 4),
        8..=16 => word(a, 0) == word(b, 0) && word(a, len - 8) == word(b, len - 8),
        _ => a == b,
    }
}

impl Drop for NameTable {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no reader is left. The table in use holds every entry once;
        // the retired tables (freed by `Writer`'s drop) hold copies of the pointers only.
        unsafe {
            let table = Box::from_raw(self.table.load(Ordering::Acquire));
            for entry in table.entries() {
                drop(Box::from_raw(entry));
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::same_name;

    #[test]
    fn same_name_agrees_with_equality_at_every_length_and_position() {
        let base: String = ('a'..='z').collect();
        for len in 0..=base.len() {
            let a = &base[..len];
            assert!(same_name(a, &base[..len]), "{a:?} equals itself");
            if len < base.len() {
                assert!(
                    !same_name(a, &base[..len + 1]),
                    "{a:?}: a longer name differs"
                );
            }
            for at in 0..len {
                let mut other = a.as_bytes().to_vec();
                other[at] = b'_';
                let other = String::from_utf8(other).expect("ascii");
                assert!(
                    !same_name(a, &other),
                    "{a:?} vs {other:?}: byte {at} differs"
                );
            }
        }
    }
}
