//! The clock a breaker holds, with the one question the rejection path asks of it answered
//! without a lock and, for the system clock, without a full clock read.

use crate::clock::{saturating_nanos, system, Clock, SystemClock};
use crate::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const NANOS_PER_MS: u64 = 1_000_000;

/// A deadline as the breaker keeps it: the whole millisecond at or after it (in the state word)
/// and how many nanoseconds before that millisecond it falls (beside the word; see
/// [`Remainder`](crate::breaker::word::Remainder)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Deadline {
    pub(crate) ms: u64,
    /// Under a millisecond.
    pub(crate) early_ns: u32,
}

/// A breaker's clock. `configure` may swap it at run time, so it sits behind a lock, but the
/// default system clock is recognised by a flag and read directly: the lock is taken only when
/// a custom clock (a test's [`ManualClock`](crate::clock::ManualClock)) is installed.
#[derive(Debug)]
pub(crate) struct BreakerClock {
    custom: AtomicBool,
    clock: RwLock<Arc<dyn Clock>>,
}

impl BreakerClock {
    pub(crate) fn new(clock: Option<Arc<dyn Clock>>) -> Self {
        let custom = clock.is_some();
        BreakerClock {
            custom: AtomicBool::new(custom),
            clock: RwLock::new(clock.unwrap_or_else(|| Arc::new(SystemClock))),
        }
    }

    /// Installs another clock; returns whether it differs from the one held.
    pub(crate) fn replace(&self, clock: Option<Arc<dyn Clock>>) -> bool {
        let mut held = self.clock.write();
        let changed = match &clock {
            Some(new) => !Arc::ptr_eq(new, &held),
            None => self.custom.load(Ordering::Relaxed),
        };
        self.custom.store(clock.is_some(), Ordering::Relaxed);
        *held = clock.unwrap_or_else(|| Arc::new(SystemClock));
        changed
    }

    fn now_nanos(&self) -> u64 {
        if self.custom.load(Ordering::Relaxed) {
            saturating_nanos(self.clock.read().now())
        } else {
            system::precise_nanos()
        }
    }

    /// The current time in whole milliseconds, rounded down.
    #[cfg(test)]
    pub(crate) fn now_ms(&self) -> u64 {
        self.now_nanos() / NANOS_PER_MS
    }

    /// The deadline `timeout` from now, to the nanosecond, split as the state word keeps it.
    pub(crate) fn deadline(&self, timeout: Duration) -> Deadline {
        let at = self.now_nanos().saturating_add(saturating_nanos(timeout));
        let early = (NANOS_PER_MS - at % NANOS_PER_MS) % NANOS_PER_MS;
        Deadline {
            ms: at.div_ceil(NANOS_PER_MS),
            early_ns: early as u32,
        }
    }

    /// Nanoseconds left until a deadline, or `None` once it has passed. `remaining` gives the
    /// whole milliseconds left to the deadline's millisecond at a time in milliseconds (the
    /// word knows its wrap); `early_ns` how far before that millisecond the deadline falls,
    /// asked only on the precise path.
    ///
    /// For the system clock this first asks the coarse clock, which lags the precise one by at
    /// most `slack`: while even the most advanced reading it allows is more than a millisecond
    /// before the deadline's millisecond, the deadline has not passed whatever its remainder,
    /// and neither the precise clock nor the remainder is read. The time left it reports is then
    /// counted from the coarse reading to the whole millisecond, so it may overstate the wait by
    /// up to the slack plus the remainder: a caller who waits that long finds the deadline past.
    #[inline]
    pub(crate) fn nanos_left(
        &self,
        remaining: impl Fn(u64) -> Option<u64>,
        early_ns: impl FnOnce() -> u64,
    ) -> Option<u64> {
        if !self.custom.load(Ordering::Relaxed) {
            let (coarse, slack) = system::coarse_nanos();
            if remaining(coarse.saturating_add(slack) / NANOS_PER_MS).is_some_and(|ms| ms > 1) {
                let now_ms = coarse / NANOS_PER_MS;
                let left_ms = remaining(now_ms).unwrap_or(0);
                return Some((left_ms * NANOS_PER_MS).saturating_sub(coarse % NANOS_PER_MS));
            }
        }
        self.precise_nanos_left(remaining, early_ns)
    }

