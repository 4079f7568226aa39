//! Totals since start (successes, failures, rejections, fallbacks) counted without a shared
//! write on the call path, and without memory until a breaker is used.
//!
//! A shared `fetch_add` per call costs a locked instruction and, with two threads, bounces one
//! cache line between cores (measured: 0.21x of one thread's throughput). Instead each thread
//! leases a *stripe* index for its lifetime; a breaker keeps one cache-line-sized stripe per
//! index, and only the leasing thread writes it. Owning the stripe, the thread increments with a
//! plain load and store (no locked instruction); readers sum the stripes. Threads beyond the
//! number of stripes share one overflow stripe and `fetch_add` it: still exact, only slower.
//! A lease returns to the pool when its thread ends; the next owner continues from the counts
//! left there, through the pool's mutex, which orders the two owners' writes.
//!
//! Stripes are allocated on demand, so that a registry can hold a million per-key breakers: a
//! breaker never called holds one null pointer (8 bytes, whatever the core count). Its first
//! count allocates the table of stripe pointers (one per lease index, plus the overflow
//! stripe), and a thread's first count on it allocates that thread's stripe. A breaker called
//! from one thread thus costs the table and two stripes; a hot breaker reaches the same stripes
//! as before and counts with the same plain load and store, one pointer further away.

use crate::sync::{AtomicPtr, AtomicU64, Ordering};
use std::ptr;

/// What a total counts.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Total {
    Successes = 0,
    Failures = 1,
    Rejected = 2,
    Fallbacks = 3,
    /// Outcomes reported as ignored: counted here and nowhere else.
    Ignored = 4,
    /// Calls a metrics-only breaker let through that it would have rejected.
    WouldReject = 5,
    /// Calls, successes or failures, that took at least `slow_call_duration` (counted in
    /// `Successes` or `Failures` too).
    Slow = 6,
    /// Async calls cancelled by `timeout` (counted in `Failures` too).
    Timeouts = 7,
    /// Async calls dropped by their caller before they finished; those that had waited at
    /// least `abandoned_call_duration` are counted in `Failures` too.
    Abandoned = 8,
    /// Errors reported as excluded (the service answered): counted in `Successes` too.
    Excluded = 9,
}

/// How many totals a stripe holds: 16 counters of 8 bytes fill its 128 bytes exactly, so
/// there is room for 6 more (the highest used is `Excluded`, 9) before a stripe grows.
const TOTALS: usize = 16;

// A stripe is alone on its 128 bytes: more totals would make it span two such blocks.
// (Loom's atomics are larger, and its stripes are not measured.)
#[cfg(not(loom))]
const _: () = assert!(std::mem::size_of::<Stripe>() == 128);

/// One thread's counts for one breaker, alone on its cache lines (128 bytes: x86 prefetches
/// lines in pairs, so 64 would still share).
#[repr(align(128))]
#[derive(Default)]
struct Stripe([AtomicU64; TOTALS]);

/// A pointer to one stripe, null until its lease index first counts.
type Slot = AtomicPtr<Stripe>;

/// A breaker's totals.
pub(crate) struct Totals {
    /// Null until the first count; then the first of `lease::stripes() + 1` slots: one per lease
    /// index, and last the overflow stripe, allocated with the table. Installed once (by
    /// compare-and-swap) and freed only when the breaker is dropped, so a reader that saw it
    /// non-null may use it for as long as it borrows the breaker.
    table: AtomicPtr<Slot>,
}

impl Totals {
    pub(crate) fn new() -> Self {
        Totals {
            table: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Adds one to `total`.
    #[inline]
    pub(crate) fn add(&self, total: Total) {
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
                    let cell = unsafe { &(*stripe).0[total as usize] };
                    // Only this thread writes this stripe (it holds the lease), so a load and
                    // a store cannot lose an increment; readers may see it a moment late.
                    cell.store(cell.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                    return;
                }
            }
        }
        self.add_slow(index, total);
    }

