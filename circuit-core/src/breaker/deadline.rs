//! The Open period's deadline: putting it in place (the word and its remainder) and the time
//! left until it.

use crate::breaker::word::Word;
use crate::events::Reason;
use crate::sync::Ordering;
use crate::CircuitBreaker;
use std::time::Duration;

impl CircuitBreaker {
    /// Swaps `from` for an Open word of `epoch` whose deadline is the recovery timeout from
    /// now. The deadline's remainder is stamped just before the swap, so that every reader of
    /// the new word finds it, and again after, over any stamp of a call that lost the race.
    pub(super) fn swap_in_open(&self, from: Word, epoch: u32) -> Result<Word, Word> {
        let deadline = self.clock.deadline(self.recovery_timeout());
        let open = Word::open(epoch, deadline.ms);
        // A call that has already lost the race must not stamp over the winner's remainder.
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

    /// Opens the breaker from `from` for a new recovery timeout, and tells the listeners.
    pub(super) fn open(&self, from: Word, reason: Reason) -> Result<(), Word> {
        let open = self.swap_in_open(from, from.next_epoch())?;
        self.announce(from, open, reason);
        Ok(())
    }

    /// Whether the Open period of `w` ends later than a whole `recovery_timeout` from now (the
    /// timeout was lowered since it began). Asks the precise clock: the coarse one overstates.
    pub(super) fn open_outlasts_timeout(&self, w: Word) -> bool {
        self.clock
            .precise_nanos_left(|now| w.remaining_ms(now), || self.remainder.early_ns(w))
            .is_some_and(|left| left > self.recovery_timeout_ns.load(Ordering::Relaxed))
    }

    /// Time left in the Open period of `w`, or `None` once it has passed.
    #[inline]
    pub(super) fn open_time_left(&self, w: Word) -> Option<Duration> {
        self.open_nanos_left(w).map(Duration::from_nanos)
    }

    /// [`open_time_left`](Self::open_time_left) in nanoseconds, for the rejection path. The
    /// coarse clock may overstate the wait by its slack; never report more than a whole
    /// timeout (a health report once showed 1005 ms left of a 1 s timeout).
    #[inline]
    pub(super) fn open_nanos_left(&self, w: Word) -> Option<u64> {
        let left = self
            .clock
            .nanos_left(|now| w.remaining_ms(now), || self.remainder.early_ns(w))?;
        Some(left.min(self.recovery_timeout_ns.load(Ordering::Relaxed)))
    }
}
