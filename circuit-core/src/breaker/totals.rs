//! Totals since start (successes, failures, rejections, fallbacks) counted without a shared
//! write on the call path.
//!
//! A shared `fetch_add` per call costs a locked instruction and, with two threads, bounces one
//! cache line between cores (measured: 0.21x of one thread's throughput). Instead each thread
//! leases a *stripe* index for its lifetime; every breaker keeps one cache-line-sized stripe per
//! index, and only the leasing thread writes it. Owning the stripe, the thread increments with a
//! plain load and store (no locked instruction); readers sum the stripes. Threads beyond the
//! number of stripes share one overflow stripe and `fetch_add` it: still exact, only slower.
//! A lease returns to the pool when its thread ends; the next owner continues from the counts
//! left there, through the pool's mutex, which orders the two owners' writes.

use crate::sync::{AtomicU64, Ordering};

/// What a total counts.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Total {
    Successes = 0,
    Failures = 1,
    Rejected = 2,
    Fallbacks = 3,
}

/// One thread's counts for one breaker, alone on its cache lines (128 bytes: x86 prefetches
/// lines in pairs, so 64 would still share).
#[repr(align(128))]
#[derive(Default)]
struct Stripe([AtomicU64; 4]);

/// A breaker's totals.
pub(crate) struct Totals {
    owned: Box<[Stripe]>,
    overflow: Stripe,
}

impl Totals {
    pub(crate) fn new() -> Self {
        Totals {
            owned: (0..lease::stripes()).map(|_| Stripe::default()).collect(),
            overflow: Stripe::default(),
        }
    }

    /// Adds one to `total`.
    #[inline]
    pub(crate) fn add(&self, total: Total) {
        match self.owned.get(lease::current()) {
            Some(stripe) => {
                let cell = &stripe.0[total as usize];
                // Only this thread writes this stripe (it holds the lease), so a load and a store
                // cannot lose an increment; readers may see it a moment late.
                cell.store(cell.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
            }
            None => {
                self.overflow.0[total as usize].fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The sum over every stripe.
    pub(crate) fn get(&self, total: Total) -> u64 {
        let i = total as usize;
        self.owned
            .iter()
            .chain(std::iter::once(&self.overflow))
            .map(|s| s.0[i].load(Ordering::Relaxed))
            .sum()
    }
}

impl std::fmt::Debug for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Totals")
            .field("successes", &self.get(Total::Successes))
            .field("failures", &self.get(Total::Failures))
            .field("rejected", &self.get(Total::Rejected))
            .field("fallbacks", &self.get(Total::Fallbacks))
            .finish()
    }
}

/// The per-thread stripe leases.
#[cfg(not(loom))]
mod lease {
    use parking_lot::Mutex;
    use std::cell::Cell;
    use std::sync::OnceLock;

    /// Stripes per breaker: enough for the threads a process of this machine's size runs busily
    /// (4 per core, at least 8), few enough that a breaker stays small (at most 64 * 128 B).
    pub(super) fn stripes() -> usize {
        static STRIPES: OnceLock<usize> = OnceLock::new();
        *STRIPES.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            (cores * 4).clamp(8, 64)
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