    /// [`nanos_left`](Self::nanos_left) on the precise clock alone.
    pub(crate) fn precise_nanos_left(
        &self,
        remaining: impl Fn(u64) -> Option<u64>,
        early_ns: impl FnOnce() -> u64,
    ) -> Option<u64> {
        let now = self.now_nanos();
        let left_ms = remaining(now / NANOS_PER_MS)?;
        // To the nanosecond: to the deadline's millisecond, less the part of it after the
        // deadline. Nothing left means the deadline has passed.
        let to_ms = left_ms * NANOS_PER_MS - now % NANOS_PER_MS;
        to_ms.checked_sub(early_ns()).filter(|&left| left > 0)
    }

    /// [`nanos_left`](Self::nanos_left) of a deadline kept in full, as a `Duration`.
    #[cfg(test)]
    fn time_left(&self, deadline: Deadline) -> Option<Duration> {
        let remaining = |now: u64| (now < deadline.ms).then(|| deadline.ms - now);
        self.nanos_left(remaining, || u64::from(deadline.early_ns))
            .map(Duration::from_nanos)
    }

    /// Wall-clock time, for `last_failure`: to the scheduler tick (a few ms) for the system
    /// clock, which is all a health report needs and costs a quarter of a precise read.
    pub(crate) fn system_time(&self) -> SystemTime {
        if self.custom.load(Ordering::Relaxed) {
            self.clock.read().system_time()
        } else {
            system::wall_coarse()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn a_deadline_is_exact_to_the_nanosecond() {
        let manual = ManualClock::new();
        let clock = BreakerClock::new(Some(Arc::new(manual.clone())));
        manual.advance(Duration::from_micros(1500));
        let deadline = clock.deadline(Duration::from_secs(1)); // at 1001.5 ms
        assert_eq!(
            deadline,
            Deadline {
                ms: 1002,
                early_ns: 500_000
            }
        );
        assert_eq!(clock.time_left(deadline), Some(Duration::from_secs(1)));
        manual.advance(Duration::from_nanos(999_999_999));
        assert_eq!(clock.time_left(deadline), Some(Duration::from_nanos(1)));
        manual.advance(Duration::from_nanos(1));
        assert_eq!(clock.time_left(deadline), None);
        // On a whole millisecond, nothing is early.
        let whole = clock.deadline(Duration::from_micros(500));
        assert_eq!(
            whole,
            Deadline {
                ms: 1002,
                early_ns: 0
            }
        );
    }

    #[test]
    fn a_deadline_at_the_end_of_time_does_not_overflow() {
        let manual = ManualClock::new();
        let clock = BreakerClock::new(Some(Arc::new(manual.clone())));
        manual.advance(Duration::MAX);
        let deadline = clock.deadline(Duration::from_secs(1));
        assert_eq!(deadline.ms, u64::MAX.div_ceil(NANOS_PER_MS));
        assert_eq!(
            u64::from(deadline.early_ns),
            NANOS_PER_MS - u64::MAX % NANOS_PER_MS
        );
    }

    #[test]
    fn system_clock_answers_through_the_coarse_path() {
        let clock = BreakerClock::new(None);
        let hour = clock.deadline(Duration::from_secs(3600));
        let left = clock.time_left(hour).expect("an hour has not passed");
        assert!(left <= Duration::from_secs(3600) + Duration::from_millis(50));
        assert!(left >= Duration::from_secs(3590));
        let past = Deadline {
            ms: clock.now_ms(),
            early_ns: 0,
        };
        assert_eq!(clock.time_left(past), None);
    }

    #[test]
    fn replace_reports_a_change_of_clock() {
        let manual: Arc<dyn Clock> = Arc::new(ManualClock::new());
        let clock = BreakerClock::new(None);
        assert!(!clock.replace(None));
        assert!(clock.replace(Some(manual.clone())));
        assert!(!clock.replace(Some(manual)));
        assert!(clock.replace(None));
    }
}