    /// The first count of this breaker, or of this thread on it, or a count on the overflow
    /// stripe: allocates what is missing, then counts.
    #[cold]
    fn add_slow(&self, index: usize, total: Total) {
        let table = self.table_or_install();
        let stripes = lease::stripes();
        if index < stripes {
            // SAFETY: as in `add`.
            let slot = unsafe { &*table.add(index) };
            let stripe = install(slot);
            // SAFETY: as in `add`.
            let cell = unsafe { &(*stripe).0[total as usize] };
            cell.store(cell.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        } else {
            // SAFETY: the last slot is the overflow stripe, allocated with the table.
            let overflow = unsafe { &*(*table.add(stripes)).load(Ordering::Acquire) };
            overflow.0[total as usize].fetch_add(1, Ordering::Relaxed);
        }
    }

    fn table_or_install(&self) -> *mut Slot {
        let table = self.table.load(Ordering::Acquire);
        if !table.is_null() {
            return table;
        }
        let fresh = new_table();
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

    /// The sum over every stripe.
    pub(crate) fn get(&self, total: Total) -> u64 {
        let table = self.table.load(Ordering::Acquire);
        if table.is_null() {
            return 0;
        }
        (0..=lease::stripes())
            .map(|i| {
                // SAFETY: as in `add`; `i` is at most `stripes()`, the overflow slot.
                let stripe = unsafe { &*table.add(i) }.load(Ordering::Acquire);
                if stripe.is_null() {
                    0
                } else {
                    // SAFETY: as in `add`.
                    unsafe { &(*stripe).0[total as usize] }.load(Ordering::Relaxed)
                }
            })
            .sum()
    }

    /// The calls recorded so far, successes and failures, in one pass over the stripes: the
    /// position the sliding window counts by (see `breaker/window`).
    pub(crate) fn calls(&self) -> u64 {
        let table = self.table.load(Ordering::Acquire);
        if table.is_null() {
            return 0;
        }
        (0..=lease::stripes())
            .map(|i| {
                // SAFETY: as in `get`.
                let stripe = unsafe { &*table.add(i) }.load(Ordering::Acquire);
                if stripe.is_null() {
                    0
                } else {
                    // SAFETY: as in `add`.
                    let cells = unsafe { &(*stripe).0 };
                    cells[Total::Successes as usize].load(Ordering::Relaxed)
                        + cells[Total::Failures as usize].load(Ordering::Relaxed)
                }
            })
            .sum()
    }

    /// How many stripes are allocated (the overflow stripe included), for the tests of the
    /// memory an idle breaker takes.
    #[cfg(test)]
    fn stripes_allocated(&self) -> usize {
        let table = self.table.load(Ordering::Acquire);
        if table.is_null() {
            return 0;
        }
        (0..=lease::stripes())
            // SAFETY: as in `get`.
            .filter(|&i| !unsafe { &*table.add(i) }.load(Ordering::Acquire).is_null())
            .count()
    }
}

/// The stripe of `slot`, allocated and installed if there is none yet.
fn install(slot: &Slot) -> *mut Stripe {
    let stripe = slot.load(Ordering::Acquire);
    if !stripe.is_null() {
        return stripe;
    }
    let fresh = Box::into_raw(Box::default());
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
fn new_table() -> *mut Slot {
    let stripes = lease::stripes();
    let table: Box<[Slot]> = (0..=stripes)
        .map(|i| {
            let stripe = if i == stripes {
                Box::into_raw(Box::<Stripe>::default())
            } else {
                ptr::null_mut()
            };
            AtomicPtr::new(stripe)
        })
        .collect();
    Box::into_raw(table).cast::<Slot>()
}

/// Frees a table from [`new_table`] and every stripe installed in it.
///
/// # Safety
///
/// `table` came from `new_table`, and nothing uses it or its stripes any more.
unsafe fn free_table(table: *mut Slot) {
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

impl Drop for Totals {
    fn drop(&mut self) {
        let table = self.table.load(Ordering::Acquire);
        if !table.is_null() {
            // SAFETY: the table is this breaker's, and `&mut self` means nobody counts on it.
            unsafe { free_table(table) };
        }
    }
}

impl std::fmt::Debug for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Totals")
            .field("successes", &self.get(Total::Successes))
            .field("failures", &self.get(Total::Failures))
            .field("rejected", &self.get(Total::Rejected))
            .field("fallbacks", &self.get(Total::Fallbacks))
            .field("ignored", &self.get(Total::Ignored))
            .field("would_reject", &self.get(Total::WouldReject))
            .field("slow", &self.get(Total::Slow))
            .field("timeouts", &self.get(Total::Timeouts))
            .field("abandoned", &self.get(Total::Abandoned))
            .field("excluded", &self.get(Total::Excluded))
            .finish()
    }
}

/// The per-thread stripe leases.
#[cfg(not(loom))]
mod lease {
    use parking_lot::Mutex;
    use std::cell::Cell;
    use std::sync::OnceLock;

    /// The most stripes a breaker can have: every lease index is below it, so an index at or
    /// above it means "no lease" without reading [`stripes`].
    pub(super) const MAX_STRIPES: usize = 64;

    /// Stripes per breaker: enough for the threads a process of this machine's size runs busily
    /// (4 per core, at least 8), few enough that a busy breaker stays small (at most 64 * 128 B).
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

    /// No stripe: not leased yet, or every stripe taken. Out of every breaker's bounds, so the
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
        let totals = Arc::new(Totals::new());
        // More threads than stripes, so the overflow stripe is exercised too.
        let threads = lease::stripes() * 2 + 3;
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let totals = totals.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        totals.add(Total::Successes);
                    }
                    totals.add(Total::Rejected);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(totals.get(Total::Successes), threads as u64 * 1000);
        assert_eq!(totals.get(Total::Rejected), threads as u64);
        assert_eq!(totals.get(Total::Failures), 0);
    }

    #[test]
    fn an_unused_breaker_holds_no_stripe_and_one_thread_allocates_its_own() {
        let totals = Totals::new();
        assert_eq!(totals.stripes_allocated(), 0);
        assert_eq!(totals.get(Total::Successes), 0);
        totals.add(Total::Successes);
        totals.add(Total::Successes);
        // This thread's stripe and the overflow stripe that comes with the table.
        assert_eq!(totals.stripes_allocated(), 2);
        assert_eq!(totals.get(Total::Successes), 2);
    }

    #[test]
    fn a_returned_lease_keeps_its_counts() {
        let totals = Arc::new(Totals::new());
        for _ in 0..50 {
            let t = totals.clone();
            std::thread::spawn(move || t.add(Total::Fallbacks))
                .join()
                .unwrap();
        }
        assert_eq!(totals.get(Total::Fallbacks), 50);
    }
}
