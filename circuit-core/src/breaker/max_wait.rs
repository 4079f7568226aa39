//! The half-open wait: a HalfOpen period whose trial slots are all taken opens again once it
//! has gone `half_open_max_wait` undecided, so trials that never report (a permit forgotten, a
//! future never completed) cannot hold the breaker HalfOpen for good.
//!
//! The state word's HalfOpen payload has no room for the period's start, so it is kept beside
//! the word in [`HalfOpenStart`], tagged with the epoch of the period it belongs to: a reader
//! never applies one period's start to another's word. Only the paths that already left the
//! Closed fast path read it: a HalfOpen arrival that finds every slot taken, and `state()`.
//!
//! While a slot is free the breaker is not held (the next call is a trial that can decide), so
//! the wait is checked only once the slots are all taken. That also keeps a breaker whose clock
//! has stopped (the end of its time, see `clock/swappable.rs`) able to close: its trials are
//! admitted, and only a full, undecided period reopens at once.

use crate::breaker::word::Word;
use crate::events::Reason;
use crate::sync::{AtomicU64, Ordering};
use crate::{CircuitBreaker, State};
use std::time::Duration;

const EPOCH_BITS: u32 = 21;
const EPOCH_MASK: u64 = (1 << EPOCH_BITS) - 1;
/// "No start read yet": every bit of the start field, never a reading (they end below 2^39 ms).
const UNSTAMPED: u64 = u64::MAX >> EPOCH_BITS;

/// When a HalfOpen period began, in whole milliseconds of the breaker's clock rounded up, and
/// the epoch of that period:
///
/// ```text
/// | epoch: 21 | start_ms: 43 |
/// ```
///
/// Protocol. The thread whose compare-and-swap moves the word to HalfOpen reads the clock and
/// stores the start, with Release, right after. A reader that finds no start for its period
/// (the winner has not stored it yet, or the cell was cleared late) first loads the word again:
/// the cell's Acquire load means that if it shows a later period's value, that load finds the
/// later word, and the reader decides on it instead of stamping a start onto a period that is
/// over. Otherwise it stamps its own reading by compare-and-swap. Whoever opens the breaker
/// clears the cell for the coming HalfOpen period right after its swap, so a stale start that
/// happens to carry that epoch (2^21 changes ago) is gone long before the period begins. Every
/// reading stamped is taken after the period began, so the wait may end a little late, never
/// early.
#[derive(Debug)]
pub(crate) struct HalfOpenStart(AtomicU64);

impl HalfOpenStart {
    pub(crate) fn new() -> Self {
        HalfOpenStart(AtomicU64::new(UNSTAMPED << EPOCH_BITS))
    }

    fn pack(epoch: u32, start_ms: u64) -> u64 {
        (u64::from(epoch) & EPOCH_MASK) | (start_ms.min(UNSTAMPED - 1) << EPOCH_BITS)
    }

    /// The start stamped for the period of `epoch`, or the cell's raw value if there is none.
    fn stamped(&self, epoch: u32) -> Result<u64, u64> {
        let held = self.0.load(Ordering::Acquire);
        Self::start_in(held, epoch).ok_or(held)
    }

    fn start_in(held: u64, epoch: u32) -> Option<u64> {
        let start = held >> EPOCH_BITS;
        (held & EPOCH_MASK == u64::from(epoch) && start != UNSTAMPED).then_some(start)
    }

    /// Forgets any start for the HalfOpen period of `epoch`.
    pub(crate) fn clear(&self, epoch: u32) {
        let cleared = (u64::from(epoch) & EPOCH_MASK) | (UNSTAMPED << EPOCH_BITS);
        self.0.store(cleared, Ordering::Release);
    }

    /// Stores `start_ms` for the period of `epoch`, over whatever is there.
    fn stamp(&self, epoch: u32, start_ms: u64) {
        self.0.store(Self::pack(epoch, start_ms), Ordering::Release);
    }

    /// Stamps `start_ms` for the period of `epoch` if the cell still holds `held`; else returns
    /// what it holds.
    fn stamp_over(&self, held: u64, epoch: u32, start_ms: u64) -> Result<(), u64> {
        self.0
            .compare_exchange(
                held,
                Self::pack(epoch, start_ms),
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .map(|_| ())
    }
}

/// What a HalfOpen word's wait says.
enum Wait {
    /// Not over (or slots are free): the period goes on.
    Within,
    /// Every slot is taken and the wait is over.
    Outwaited,
    /// The word is no longer the one asked about: decide on this one.
    Superseded(Word),
}

impl CircuitBreaker {
    /// Stamps the start of the HalfOpen period `w` just began (by this thread's swap).
    pub(super) fn half_open_began(&self, w: Word) {
        self.half_open_start
            .stamp(w.epoch(), self.clock.now_ms_rounded_up());
    }

