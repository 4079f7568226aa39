//! The clock a breaker holds, with the one question the rejection path asks of it answered
//! without a lock and, for the system clock, without a full clock read.

use crate::breaker::word::END_OF_TIME_MS;
use crate::clock::{saturating_nanos, system, Clock};
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

/// The breaker's clock readings end here (see [`END_OF_TIME_MS`]).
const END_OF_TIME_NS: u64 = END_OF_TIME_MS * NANOS_PER_MS;

/// A breaker's clock. `configure` may swap it at run time, so it sits behind a lock, but the
/// default system clock is recognised by a flag and read directly: the lock is taken only when
/// a custom clock (a test's [`ManualClock`](crate::clock::ManualClock)) is installed.
///
/// Readings count from when the breaker took the clock (the system clock counts from boot, its
/// own origin) and stop at [`END_OF_TIME_MS`], 17 years on: a clock whose origin is far in the
/// past (one reading the time since 1970) works like any other, and a clock that jumps by any
/// amount reads the end of time, past every deadline, instead of wrapping around the state
/// word's 40 bits. A breaker that reaches the end of its time keeps deciding, with Open periods
/// ending at once: it is never stuck.
#[derive(Debug)]
pub(crate) struct BreakerClock {
    custom: AtomicBool,
    /// `None` for the system clock: a breaker on it holds no clock of its own (a registry may
    /// hold a million per-key breakers), and only a custom clock is boxed.
    clock: RwLock<Option<Box<Installed>>>,
}

#[derive(Debug)]
struct Installed {
    clock: Arc<dyn Clock>,
    /// The clock's reading, in nanoseconds, when the breaker took it.
    origin: u64,
    /// The last reading the breaker counts, from `origin`: the end of its time, or sooner if
    /// the clock's own range (`u64::MAX` nanoseconds) ends sooner. A clock taken at the very
    /// end of its range (a `ManualClock` advanced by `Duration::MAX`, then installed again)
    /// cannot move: every deadline on it is then already reached, rather than never.
    end: u64,
}

impl Installed {
    fn new(clock: Arc<dyn Clock>) -> Self {
        let origin = saturating_nanos(clock.now());
        Installed {
            end: END_OF_TIME_NS.min(u64::MAX - origin),
            origin,
            clock,
        }
    }
}

impl BreakerClock {
    pub(crate) fn new(clock: Option<Arc<dyn Clock>>) -> Self {
        BreakerClock {
            custom: AtomicBool::new(clock.is_some()),
            clock: RwLock::new(clock.map(|clock| Box::new(Installed::new(clock)))),
        }
    }

    /// Installs another clock; returns whether it differs from the one held. The same clock
    /// keeps its origin.
    pub(crate) fn replace(&self, clock: Option<Arc<dyn Clock>>) -> bool {
        let mut held = self.clock.write();
        let changed = match (&clock, &*held) {
            (Some(new), Some(old)) => !Arc::ptr_eq(new, &old.clock),
            (new, old) => new.is_some() != old.is_some(),
        };
        if changed {
            self.custom.store(clock.is_some(), Ordering::Relaxed);
            *held = clock.map(|clock| Box::new(Installed::new(clock)));
        }
        changed
    }

    /// Nanoseconds since the breaker took its clock, at most the end of its time; and that end.
    fn reading(&self) -> (u64, u64) {
        if self.custom.load(Ordering::Relaxed) {
            // Swapped back to the system clock since the flag was read: fall through to it.
            if let Some(held) = self.clock.read().as_deref() {
                let now = saturating_nanos(held.clock.now()).saturating_sub(held.origin);
                return (now.min(held.end), held.end);
            }
        }
        (system::precise_nanos().min(END_OF_TIME_NS), END_OF_TIME_NS)
    }

    /// The current time in nanoseconds, on the precise clock: what a call's duration is
    /// timed with for the histogram (see `breaker/durations.rs`).
    pub(crate) fn now_nanos(&self) -> u64 {
        self.reading().0
    }

    /// The current time in nanoseconds, to the coarse clock's tick for the system clock (a
    /// reading at most its slack behind the precise one, at a few nanoseconds' cost), exact
    /// for a custom clock: what calls are timed with and time windows are bucketed by.
    #[inline]
    pub(crate) fn coarse_now_nanos(&self) -> u64 {
        if !self.custom.load(Ordering::Relaxed) {
            return system::coarse_nanos().0.min(END_OF_TIME_NS);
        }
        self.now_nanos()
    }

