//! Counters kept per thread, so that counting writes no shared memory: what the totals
//! ([`totals`](crate::breaker::totals)) and the call-duration histogram
//! ([`durations`](crate::breaker::durations)) count on.
//!
//! A shared `fetch_add` per call costs a locked instruction and, with two threads, bounces one
//! cache line between cores (measured: 0.21x of one thread's throughput). Instead each thread
//! leases a *stripe* index for its lifetime; a set of counters keeps one stripe of `N` counters
//! per index, and only the leasing thread writes it. Owning the stripe, the thread adds with a
//! plain load and store (no locked instruction); readers sum the stripes. Threads beyond the
//! number of stripes share one overflow stripe and `fetch_add` it: still exact, only slower.
//! A lease returns to the pool when its thread ends; the next owner continues from the counts
//! left there, through the pool's mutex, which orders the two owners' writes.
//!
//! Stripes are allocated on demand, so that a registry can hold a million per-key breakers: a
//! set never counted on holds one null pointer (8 bytes, whatever the core count). Its first
//! count allocates the table of stripe pointers (one per lease index, plus the overflow
//! stripe), and a thread's first count on it allocates that thread's stripe. A set counted
//! from one thread thus costs the table and two stripes; a hot one counts with a plain load
//! and store, one pointer away.

use crate::sync::{AtomicPtr, AtomicU64, Ordering};
use std::ptr;

/// One thread's `N` counters, alone on their cache lines (a multiple of 128 bytes: x86
/// prefetches lines in pairs, so 64 would still share).
#[repr(align(128))]
pub(crate) struct Stripe<const N: usize>([AtomicU64; N]);

impl<const N: usize> Stripe<N> {
    fn new() -> Self {
        Stripe(std::array::from_fn(|_| AtomicU64::new(0)))
    }

    /// Adds `by` to counter `i`, wrapping, on a stripe this thread owns (it holds the lease):
    /// no other thread writes it, so a load and a store cannot lose an addition; readers may
    /// see it a moment late.
    #[inline(always)]
    fn bump_owned(&self, (i, by): (usize, u64)) {
        let cell = &self.0[i];
        cell.store(
            cell.load(Ordering::Relaxed).wrapping_add(by),
            Ordering::Relaxed,
        );
    }

    /// Counter `i` as it stands (Relaxed: a count read a moment late is still a count).
    pub(crate) fn get(&self, i: usize) -> u64 {
        self.0[i].load(Ordering::Relaxed)
    }
}

/// The second counter of a call to `add_slow` that counts one.
const NO_COUNTER: usize = usize::MAX;

/// A pointer to one stripe, null until its lease index first counts.
type Slot<const N: usize> = AtomicPtr<Stripe<N>>;

/// `N` counters, one stripe of them per thread.
pub(crate) struct Striped<const N: usize> {
    /// Null until the first count; then the first of `lease::stripes() + 1` slots: one per lease
    /// index, and last the overflow stripe, allocated with the table. Installed once (by
    /// compare-and-swap) and freed only when the set is dropped, so a reader that saw it
    /// non-null may use it for as long as it borrows the set.
    table: AtomicPtr<Slot<N>>,
}

