//! The Open period's deadline: putting it in place (the word, its remainder and its period,
//! see [`backoff`](super::backoff)) and the time left until it.

use crate::breaker::backoff::{self, Stamp};
use crate::breaker::word::Word;
use crate::config::MAX_RECOVERY_TIMEOUT;
use crate::events::Reason;
use crate::CircuitBreaker;
use std::time::Duration;

impl CircuitBreaker {
    /// Swaps `from` (Closed or HalfOpen) for an Open word of the next epoch whose period is
    /// the breaker's own (see [`backoff`](super::backoff)), or `at_least` if that is longer.
    /// The period is published beside the word before the swap; the deadline's remainder just
    /// before it, so that every reader of the new word finds both, and again after, over any
    /// stamp of a call that lost the race.
    fn swap_in_open(&self, from: Word, at_least: Duration) -> Result<Word, Word> {
        // A call that has already lost the race must not stamp over the winner's.
        let now = self.load();
        if now != from {
            return Err(now);
        }
        let epoch = from.next_epoch();
        let (timeout, backoff) = (self.recovery_timeout(), self.config.lock().backoff());
        let capped = |k| backoff::at_cap(timeout, &backoff, k);
        let (_, period) = self.periods.claim(from, epoch, capped, |k| {
            let unit = if backoff::jitter_ratio(&backoff) > 0.0 {
                backoff::unit_draw()
            } else {
                0.0
            };
            backoff::jittered_period(timeout, &backoff, k, unit)
                .max(at_least)
                .min(MAX_RECOVERY_TIMEOUT)
        });
        self.install_open(from, epoch, period)
    }

    /// Swaps `from` for an Open word of `epoch` ending `period` from now, with its remainder.
    fn install_open(&self, from: Word, epoch: u32, period: Duration) -> Result<Word, Word> {
        let deadline = self.clock.deadline(period);
        let open = Word::open(epoch, deadline.ms);
        let now = self.load();
        if now != from {
            return Err(now);
        }
        self.remainder.stamp(open, deadline.early_ns);
        self.cas(from, open)?;
        self.remainder.stamp(open, deadline.early_ns);
        self.clear_half_open_start(open);
        Ok(open)
    }

    /// Opens the breaker from `from` for its own next period, and tells the listeners.
    pub(super) fn open(&self, from: Word, reason: Reason) -> Result<(), Word> {
        self.open_at_least(from, Duration::ZERO, reason)
    }

    /// Opens the breaker from `from` for its own next period or `at_least`, whichever is
    /// longer, and tells the listeners.
    pub(super) fn open_at_least(
        &self,
        from: Word,
        at_least: Duration,
        reason: Reason,
    ) -> Result<(), Word> {
        let open = self.swap_in_open(from, at_least)?;
        self.announce(from, open, reason);
        Ok(())
    }

    /// Restarts the Open period of `open` (same epoch, so no listener hears of it) to end
    /// `period` from now, for `reconfigure`; `k` is its re-openings.
    pub(super) fn restart_open(&self, open: Word, k: u32, period: Duration) -> Result<(), Word> {
        let covering = self.periods.cover(open, k, period);
        self.install_open(open, open.epoch(), period)?;
        self.periods.settle(covering, period);
        Ok(())
    }

    /// Whether the Open period of `w` ends later than `period` from now. Asks the precise
    /// clock: the coarse one overstates.
    pub(super) fn open_outlasts(&self, w: Word, period: Duration) -> bool {
        self.clock
            .precise_nanos_left(|now| w.remaining_ms(now), || self.remainder.early_ns(w))
            .is_some_and(|left| u128::from(left) > period.as_nanos())
    }

    /// Time left in the Open period of `w`, or `None` once it has passed.
    #[inline]
    pub(super) fn open_time_left(&self, w: Word) -> Option<Duration> {
        self.open_nanos_left(w, self.periods.load())
            .map(Duration::from_nanos)
    }

    /// [`open_time_left`](Self::open_time_left) in nanoseconds, for the rejection path, with
    /// the period `stamp` read beside the word. The coarse clock may overstate the wait by its
    /// slack; never report more than the period's own length (a health report once showed
    /// 1005 ms left of a 1 s timeout).
    #[inline(always)]
    pub(super) fn open_nanos_left(&self, w: Word, stamp: Stamp) -> Option<u64> {
        let left = self
            .clock
            .nanos_left(|now| w.remaining_ms(now), || self.remainder.early_ns(w))?;
        Some(stamp.cap_ns(w).map_or(left, |cap| left.min(cap)))
    }
}
