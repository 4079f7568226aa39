//! How long calls took: the histogram a breaker keeps with
//! [`record_call_durations`](crate::Config::record_call_durations), by outcome.

use std::time::Duration;

/// The upper bounds of the call-duration histogram's buckets, from 1 ms to 10 s: Prometheus'
/// default buckets (5 ms to 10 s), with 1 ms and 2.5 ms added below them, since a service in
/// the same zone (a cache, an index, a database answering from memory) answers within a few
/// milliseconds and a breaker's histogram should tell that from a slow answer. A call that
/// took longer than the last bound lands in the bucket above it (`le="+Inf"`).
pub const DURATION_BUCKETS: [Duration; 13] = [
    Duration::from_millis(1),
    Duration::from_micros(2_500),
    Duration::from_millis(5),
    Duration::from_millis(10),
    Duration::from_millis(25),
    Duration::from_millis(50),
    Duration::from_millis(100),
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_millis(2_500),
    Duration::from_secs(5),
    Duration::from_secs(10),
];

/// How many buckets a [`CallDurations`] counts: one per bound of [`DURATION_BUCKETS`], and one
/// for the calls that took longer than the last.
pub const DURATION_BUCKET_COUNT: usize = DURATION_BUCKETS.len() + 1;

/// The calls of one outcome, spread over the buckets of [`DURATION_BUCKETS`], and the time
/// they took in all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallDurations {
    counts: [u64; DURATION_BUCKET_COUNT],
    sum: Duration,
}

impl CallDurations {
    /// The calls counted in each bucket, and the time they took in all.
    pub(crate) fn new(counts: [u64; DURATION_BUCKET_COUNT], sum: Duration) -> Self {
        CallDurations { counts, sum }
    }

    /// The calls counted: the sum of [`counts`](Self::counts).
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The time the calls took in all (Prometheus' `_sum`).
    pub fn sum(&self) -> Duration {
        self.sum
    }

    /// The calls per bucket, not cumulative: `counts()[i]` took more than
    /// `DURATION_BUCKETS[i - 1]` (or any time, for `i` = 0) and at most `DURATION_BUCKETS[i]`;
    /// the last, longer than every bound.
    pub fn counts(&self) -> &[u64; DURATION_BUCKET_COUNT] {
        &self.counts
    }

    /// Cumulative counts, as Prometheus' `_bucket{le}` series: for each bound, the calls that
    /// took at most that long, then `(None, count)` for `le="+Inf"`. Never decreasing.
    ///
    /// ```
    /// use circuit_core::report::DurationHistogram;
    ///
    /// let none = DurationHistogram::default();
    /// let last = none.success.cumulative().last();
    /// assert_eq!(last, Some((None, 0)));
    /// ```
    pub fn cumulative(&self) -> impl Iterator<Item = (Option<Duration>, u64)> + '_ {
        let bounds = DURATION_BUCKETS.iter().copied().map(Some).chain([None]);
        bounds.zip(&self.counts).scan(0u64, |total, (bound, &n)| {
            *total += n;
            Some((bound, *total))
        })
    }
}

/// How long a breaker's calls took, by outcome, from admission to outcome on the precise
/// clock (the breaker's [`Clock`](crate::clock::Clock), so a `ManualClock` drives it in
/// tests): [`CircuitBreaker::durations`](crate::CircuitBreaker::durations) and
/// [`Snapshot::durations`](crate::Snapshot::durations), for a breaker with
/// [`record_call_durations`](crate::Config::record_call_durations).
///
/// Each call that ran is counted once, under its outcome; calls rejected without running,
/// calls admitted while Disabled and calls cancelled without an outcome (a permit dropped
/// unreported, an async call abandoned before
/// [`abandoned_call_duration`](crate::Config::abandoned_call_duration)) are not:
///
/// - `success`: [`Outcome::Success`](crate::Outcome::Success), an `Ok` through `call`;
/// - `failure`: [`Outcome::Failure`](crate::Outcome::Failure) and
///   [`Outcome::OpenFor`](crate::Outcome::OpenFor), a panic, a call cancelled by its `timeout`
///   (timed to the cancellation) and an abandoned call counted as a failure (timed to when
///   it was dropped);
/// - `excluded`: [`Outcome::Excluded`](crate::Outcome::Excluded), an error the service
///   answered with (a 404, a constraint violation), kept apart so that quick answers of that
///   kind do not flatter the successes' times, as `result="excluded"` is kept apart in the
///   call counts;
/// - `ignored`: [`Outcome::Ignored`](crate::Outcome::Ignored).
///
/// ```
/// use circuit_core::clock::ManualClock;
/// use circuit_core::{CircuitBreaker, Config};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let config = Config::builder().record_call_durations(true).clock(clock.clone()).build()?;
/// let breaker = CircuitBreaker::new("inventory", config);
/// let _ = breaker.call(|| {
///     clock.advance(Duration::from_millis(30)); // the call takes 30 ms
///     Ok::<_, ()>(())
/// });
/// let durations = breaker.durations().expect("recorded");
/// assert_eq!(durations.success.count(), 1);
/// assert_eq!(durations.success.sum(), Duration::from_millis(30));
/// // In the bucket of at most 50 ms, the sixth.
/// assert_eq!(durations.success.counts()[5], 1);
/// # Ok::<(), circuit_core::ConfigError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DurationHistogram {
    /// Calls that succeeded.
    pub success: CallDurations,
    /// Calls that failed (timeouts, panics and abandoned calls counted as failures included).
    pub failure: CallDurations,
    /// Calls whose error was reported as excluded: the service answered.
    pub excluded: CallDurations,
    /// Calls whose outcome was reported as ignored.
    pub ignored: CallDurations,
}

impl DurationHistogram {
    /// Each outcome with its name, as Prometheus' `result` label gives it: `success`,
    /// `failure`, `excluded`, `ignored`.
    pub fn by_result(&self) -> [(&'static str, &CallDurations); 4] {
        [
            ("success", &self.success),
            ("failure", &self.failure),
            ("excluded", &self.excluded),
            ("ignored", &self.ignored),
        ]
    }

    /// The calls counted, every outcome together.
    pub fn count(&self) -> u64 {
        self.by_result().iter().map(|(_, d)| d.count()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_counts_never_decrease_and_end_with_every_call() {
        let mut counts = [0; DURATION_BUCKET_COUNT];
        counts[0] = 2;
        counts[4] = 3;
        counts[13] = 1;
        let d = CallDurations::new(counts, Duration::from_secs(12));
        let cumulative: Vec<_> = d.cumulative().collect();
        assert_eq!(cumulative.len(), DURATION_BUCKET_COUNT);
        assert_eq!(cumulative[0], (Some(Duration::from_millis(1)), 2));
        assert_eq!(cumulative[3], (Some(Duration::from_millis(10)), 2));
        assert_eq!(cumulative[4], (Some(Duration::from_millis(25)), 5));
        assert_eq!(cumulative[12], (Some(Duration::from_secs(10)), 5));
        assert_eq!(cumulative[13], (None, 6));
        assert!(cumulative.windows(2).all(|w| w[0].1 <= w[1].1));
        assert_eq!(d.count(), 6);
    }

    #[test]
    fn the_bounds_rise() {
        assert!(DURATION_BUCKETS.windows(2).all(|w| w[0] < w[1]));
    }
}