impl<const N: usize> Striped<N> {
    pub(crate) fn new() -> Self {
        Striped {
            table: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Adds `by` to counter `i`, wrapping, on this thread's stripe. Kept small enough to
    /// inline: one thread-local load, two pointer loads, a plain load and store.
    #[inline(always)]
    pub(crate) fn add(&self, i: usize, by: u64) {
        self.add_pair((i, by), None);
    }

    /// Adds to two counters at once (a bucket and a sum), finding the stripe once.
    #[inline(always)]
    pub(crate) fn add_two(&self, first: (usize, u64), second: (usize, u64)) {
        self.add_pair(first, Some(second));
    }

    #[inline(always)]
    fn add_pair(&self, first: (usize, u64), second: Option<(usize, u64)>) {
        let index = lease::current();
        // Out-of-range indexes are the "no lease" markers, sent to the slow path.
        if index < lease::MAX_STRIPES {
            let table = self.table.load(Ordering::Acquire);
            if !table.is_null() {
                // SAFETY: a non-null table has `stripes() + 1` slots and lives as long as
                // `self`; the lease pool hands out indexes below `stripes()` only.
                let stripe = unsafe { &*table.add(index) }.load(Ordering::Acquire);
                if !stripe.is_null() {
                    // SAFETY: an installed stripe lives as long as its table.
                    let stripe = unsafe { &*stripe };
                    stripe.bump_owned(first);
                    if let Some(second) = second {
                        stripe.bump_owned(second);
                    }
                    return;
                }
            }
        }
        // Scalars, not an array or a slice: one of those was written to the stack ahead of
        // the fast path's branches (two stores a count, seen in the generated code).
        self.add_slow(index, first, second.unwrap_or((NO_COUNTER, 0)));
    }

    /// The first count of this set, or of this thread on it, or a count on the overflow
    /// stripe: allocates what is missing, then counts. `second` is [`NO_COUNTER`] for one
    /// count.
    #[cold]
    #[inline(never)]
    fn add_slow(&self, index: usize, first: (usize, u64), second: (usize, u64)) {
        let table = self.table_or_install();
        let stripes = lease::stripes();
        let adds = [first, second]
            .into_iter()
            .filter(|&(i, _)| i != NO_COUNTER);
        if index < stripes {
            // SAFETY: as in `add_pair`.
            let slot = unsafe { &*table.add(index) };
            // SAFETY: as in `add_pair`.
            let stripe = unsafe { &*install(slot) };
            adds.for_each(|add| stripe.bump_owned(add));
        } else {
            // SAFETY: the last slot is the overflow stripe, allocated with the table.
            let overflow = unsafe { &*(*table.add(stripes)).load(Ordering::Acquire) };
            for (i, by) in adds {
                overflow.0[i].fetch_add(by, Ordering::Relaxed);
            }
        }
    }

    fn table_or_install(&self) -> *mut Slot<N> {
        let table = self.table.load(Ordering::Acquire);
        if !table.is_null() {
            return table;
        }
        let fresh = new_table::<N>();
        match self.table.compare_exchange(
            ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => fresh,
            Err(installed) => {
                // Another thread's first count won; ours was never shared.
                // SAFETY: `fresh` came from `new_table` and nobody else saw it.
                unsafe { free_table(fresh) };
                installed
            }
        }
    }

    /// Every stripe allocated so far, the overflow stripe included; none before the first
    /// count. Summing a counter over them gives its total.
    pub(crate) fn stripes(&self) -> impl Iterator<Item = &Stripe<N>> + '_ {
        let table = self.table.load(Ordering::Acquire);
        let slots = if table.is_null() {
            0
        } else {
            lease::stripes() + 1
        };
        (0..slots).filter_map(move |i| {
            // SAFETY: as in `add`; `i` is at most `stripes()`, the overflow slot.
            let stripe = unsafe { &*table.add(i) }.load(Ordering::Acquire);
            // SAFETY: as in `add`.
            (!stripe.is_null()).then(|| unsafe { &*stripe })
        })
    }

    /// The sum of counter `i` over every stripe.
    pub(crate) fn sum(&self, i: usize) -> u64 {
        self.stripes().map(|s| s.get(i)).sum()
    }
}

/// The stripe of `slot`, allocated and installed if there is none yet.
fn install<const N: usize>(slot: &Slot<N>) -> *mut Stripe<N> {
    let stripe = slot.load(Ordering::Acquire);
    if !stripe.is_null() {
        return stripe;
    }
    let fresh = Box::into_raw(Box::new(Stripe::new()));
    // Only the thread leasing this index installs its stripe, so the exchange cannot fail
    // today; it costs nothing on this cold path and keeps a second installer harmless.
    match slot.compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => fresh,
        Err(installed) => {
            // SAFETY: `fresh` came from `Box::into_raw` and nobody else saw it.
            drop(unsafe { Box::from_raw(fresh) });
            installed
        }
    }
}

/// A table of `stripes() + 1` slots: all null but the last, the overflow stripe.
fn new_table<const N: usize>() -> *mut Slot<N> {
    let stripes = lease::stripes();
    let table: Box<[Slot<N>]> = (0..=stripes)
        .map(|i| {
            let stripe = if i == stripes {
                Box::into_raw(Box::new(Stripe::new()))
            } else {
                ptr::null_mut()
            };
            AtomicPtr::new(stripe)
        })
        .collect();
    Box::into_raw(table).cast::<Slot<N>>()
}

/// Frees a table from [`new_table`] and every stripe installed in it.
///
/// # Safety
///
/// `table` came from `new_table`, and nothing uses it or its stripes any more.
unsafe fn free_table<const N: usize>(table: *mut Slot<N>) {
    // SAFETY: `new_table` made a boxed slice of `stripes() + 1` slots; `stripes()` never
    // changes within a process.
    let table =
        unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(table, lease::stripes() + 1)) };
    for slot in table.iter() {
        let stripe = slot.load(Ordering::Acquire);
        if !stripe.is_null() {
            // SAFETY: every non-null slot holds a stripe from `Box::into_raw`, owned by the table.
            drop(unsafe { Box::from_raw(stripe) });
        }
    }
}

impl<const N: usize> Drop for Striped<N> {
    fn drop(&mut self) {
        let table = self.table.load(Ordering::Acquire);
        if !table.is_null() {
            // SAFETY: the table is this set's, and `&mut self` means nobody counts on it.
            unsafe { free_table(table) };
        }
    }
}

/// The per-thread stripe leases, shared by every striped set: a thread holds one index.
#[cfg(not(loom))]
mod lease {
    use parking_lot::Mutex;
    use std::cell::Cell;
    use std::sync::OnceLock;

    /// The most stripes a set can have: every lease index is below it, so an index at or
    /// above it means "no lease" without reading [`stripes`].
    pub(super) const MAX_STRIPES: usize = 64;

