//! Changes to the state word: loading it, swapping it, and transitions, the swaps that move it
//! to another period and are announced to the listeners.

use crate::breaker::word::Word;
use crate::events::{Reason, Transition};
use crate::sync::Ordering;
use crate::CircuitBreaker;

impl CircuitBreaker {
    /// The state word now.
    ///
    /// Memory orderings: this Acquire load (and the failure half of [`cas`](Self::cas)) pairs
    /// with the Release half of the AcqRel compare-and-swap that wrote the word, so whoever
    /// sees a word also sees what its writer stored before swapping it in (an Open word's
    /// [`Remainder`](crate::breaker::word::Remainder)); the mirrored thresholds are Relaxed and
    /// pair with nothing, because each is read on its own and a decision made with the
    /// thresholds from just before a `reconfigure` is one a call racing that `reconfigure` may
    /// get anyway. The one decision that must not be lost that way, closing a HalfOpen period
    /// whose successes meet a lowered threshold, goes through
    /// [`publish_limits`](Self::publish_limits).
    #[inline(always)]
    pub(super) fn load(&self) -> Word {
        Word(self.word.load(Ordering::Acquire))
    }

    /// Swaps `from` for `to`, or returns the word found instead; orderings as in
    /// [`load`](Self::load).
    pub(super) fn cas(&self, from: Word, to: Word) -> Result<(), Word> {
        self.word
            .compare_exchange(from.0, to.0, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(Word)
    }

    /// The state word now, read by a read-modify-write that changes nothing, after new limits
    /// were stored. Whoever swaps the word after this (a trial's success counted under the old
    /// `success_threshold`, say) acquires it and so reads the new limits on its next look:
    /// either this read sees that swap, or that thread sees the new limits. A plain load would
    /// let both miss each other and leave a HalfOpen period that nobody closes.
    pub(super) fn publish_limits(&self) -> Word {
        Word(self.word.fetch_add(0, Ordering::AcqRel))
    }

    /// Replaces the word as `f` says, until it says `None` or a swap succeeds.
    pub(super) fn update(&self, f: impl Fn(Word) -> Option<Word>) -> Result<(), Word> {
        let mut w = self.load();
        loop {
            let Some(next) = f(w) else { return Err(w) };
            match self.cas(w, next) {
                Ok(()) => return Ok(()),
                Err(actual) => w = actual,
            }
        }
    }

    /// Swaps `from` for `to`, a word of the next epoch, and on success tells the listeners.
    pub(super) fn transition(&self, from: Word, to: Word, reason: Reason) -> Result<(), Word> {
        self.cas(from, to)?;
        self.announce(from, to, reason);
        Ok(())
    }

    /// Tells the listeners that `from` was swapped for `to`, a word of the next epoch.
    pub(super) fn announce(&self, from: Word, to: Word, reason: Reason) {
        debug_assert_eq!(to.epoch(), from.next_epoch());
        // A Closed period starts with an empty window, before listeners can read its rates.
        if to.is_closed() {
            self.window_period_began(to);
        }
        let (from_state, to_state) = (from.tag(), to.tag());
        let transition = (from_state != to_state).then(|| Transition {
            name: self.name().to_owned(),
            from: from_state,
            to: to_state,
            reason,
            // An operator's order is carried out in metrics-only mode too: not a "would have".
            metrics_only: self.periods.load().metrics_only()
                && !matches!(
                    reason,
                    Reason::ForcedOpen | Reason::Disabled | Reason::Reset
                ),
        });
        self.events
            .publish(to.epoch(), transition, Word::epoch_after);
    }
}
