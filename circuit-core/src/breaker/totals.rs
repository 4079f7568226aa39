//! Totals since start (successes, failures, rejections, fallbacks and the rest) counted
//! without a shared write on the call path, and without memory until a breaker is used: one
//! stripe of counters per thread ([`stripes`](crate::breaker::stripes)).
//!
//! A breaker never called holds one null pointer (8 bytes, whatever the core count). Its first
//! count allocates the table of stripe pointers, and a thread's first count on it allocates
//! that thread's stripe. A breaker called from one thread thus costs the table and two stripes;
//! a hot breaker counts with a plain load and store on its thread's own stripe, one pointer
//! away.

use crate::breaker::stripes::Striped;

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

// A stripe of totals is alone on its 128 bytes: more totals would make it span two such
// blocks. (Loom's atomics are larger, and its stripes are not measured.)
#[cfg(not(loom))]
const _: () = assert!(std::mem::size_of::<crate::breaker::stripes::Stripe<TOTALS>>() == 128);

/// A breaker's totals.
pub(crate) struct Totals {
    stripes: Striped<TOTALS>,
}

impl Totals {
    pub(crate) fn new() -> Self {
        Totals {
            stripes: Striped::new(),
        }
    }

    /// Adds one to `total`.
    #[inline]
    pub(crate) fn add(&self, total: Total) {
        self.stripes.add(total as usize, 1);
    }

    /// The sum over every stripe.
    pub(crate) fn get(&self, total: Total) -> u64 {
        self.stripes.sum(total as usize)
    }

    /// The calls recorded so far, successes and failures, in one pass over the stripes: the
    /// position the sliding window counts by (see `breaker/window`).
    pub(crate) fn calls(&self) -> u64 {
        self.stripes
            .stripes()
            .map(|s| s.get(Total::Successes as usize) + s.get(Total::Failures as usize))
            .sum()
    }

    /// How many stripes are allocated (the overflow stripe included), for the tests of the
    /// memory an idle breaker takes.
    #[cfg(test)]
    fn stripes_allocated(&self) -> usize {
        self.stripes.stripes().count()
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn an_unused_breaker_holds_no_stripe_and_one_thread_allocates_its_own() {
        let totals = Totals::new();
        assert_eq!(totals.stripes_allocated(), 0);
        assert_eq!(totals.get(Total::Successes), 0);
        totals.add(Total::Successes);
        totals.add(Total::Failures);
        // This thread's stripe and the overflow stripe that comes with the table.
        assert_eq!(totals.stripes_allocated(), 2);
        assert_eq!(totals.get(Total::Successes), 1);
        assert_eq!(totals.calls(), 2);
    }
}
