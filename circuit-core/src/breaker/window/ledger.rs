//! The window's contents, kept under its lock and touched only on cold paths: the failed and
//! slow calls of the current Closed period, by position (count windows) or by bucket (time
//! windows), and where that period began.

use super::rules::{Rules, Tally};
use crate::config::SlidingWindow;
use std::collections::VecDeque;

/// Buckets of a time window: the window at a decision covers between `BUCKETS - 1` and
/// `BUCKETS` tenths of the period.
pub(super) const BUCKETS: u64 = 10;

/// One breaker's window.
#[derive(Debug)]
pub(super) struct Ledger {
    pub(super) rules: Rules,
    /// The epoch of the Closed period the contents belong to.
    pub(super) epoch: u32,
    /// The position (calls recorded since the breaker was made) when that period began: calls
    /// before it are in no window.
    pub(super) base: u64,
    /// The highest position a decision has used, so positions never go back (see
    /// [`Ledger::position`]).
    pub(super) last: u64,
    /// Results that came back after their period ended: counted in the totals, they move no
    /// state, so no window counts them either. Positions are the totals' calls less these.
    pub(super) stale: u64,
    pub(super) shape: Shape,
}

/// The calls that count, by the kind of window.
#[derive(Debug)]
pub(super) enum Shape {
    /// The last `size` calls: the positions of the failed and of the slow ones, oldest first,
    /// each deque holding at most `size` (allocated by the first failed or slow call).
    Count {
        size: u64,
        failures: VecDeque<u64>,
        slow: VecDeque<u64>,
    },
    /// The calls of the last period, in [`BUCKETS`] buckets of `bucket_ns`, oldest first.
    Time {
        bucket_ns: u64,
        buckets: VecDeque<Bucket>,
    },
}

/// The calls of one time bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Bucket {
    /// The bucket's number: the clock's reading divided by the bucket's length.
    pub(super) index: u64,
    /// The position just before the first call of the bucket: with no calls in between, the
    /// position at the bucket's boundary.
    pub(super) start: u64,
    pub(super) failures: u64,
    pub(super) slow: u64,
}

/// How a call being recorded counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Mark {
    pub(super) failed: bool,
    pub(super) slow: bool,
}

impl Ledger {
    /// An empty window for the Closed period of `epoch`, begun at position `base`. Nothing
    /// is allocated until a call is recorded.
    pub(super) fn new(rules: Rules, epoch: u32, base: u64) -> Ledger {
        Ledger {
            rules,
            epoch,
            base,
            last: base,
            stale: 0,
            shape: Shape::of(rules.window),
        }
    }

    /// Empties the window for the period of `epoch`, begun at position `base`. A time window
    /// is left without buckets: its next boundary reads 0, so the next call records its
    /// bucket, which then starts at `base`.
    pub(super) fn clear(&mut self, epoch: u32, base: u64) {
        self.epoch = epoch;
        self.base = base;
        self.last = self.last.max(base);
        match &mut self.shape {
            Shape::Count { failures, slow, .. } => {
                failures.clear();
                slow.clear();
            }
            Shape::Time { buckets, .. } => buckets.clear(),
        }
    }

    /// New rules: a different window starts afresh (at position `now_pos`), the same one keeps
    /// its calls.
    pub(super) fn set_rules(&mut self, rules: Rules, now_pos: u64) {
        let fresh = rules.window != self.rules.window;
        self.rules = rules;
        if fresh {
            self.shape = Shape::of(rules.window);
            self.clear(self.epoch, now_pos);
        }
    }

    /// `counted`, the calls the totals hold now, as the position of this decision: never below
    /// one made before (a sum of the stripes read with Relaxed loads could otherwise come out
    /// below an earlier decision's) nor below the period's start.
    pub(super) fn position(&mut self, counted: u64) -> u64 {
        self.last = self.last.max(self.calls(counted));
        self.last
    }

    /// `counted`, the calls the totals hold, less the stale results among them.
    pub(super) fn calls(&self, counted: u64) -> u64 {
        counted.saturating_sub(self.stale)
    }