    /// The wait of `w`'s period restarts now (its start was read on a clock just replaced).
    pub(super) fn restart_half_open_wait(&self, w: Word) {
        self.half_open_began(w);
    }

    /// Forgets the start of the HalfOpen period that may follow the Open word `open`, just
    /// swapped in.
    pub(super) fn clear_half_open_start(&self, open: Word) {
        self.half_open_start.clear(open.next_epoch());
    }

    fn half_open_wait(&self, w: Word) -> Wait {
        let (_, max_calls) = self.trial_limits();
        if w.admitted() < max_calls {
            return Wait::Within;
        }
        let epoch = w.epoch();
        let start_ms = match self.half_open_start.stamped(epoch) {
            Ok(start) => start,
            Err(mut held) => loop {
                let now = self.load();
                if now != w {
                    return Wait::Superseded(now);
                }
                let start = self.clock.now_ms_rounded_up();
                match self.half_open_start.stamp_over(held, epoch, start) {
                    Ok(()) => break start,
                    Err(actual) => match HalfOpenStart::start_in(actual, epoch) {
                        Some(start) => break start,
                        None => held = actual,
                    },
                }
            },
        };
        let wait = self.half_open_max_wait_ns.load(Ordering::Relaxed);
        let end = start_ms.saturating_mul(1_000_000).saturating_add(wait);
        if self.clock.reached(end) {
            Wait::Outwaited
        } else {
            Wait::Within
        }
    }

    /// How long a call rejected by the HalfOpen period `w` (every trial slot taken) should
    /// wait before trying again: until the period must be decided (its `half_open_max_wait`
    /// from its start), but never longer than a recovery timeout, and at least a millisecond.
    /// The trials in flight usually decide it sooner; the hint is what lets a 503 always carry
    /// a `Retry-After`.
    pub(super) fn half_open_retry_hint(&self, w: Word) -> Duration {
        let wait = self.half_open_max_wait_ns.load(Ordering::Relaxed);
        let left = match self.half_open_start.stamped(w.epoch()) {
            Ok(start_ms) => self
                .clock
                .nanos_until(start_ms.saturating_mul(1_000_000).saturating_add(wait)),
            // Not stamped yet (its period is beginning on another thread): a whole wait.
            Err(_) => wait,
        };
        let cap = self.recovery_timeout_ns.load(Ordering::Relaxed);
        Duration::from_nanos(left.min(cap).max(1_000_000))
    }

    /// `None` if the HalfOpen period of `w` goes on. Else the word to decide on next: the one
    /// found instead of `w`, or, if the period had every slot taken and went
    /// `half_open_max_wait` undecided, the word after opening the breaker (listeners hear
    /// that once, with [`Reason::HalfOpenMaxWait`]).
    pub(super) fn end_outwaited_half_open(&self, w: Word) -> Option<Word> {
        debug_assert_eq!(w.tag(), State::HalfOpen);
        match self.half_open_wait(w) {
            Wait::Within => None,
            Wait::Superseded(now) => Some(now),
            Wait::Outwaited => Some(match self.open(w, Reason::HalfOpenMaxWait) {
                Ok(()) => self.load(),
                Err(actual) => actual,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_belongs_to_its_own_period_only() {
        let cell = HalfOpenStart::new();
        let nothing = cell.stamped(4).unwrap_err();
        assert_eq!(cell.stamp_over(nothing, 4, 10), Ok(()));
        assert_eq!(cell.stamped(4), Ok(10));
        assert!(cell.stamped(5).is_err(), "another period");
        assert!(
            cell.stamp_over(nothing, 4, 99).is_err(),
            "only over what was seen"
        );
        cell.clear(6);
        assert!(cell.stamped(6).is_err(), "cleared for its period");
        cell.stamp(6, 40);
        assert_eq!(cell.stamped(6), Ok(40));
        let last = EPOCH_MASK as u32;
        cell.stamp(last, (1 << 39) - 1);
        assert_eq!(
            cell.stamped(last),
            Ok((1 << 39) - 1),
            "the widest fields fit"
        );
    }
}