    /// The current time in whole milliseconds, rounded up: a start kept this way is never
    /// earlier than the reading.
    pub(crate) fn now_ms_rounded_up(&self) -> u64 {
        self.now_nanos().div_ceil(NANOS_PER_MS)
    }

    /// Whether the clock has reached `at_ns` (a time past the end of the breaker's time is
    /// reached at the end). For the system clock the coarse clock answers "not yet" while even
    /// its latest possible reading is before `at_ns`, without a precise read.
    pub(crate) fn reached(&self, at_ns: u64) -> bool {
        if !self.custom.load(Ordering::Relaxed) {
            let (coarse, slack) = system::coarse_nanos();
            if coarse.saturating_add(slack) < at_ns.min(END_OF_TIME_NS) {
                return false;
            }
        }
        let (now, end) = self.reading();
        now >= at_ns.min(end)
    }

    /// Nanoseconds from now until `at_ns`, 0 if it has passed.
    pub(crate) fn nanos_until(&self, at_ns: u64) -> u64 {
        at_ns.saturating_sub(self.now_nanos())
    }

    /// The current time in whole milliseconds, rounded down.
    #[cfg(test)]
    pub(crate) fn now_ms(&self) -> u64 {
        self.now_nanos() / NANOS_PER_MS
    }

    /// The deadline `timeout` from now, to the nanosecond, split as the state word keeps it.
    /// Within `timeout` of the end of the breaker's time, the deadline is the end: an Open
    /// period that would outlast the clock ends when the clock stops, rather than never.
    pub(crate) fn deadline(&self, timeout: Duration) -> Deadline {
        let (now, end) = self.reading();
        let at = now.saturating_add(saturating_nanos(timeout)).min(end);
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
    #[inline(always)]
    pub(crate) fn nanos_left(
        &self,
        remaining: impl Fn(u64) -> Option<u64>,
        early_ns: impl FnOnce() -> u64,
    ) -> Option<u64> {
        if !self.custom.load(Ordering::Relaxed) {
            let (coarse, slack) = system::coarse_nanos();
            // Past the end of time (17 years of uptime) the precise path below decides.
            if coarse.saturating_add(slack) < END_OF_TIME_NS
                && remaining(coarse.saturating_add(slack) / NANOS_PER_MS).is_some_and(|ms| ms > 1)
            {
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
            if let Some(held) = self.clock.read().as_deref() {
                return held.clock.system_time();
            }
        }
        system::wall_coarse()
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
    fn a_deadline_at_the_end_of_time_is_the_end_of_time() {
        let manual = ManualClock::new();
        let clock = BreakerClock::new(Some(Arc::new(manual.clone())));
        manual.advance(Duration::MAX);
        assert_eq!(clock.now_ms(), END_OF_TIME_MS);
        let deadline = clock.deadline(Duration::from_secs(1));
        assert_eq!(
            deadline,
            Deadline {
                ms: END_OF_TIME_MS,
                early_ns: 0
            }
        );
        assert_eq!(
            clock.time_left(deadline),
            None,
            "the clock has stopped there"
        );
    }

    #[test]
    fn readings_count_from_when_the_breaker_took_the_clock() {
        let manual = ManualClock::new();
        // A clock reading the time since 1970 is past 2^40 ms already.
        manual.advance(Duration::from_secs(56 * 365 * 24 * 3600));
        let clock = BreakerClock::new(Some(Arc::new(manual.clone())));
        assert_eq!(clock.now_ms(), 0);
        manual.advance(Duration::from_millis(1500));
        assert_eq!(clock.now_ms(), 1500);
        let held: Arc<dyn Clock> = Arc::new(manual.clone());
        assert!(clock.replace(Some(held.clone())));
        assert_eq!(clock.now_ms(), 0, "another clock, another origin");
        manual.advance(Duration::from_millis(7));
        assert!(!clock.replace(Some(held)));
        assert_eq!(clock.now_ms(), 7, "the same clock keeps its origin");
    }

    #[test]
    fn a_clock_taken_at_the_end_of_its_range_has_every_deadline_reached() {
        let manual = ManualClock::new();
        manual.advance(Duration::MAX);
        let clock = BreakerClock::new(Some(Arc::new(manual)));
        let deadline = clock.deadline(Duration::from_secs(60));
        assert_eq!(deadline, Deadline { ms: 0, early_ns: 0 });
        assert_eq!(clock.time_left(deadline), None);
        assert!(clock.reached(u64::MAX));
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
