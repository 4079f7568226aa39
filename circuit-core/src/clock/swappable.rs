//! The clock a breaker holds, with the one question the rejection path asks of it answered
//! without a lock and, for the system clock, without a full clock read.

use crate::clock::{system, Clock, SystemClock};
use crate::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const NANOS_PER_MS: u64 = 1_000_000;

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
            nanos(self.clock.read().now())
        } else {
            system::precise_nanos()
        }
    }

    /// The current time in whole milliseconds, rounded down.
    #[cfg(test)]
    pub(crate) fn now_ms(&self) -> u64 {
        self.now_nanos() / NANOS_PER_MS
    }

    /// The deadline `timeout` from now, in whole milliseconds rounded up, so that an Open
    /// period never ends early.
    pub(crate) fn deadline_ms(&self, timeout: Duration) -> u64 {
        self.now_nanos()
            .saturating_add(nanos(timeout))
            .div_ceil(NANOS_PER_MS)
    }

    /// Nanoseconds left until `deadline_ms` (compared by `remaining`, which knows the word's
    /// wrap), or `None` once it has passed.
    ///
    /// For the system clock this first asks the coarse clock, which lags the precise one by at
    /// most `slack`: while even the most advanced reading it allows is before the deadline, the
    /// answer is certain and the precise clock is not read. The time left it reports is then
    /// counted from the coarse reading, so it may overstate the wait by up to the slack.
    #[inline]
    pub(crate) fn nanos_left(&self, remaining: impl Fn(u64) -> Option<u64>) -> Option<u64> {
        if !self.custom.load(Ordering::Relaxed) {
            let (coarse, slack) = system::coarse_nanos();
            if remaining(coarse.saturating_add(slack) / NANOS_PER_MS).is_some() {
                let now_ms = coarse / NANOS_PER_MS;
                let left_ms = remaining(now_ms).unwrap_or(0);
                return Some((left_ms * NANOS_PER_MS).saturating_sub(coarse % NANOS_PER_MS));
            }
        }
        let now = self.now_nanos();
        let left_ms = remaining(now / NANOS_PER_MS)?;
        // The time left to the nanosecond, not to the rounded millisecond.
        Some((left_ms * NANOS_PER_MS).saturating_sub(now % NANOS_PER_MS))
    }

    /// [`nanos_left`](Self::nanos_left) as a `Duration`.
    #[cfg(test)]
    pub(crate) fn time_left(&self, remaining: impl Fn(u64) -> Option<u64>) -> Option<Duration> {
        self.nanos_left(remaining).map(Duration::from_nanos)
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

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn deadline_rounds_up_and_time_left_is_exact() {
        let manual = ManualClock::new();
        let clock = BreakerClock::new(Some(Arc::new(manual.clone())));
        manual.advance(Duration::from_micros(1500));
        let deadline = clock.deadline_ms(Duration::from_secs(1)); // 1001.5 ms -> 1002
        assert_eq!(deadline, 1002);
        let remaining = |now: u64| (now < deadline).then(|| deadline - now);
        // 500 µs of rounding: the breaker waits at most that much longer than asked.
        assert_eq!(
            clock.time_left(remaining),
            Some(Duration::from_micros(1_000_500))
        );
        manual.advance(Duration::from_micros(1_000_500));
        assert_eq!(clock.time_left(remaining), None);
    }

    #[test]
    fn system_clock_answers_through_the_coarse_path() {
        let clock = BreakerClock::new(None);
        let deadline = clock.deadline_ms(Duration::from_secs(3600));
        let remaining = |now: u64| (now < deadline).then(|| deadline - now);
        let left = clock.time_left(remaining).expect("an hour has not passed");
        assert!(left <= Duration::from_secs(3600) + Duration::from_millis(50));
        assert!(left >= Duration::from_secs(3590));
        let past = clock.now_ms();
        assert_eq!(
            clock.time_left(|now| (now < past).then(|| past - now)),
            None
        );
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