    /// Stripes per set: enough for the threads a process of this machine's size runs busily
    /// (4 per core, at least 8), few enough that a busy breaker stays small (at most 64 * 128 B
    /// of totals).
    pub(super) fn stripes() -> usize {
        static STRIPES: OnceLock<usize> = OnceLock::new();
        *STRIPES.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            (cores * 4).clamp(8, MAX_STRIPES)
        })
    }

    struct Pool {
        free: Vec<usize>,
        next: usize,
    }

    static POOL: Mutex<Pool> = Mutex::new(Pool {
        free: Vec::new(),
        next: 0,
    });

    /// No stripe: not leased yet, or every stripe taken. Out of every set's bounds, so the
    /// one bounds check on the call path also sends such threads to the overflow stripe.
    const NONE: usize = usize::MAX;
    /// Every stripe was taken when this thread asked: it counts on the overflow stripe from now
    /// on, without asking again. Also out of bounds.
    const OVERFLOW: usize = usize::MAX - 1;

    thread_local! {
        /// This thread's stripe. `const`-initialised and without a destructor, so reading it
        /// is one load, with no lazy-initialisation check.
        static INDEX: Cell<usize> = const { Cell::new(NONE) };
        /// Returns the stripe to the pool when the thread ends; touched only when leasing.
        static RETURN_ON_EXIT: Lease = const { Lease(Cell::new(NONE)) };
    }

    struct Lease(Cell<usize>);

    impl Drop for Lease {
        fn drop(&mut self) {
            let index = self.0.get();
            if index != NONE {
                // Stop counting on the stripe before another thread may lease it.
                let _ = INDEX.try_with(|i| i.set(NONE));
                POOL.lock().free.push(index);
            }
        }
    }

    /// This thread's stripe index: out of bounds (so: the overflow stripe) when none is free.
    #[inline(always)]
    pub(super) fn current() -> usize {
        let index = INDEX.with(Cell::get);
        if index != NONE {
            return index;
        }
        lease()
    }

    #[cold]
    fn lease() -> usize {
        // A thread whose exit is under way no longer holds a lease: do not take one.
        let Ok(true) = RETURN_ON_EXIT.try_with(|l| l.0.get() == NONE) else {
            return NONE;
        };
        let mut pool = POOL.lock();
        let index = pool.free.pop().or_else(|| {
            (pool.next < stripes()).then(|| {
                pool.next += 1;
                pool.next - 1
            })
        });
        drop(pool);
        let Some(index) = index else {
            INDEX.with(|i| i.set(OVERFLOW));
            return OVERFLOW;
        };
        let _ = RETURN_ON_EXIT.try_with(|l| l.0.set(index));
        INDEX.with(|i| i.set(index));
        index
    }
}

/// Under loom every thread uses the overflow stripe: the model checks the counting logic, not
/// the thread-local lease pool, which loom cannot model.
#[cfg(loom)]
mod lease {
    pub(super) const MAX_STRIPES: usize = 64;
    pub(super) fn stripes() -> usize {
        0
    }
    pub(super) fn current() -> usize {
        usize::MAX
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn counts_from_many_threads_are_exact() {
        let set = Arc::new(Striped::<4>::new());
        // More threads than stripes, so the overflow stripe is exercised too.
        let threads = lease::stripes() * 2 + 3;
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let set = set.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        set.add_two((0, 1), (3, 7));
                    }
                    set.add(2, 1);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(set.sum(0), threads as u64 * 1000);
        assert_eq!(set.sum(3), threads as u64 * 7000);
        assert_eq!(set.sum(2), threads as u64);
        assert_eq!(set.sum(1), 0);
    }

    #[test]
    fn an_unused_set_holds_no_stripe_and_one_thread_allocates_its_own() {
        let set = Striped::<16>::new();
        assert_eq!(set.stripes().count(), 0);
        assert_eq!(set.sum(0), 0);
        set.add(0, 1);
        set.add(0, 1);
        // This thread's stripe and the overflow stripe that comes with the table.
        assert_eq!(set.stripes().count(), 2);
        assert_eq!(set.sum(0), 2);
    }

    #[test]
    fn a_returned_lease_keeps_its_counts() {
        let set = Arc::new(Striped::<16>::new());
        for _ in 0..50 {
            let s = set.clone();
            std::thread::spawn(move || s.add(3, 1)).join().unwrap();
        }
        assert_eq!(set.sum(3), 50);
    }

    #[test]
    fn additions_wrap_rather_than_overflow() {
        let set = Striped::<16>::new();
        set.add(0, u64::MAX);
        set.add(0, 2);
        assert_eq!(set.sum(0), 1);
    }

    #[test]
    fn a_stripe_fills_whole_blocks_of_128_bytes() {
        assert_eq!(std::mem::size_of::<Stripe<16>>(), 128);
        assert_eq!(std::mem::size_of::<Stripe<64>>(), 512);
    }
}
