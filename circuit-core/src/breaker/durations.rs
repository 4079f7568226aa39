//! The call-duration histogram of a breaker with `record_call_durations`: fixed buckets
//! ([`DURATION_BUCKETS`]) per outcome, counted on per-thread stripes like the totals, so that
//! recording a call writes no shared memory.
//!
//! It lives in the window's shared part ([`window`](crate::breaker::window)), which a breaker
//! without rules, timeouts or recording never allocates: an idle breaker keeps its size. The
//! watch word's `DURATIONS` flag says whether the breaker records; admission reads it with the
//! flags it reads anyway, and then takes the call's start on the precise clock
//! ([`Started`]). The outcome's path, out of line, reads the precise clock again and records
//! the difference here.
//!
//! Each thread's stripe holds the four outcomes' counters, each on its own 128 bytes: 14
//! buckets and the sum of nanoseconds (wrapping after 584 years of call time on one thread's
//! stripe), then a spare. A stripe is 512 bytes, allocated by the thread's first recorded call
//! on the breaker, beside the table of stripes and the overflow stripe that the breaker's first
//! recorded call allocates.

use crate::breaker::stripes::Striped;
use crate::breaker::window::Started;
use crate::report::{CallDurations, DurationHistogram, DURATION_BUCKETS, DURATION_BUCKET_COUNT};
use crate::CircuitBreaker;
use std::time::Duration;

/// The outcome a call is timed under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    Success = 0,
    Failure = 1,
    Excluded = 2,
    Ignored = 3,
}

const CLASSES: usize = 4;
/// Counters per outcome: the buckets, the sum, and one spare to fill 128 bytes.
const PER_CLASS: usize = 16;
/// Where the sum of nanoseconds sits among an outcome's counters.
const SUM: usize = DURATION_BUCKET_COUNT;
const _: () = assert!(SUM < PER_CLASS);

/// The bounds in nanoseconds.
const BOUNDS_NS: [u64; DURATION_BUCKETS.len()] = {
    let mut ns = [0; DURATION_BUCKETS.len()];
    let mut i = 0;
    while i < ns.len() {
        ns[i] = DURATION_BUCKETS[i].as_nanos() as u64;
        // At most one bound in each power of two, which `BINADES` relies on.
        assert!(i == 0 || ns[i] >= 2 * ns[i - 1]);
        i += 1;
    }
    ns
};

/// For each power of two `2^k` (a *binade*: the durations from `2^k` to `2^(k+1) - 1`
/// nanoseconds), the bucket of `2^k` and the one bound inside the binade, if any (else
/// `u64::MAX`). The bounds at least double from one to the next, so no binade holds two, and
/// a duration's bucket is its binade's first bucket, plus one past that bound: a leading-zero
/// count, one load and one compare, where a binary search over the bounds was a chain of
/// four dependent compares (a fifth of a recorded call's cost outside the clock, measured).
const BINADES: [(u8, u64); 64] = {
    let mut table = [(0u8, u64::MAX); 64];
    let mut k = 0;
    while k < 64 {
        let low = 1u64 << k;
        let mut first = 0;
        while first < BOUNDS_NS.len() && BOUNDS_NS[first] < low {
            first += 1;
        }
        let inside = if first < BOUNDS_NS.len() && (BOUNDS_NS[first] - low) < low {
            BOUNDS_NS[first]
        } else {
            u64::MAX
        };
        table[k] = (first as u8, inside);
        k += 1;
    }
    table
};

/// A breaker's call-duration histogram.
pub(crate) struct Durations {
    stripes: Striped<{ CLASSES * PER_CLASS }>,
}

impl Durations {
    pub(crate) fn new() -> Self {
        Durations {
            stripes: Striped::new(),
        }
    }

    /// Counts a call of `class` that took `nanos`: its bucket and its time.
    #[inline]
    pub(crate) fn record(&self, class: Class, nanos: u64) {
        let base = class as usize * PER_CLASS;
        self.stripes
            .add_two((base + bucket_of(nanos), 1), (base + SUM, nanos));
    }

    /// The counts as they stand, summed over every thread's stripe.
    pub(crate) fn read(&self) -> DurationHistogram {
        let class = |class: Class| {
            let base = class as usize * PER_CLASS;
            let mut counts = [0u64; DURATION_BUCKET_COUNT];
            let mut sum_ns = 0u128;
            for stripe in self.stripes.stripes() {
                for (b, count) in counts.iter_mut().enumerate() {
                    *count += stripe.get(base + b);
                }
                sum_ns += u128::from(stripe.get(base + SUM));
            }
            CallDurations::new(counts, duration_of(sum_ns))
        };
        DurationHistogram {
            success: class(Class::Success),
            failure: class(Class::Failure),
            excluded: class(Class::Excluded),
            ignored: class(Class::Ignored),
        }
    }
}

