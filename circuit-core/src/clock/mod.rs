//! Where a breaker's time comes from: the system's monotonic clock in production, a
//! [`ManualClock`] in tests, so that no test ever sleeps until a timeout.

pub(crate) mod swappable;

use crate::sync::{AtomicU64, Ordering};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// `d` in nanoseconds, saturating at `u64::MAX` (584 years): every duration the crate keeps in
/// an integer goes through here.
#[inline]
pub(crate) fn saturating_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A source of monotonic time for a breaker.
///
/// Implement it to drive breakers from your own notion of time; most code uses the default
/// system clock, and tests use [`ManualClock`].
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Time elapsed since an origin of the clock's choosing. It must never go backwards.
    fn now(&self) -> Duration;

    /// Wall-clock time, used only to stamp [`Snapshot::last_failure`](crate::Snapshot).
    fn system_time(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The operating system's monotonic clock: the default of every [`Config`](crate::Config).
///
/// On Linux the breaker checks an Open deadline against `CLOCK_MONOTONIC_COARSE` (a few
/// nanoseconds, one scheduler tick of resolution) and reads the precise clock only within one
/// tick of the deadline, so rejected calls stay cheap and the deadline stays exact.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(system::precise_nanos())
    }
}

/// A clock that moves only when told to: for deterministic tests.
///
/// Clones share one time, so a test keeps a clone and advances the clock that a breaker holds.
///
/// ```
/// use circuit_core::clock::{Clock, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let held_by_breaker = clock.clone();
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(held_by_breaker.now(), Duration::from_secs(60));
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

#[derive(Debug)]
struct ManualInner {
    nanos: AtomicU64,
    /// Wall-clock time at the manual clock's zero, so `last_failure` stamps move with it.
    wall_origin: SystemTime,
}

impl ManualClock {
    /// A clock standing at zero.
    pub fn new() -> Self {
        ManualClock {
            inner: Arc::new(ManualInner {
                nanos: AtomicU64::new(0),
                wall_origin: SystemTime::now(),
            }),
        }
    }

    /// Moves the clock (and every clone of it) forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = saturating_nanos(by);
        // fetch_update so that a huge advance saturates instead of wrapping back in time.
        let _ = self
            .inner
            .nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(n.saturating_add(by))
            });
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.inner.nanos.load(Ordering::Acquire))
    }

    fn system_time(&self) -> SystemTime {
        self.inner.wall_origin + self.now()
    }
}

/// Reads of the system's monotonic clock, precise and coarse, on one time base.
pub(crate) mod system {
    #[cfg(all(target_os = "linux", not(miri), not(loom)))]
    mod imp {
        use std::sync::atomic::{AtomicU64, Ordering};

        fn read(clock: libc::clockid_t) -> Option<u64> {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `ts` is a valid, writable timespec that outlives the call; clock_gettime
            // writes only into it and reports failure through its return value.
            let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
            (rc == 0).then(|| (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64)
        }

        pub(crate) fn precise_nanos() -> u64 {
            // CLOCK_MONOTONIC never fails on Linux; 0 keeps the signature total regardless.
            read(libc::CLOCK_MONOTONIC).unwrap_or(0)
        }

        /// The coarse clock's slack: 0 until probed, `UNSUPPORTED` where the coarse clock
        /// fails (some sandboxes). Written once, then only read: the rejection path must not
        /// write shared memory.
        static SLACK: AtomicU64 = AtomicU64::new(0);
        const UNSUPPORTED: u64 = u64::MAX;

        /// A reading no later than `precise_nanos()` and at most `slack` earlier.
        ///
        /// The coarse clock is the time of the last scheduler tick, but the tick handler runs
        /// late: measured on a 4 ms-tick machine, the lag reached 5.2 ms. Twice the resolution
        /// covers that; within the slack of a deadline the precise clock decides.
        #[inline]
        pub(crate) fn coarse_nanos() -> (u64, u64) {
            let slack = SLACK.load(Ordering::Relaxed);
            if slack != 0 && slack != UNSUPPORTED {
                if let Some(now) = read(libc::CLOCK_MONOTONIC_COARSE) {
                    return (now, slack);
                }
            }
            coarse_first_or_unsupported(slack)
        }

        #[cold]
        fn coarse_first_or_unsupported(slack: u64) -> (u64, u64) {
            if slack == 0 {
                if let Some(now) = read(libc::CLOCK_MONOTONIC_COARSE) {
                    let slack = 2 * resolution().max(1);
                    SLACK.store(slack, Ordering::Relaxed);
                    return (now, slack);
                }
                SLACK.store(UNSUPPORTED, Ordering::Relaxed);
            }
            (precise_nanos(), 0)
        }

        /// Wall-clock time to the last scheduler tick: what `last_failure` needs, for a
        /// quarter of `SystemTime::now()`'s cost on the failure path.
        pub(crate) fn wall_coarse() -> std::time::SystemTime {
            match read(libc::CLOCK_REALTIME_COARSE) {
                Some(nanos) => std::time::UNIX_EPOCH + std::time::Duration::from_nanos(nanos),
                None => std::time::SystemTime::now(),
            }
        }

        fn resolution() -> u64 {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: as in `read`: a valid, writable timespec that outlives the call.
            let rc = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
            if rc == 0 {
                (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
            } else {
                // Unknown: assume the coarsest common tick (HZ=100).
                10_000_000
            }
        }
    }

    #[cfg(not(all(target_os = "linux", not(miri), not(loom))))]
    mod imp {
        use std::sync::OnceLock;
        use std::time::Instant;

        static ORIGIN: OnceLock<Instant> = OnceLock::new();

        pub(crate) fn precise_nanos() -> u64 {
            let origin = *ORIGIN.get_or_init(Instant::now);
            crate::clock::saturating_nanos(origin.elapsed())
        }

        pub(crate) fn coarse_nanos() -> (u64, u64) {
            (precise_nanos(), 0)
        }

        pub(crate) fn wall_coarse() -> std::time::SystemTime {
            std::time::SystemTime::now()
        }
    }

    pub(crate) use imp::{coarse_nanos, precise_nanos, wall_coarse};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_clones_share_time_and_saturate() {
        let a = ManualClock::new();
        let b = a.clone();
        a.advance(Duration::from_millis(1500));
        assert_eq!(b.now(), Duration::from_millis(1500));
        assert_eq!(b.system_time(), a.system_time());
        a.advance(Duration::MAX);
        assert_eq!(b.now(), Duration::from_nanos(u64::MAX));
    }

    #[test]
    fn coarse_reading_is_a_lower_bound_within_its_slack() {
        let (coarse, slack) = system::coarse_nanos();
        let precise = system::precise_nanos();
        assert!(coarse <= precise);
        // Generous margin for a descheduled thread between the two reads.
        assert!(precise - coarse <= slack + 50_000_000);
    }
}