    /// Records a call at position `pos` (its own call included) and clock reading `now_ns`,
    /// drops what has left the window, and returns the window's tally.
    pub(super) fn record(&mut self, pos: u64, now_ns: u64, mark: Mark) -> Tally {
        let rate_rule = self.rules.failure_rate.is_some();
        match &mut self.shape {
            Shape::Count {
                size,
                failures,
                slow,
            } => {
                let size = *size;
                if mark.failed && rate_rule {
                    failures.push_back(pos);
                }
                if mark.slow {
                    slow.push_back(pos);
                }
                // The window is the positions (pos - size, pos].
                let oldest = pos.saturating_sub(size);
                for deque in [&mut *failures, &mut *slow] {
                    while deque.front().is_some_and(|&p| p <= oldest) {
                        deque.pop_front();
                    }
                }
                self.peek(pos, now_ns)
            }
            Shape::Time { bucket_ns, buckets } => {
                // A reading taken before another thread recorded a newer bucket belongs to
                // that bucket: buckets only move forward.
                let newest = buckets.back().map_or(0, |b| b.index);
                let index = (now_ns / *bucket_ns).max(newest);
                if buckets.back().is_none_or(|b| b.index < index) {
                    // This call is the bucket's first: the bucket starts just before it. The first bucket of a period starts with the period: the
                    // calls before it were made in it (else they would have recorded it).
                    let start = if buckets.is_empty() {
                        self.base
                    } else {
                        pos.saturating_sub(1).max(self.base)
                    };
                    buckets.push_back(Bucket {
                        index,
                        start,
                        failures: 0,
                        slow: 0,
                    });
                }
                if let Some(bucket) = buckets.back_mut() {
                    bucket.failures += u64::from(mark.failed && rate_rule);
                    bucket.slow += u64::from(mark.slow);
                }
                let first = index.saturating_sub(BUCKETS - 1);
                while buckets.front().is_some_and(|b| b.index < first) {
                    buckets.pop_front();
                }
                self.peek(pos, now_ns)
            }
        }
    }

    /// The window's tally at position `pos` and clock reading `now_ns`, recording nothing.
    pub(super) fn peek(&self, pos: u64, now_ns: u64) -> Tally {
        match &self.shape {
            Shape::Count {
                size,
                failures,
                slow,
            } => {
                let oldest = pos.saturating_sub(*size);
                let calls = pos.saturating_sub(self.base).min(*size);
                let inside = |deque: &VecDeque<u64>| {
                    (deque.iter().filter(|&&p| p > oldest).count() as u64).min(calls)
                };
                Tally {
                    calls,
                    failures: inside(failures),
                    slow: inside(slow),
                }
            }
            Shape::Time { bucket_ns, buckets } => {
                let newest = buckets.back().map_or(0, |b| b.index);
                let first = (now_ns / *bucket_ns)
                    .max(newest)
                    .saturating_sub(BUCKETS - 1);
                let kept = || buckets.iter().filter(|b| b.index >= first);
                // The window starts at the oldest boundary kept: between 9 and 10 buckets ago.
                // With none kept, no call was recorded within the period (a call there would
                // have recorded its bucket).
                let start = kept().next().map_or(pos, |b| b.start.max(self.base));
                let calls = pos.saturating_sub(start);
                Tally {
                    calls,
                    failures: kept().map(|b| b.failures).sum::<u64>().min(calls),
                    slow: kept().map(|b| b.slow).sum::<u64>().min(calls),
                }
            }
        }
    }

    /// Whether this is a time window, whose records need the clock.
    pub(super) fn timed_window(&self) -> bool {
        matches!(self.shape, Shape::Time { .. })
    }

    /// A clock reading within the newest bucket recorded (0 for a count window or no bucket):
    /// where a window no longer current stands.
    pub(super) fn last_reading(&self) -> u64 {
        match &self.shape {
            Shape::Count { .. } => 0,
            Shape::Time { bucket_ns, buckets } => buckets
                .back()
                .map_or(0, |b| b.index.saturating_mul(*bucket_ns)),
        }
    }

    /// The clock reading at which the time window's next bucket begins; `None` for a count
    /// window.
    pub(super) fn next_boundary_ns(&self) -> Option<u64> {
        match &self.shape {
            Shape::Count { .. } => None,
            // No bucket yet: the next call records one, whenever it comes.
            Shape::Time { bucket_ns, buckets } => Some(
                buckets
                    .back()
                    .map_or(0, |b| b.index.saturating_add(1).saturating_mul(*bucket_ns)),
            ),
        }
    }
}

impl Shape {
    fn of(window: SlidingWindow) -> Shape {
        match window {
            SlidingWindow::Count(size) => Shape::Count {
                size: u64::from(size.max(1)),
                failures: VecDeque::new(),
                slow: VecDeque::new(),
            },
            SlidingWindow::Time(period) => Shape::Time {
                bucket_ns: (crate::clock::saturating_nanos(period) / BUCKETS).max(1),
                buckets: VecDeque::new(),
            },
        }
    }
}