/// The bucket of a call that took `nanos`: the first whose bound it does not exceed (a call
/// of exactly 1 ms is in the first, `le="0.001"`), or the last, past every bound.
#[inline]
fn bucket_of(nanos: u64) -> usize {
    // 0 ns is in the first bucket, as the binade of 1 ns is.
    let (first, inside) = BINADES[nanos.max(1).ilog2() as usize];
    usize::from(first) + usize::from(inside < nanos)
}

/// `ns` nanoseconds, as far as a `Duration` holds them.
fn duration_of(ns: u128) -> Duration {
    let secs = u64::try_from(ns / 1_000_000_000).unwrap_or(u64::MAX);
    Duration::new(secs, (ns % 1_000_000_000) as u32)
}

impl CircuitBreaker {
    /// How long the calls took, by outcome, if the breaker records call durations
    /// ([`record_call_durations`](crate::Config::record_call_durations)); `None` if it does
    /// not. See [`DurationHistogram`] for what is counted where.
    ///
    /// Turned off by `reconfigure`, the histogram stops counting and this returns `None`; its
    /// counts are kept with the breaker, and come back, counting on, if it is turned on again
    /// (a Prometheus counter never goes back). [`reset`](Self::reset) does not clear them:
    /// like the totals, they count since the breaker was created.
    pub fn durations(&self) -> Option<DurationHistogram> {
        let shared = self.window.shared()?;
        shared.records_durations().then(|| shared.durations.read())
    }

    /// Records a call that began at `started` and ends now under `class`, if it was timed on
    /// the precise clock for the histogram: for the outcomes that need no other reading of
    /// the clock (the clock is not read for a call not so timed).
    pub(crate) fn record_duration_now(&self, class: Class, started: Started) {
        if started.precise_nanos().is_some() {
            self.record_duration(class, started, self.ended(started));
        }
    }

    /// Records a call that began at `started` and ended at `now_ns` (read by
    /// [`ended`](Self::ended)) under `class`, if it was timed on the precise clock for the
    /// histogram and the breaker still records.
    #[inline]
    pub(crate) fn record_duration(&self, class: Class, started: Started, now_ns: Option<u64>) {
        let (Some(begun), Some(now)) = (started.precise_nanos(), now_ns) else {
            return;
        };
        if let Some(shared) = self.window.shared() {
            // Turned off since the call was admitted: it stops at once.
            if shared.records_durations() {
                shared.durations.record(class, now.saturating_sub(begun));
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_call_on_a_bound_is_in_that_bound_s_bucket() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(1_000_000), 0);
        assert_eq!(bucket_of(1_000_001), 1);
        assert_eq!(bucket_of(2_500_000), 1);
        assert_eq!(bucket_of(10_000_000_000), 12);
        assert_eq!(bucket_of(10_000_000_001), 13);
        assert_eq!(bucket_of(u64::MAX), 13);
    }

    #[test]
    fn the_binades_find_the_bucket_a_search_of_the_bounds_finds() {
        let search = |ns: u64| BOUNDS_NS.partition_point(|&bound| bound < ns);
        let mut edges = vec![0, 1, 2, 3, u64::MAX - 1, u64::MAX];
        for k in 0..64 {
            let p = 1u64 << k;
            edges.extend([p - 1, p, p + 1]);
        }
        for b in BOUNDS_NS {
            edges.extend([b - 1, b, b + 1]);
        }
        // And a spread of durations between, from a fixed xorshift.
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            edges.push(x >> (x % 64));
        }
        for ns in edges {
            assert_eq!(bucket_of(ns), search(ns), "{ns} ns");
        }
    }

    #[test]
    fn each_outcome_counts_apart_and_the_sum_is_exact() {
        let d = Durations::new();
        d.record(Class::Success, 3_000_000);
        d.record(Class::Success, 7);
        d.record(Class::Failure, 20_000_000_000);
        d.record(Class::Ignored, 1_000_000);
        let h = d.read();
        assert_eq!(h.success.count(), 2);
        assert_eq!(h.success.counts()[0], 1);
        assert_eq!(h.success.counts()[2], 1);
        assert_eq!(h.success.sum(), Duration::from_nanos(3_000_007));
        assert_eq!(h.failure.counts()[13], 1);
        assert_eq!(h.failure.sum(), Duration::from_secs(20));
        assert_eq!(h.ignored.count(), 1);
        assert_eq!(h.excluded.count(), 0);
        assert_eq!(h.count(), 4);
    }

    #[test]
    fn sums_past_a_u64_of_nanoseconds_are_read_in_full() {
        assert_eq!(
            duration_of(u128::from(u64::MAX) + 1_000_000_000),
            Duration::new(
                u64::MAX / 1_000_000_000 + 1,
                (u64::MAX % 1_000_000_000) as u32
            )
        );
    }
}
