//! The breaker's whole state machine packed into one `u64`, so that every decision is one
//! atomic load and every change one compare-and-swap: no lock on any path.
//!
//! Layout, low bits first:
//!
//! ```text
//! | tag: 3 | epoch: 21 | payload: 40 |
//! ```
//!
//! - `tag` is the state's code ([`State::code`], the one numbering of states in the crate).
//! - `epoch` grows by one with every change of state (and with every `reset`). A call remembers
//!   the word it was admitted under; its result moves the state only while the epoch is still the
//!   same, so results that come back after a transition are counted but change nothing. It
//!   wraps after 2^21 changes, far more than can happen while one call is in flight.
//! - `payload` depends on the tag:
//!   - Closed: consecutive failures (40 bits);
//!   - Open: the deadline, in whole milliseconds of the breaker's clock rounded up (keeping it
//!     in the word, not beside it, means no reader ever pairs a state with another state's
//!     deadline). The breaker's clock counts from when the breaker took it and stops at
//!     [`END_OF_TIME_MS`] (17 years), so deadlines fit the 40 bits and every comparison of a
//!     reading with a deadline is exact: a clock that jumps by any amount, `Duration::MAX`
//!     included, finds every deadline passed. Comparisons are still made modulo 2^40, which
//!     costs nothing and keeps them right should a reading ever exceed the end;
//!   - HalfOpen: trial calls admitted (low 20 bits) and successes among them (high 20 bits);
//!   - ForcedOpen, Disabled: unused.
//!
//! # The deadline's remainder
//!
//! 40 bits hold 17 years of milliseconds (a timeout may be a year) but not of nanoseconds, and
//! an Open period must end exactly `recovery_timeout` after the clock reading that tripped the
//! breaker, at whatever nanosecond: waiting exactly what `retry_after` said must find it
//! HalfOpen. So the deadline is split. The word keeps the whole millisecond at or after it, which
//! answers every question but one: within that last millisecond, whether the deadline has
//! passed. That one question reads [`Remainder`], a second atomic beside the word holding how
//! many nanoseconds before its millisecond the deadline falls, stamped with the epoch and the
//! low bits of the deadline it belongs to, so that it is never applied to another Open period:
//!
//! ```text
//! | epoch: 21 | deadline_ms, low bits: 23 | early_ns: 20 |
//! ```
//!
//! It is written before the compare-and-swap that installs its Open word, so the swap's Release
//! publishes it to every reader that sees that word, and again after the swap succeeds, in case
//! a call that lost the race to trip wrote its own in between. A reader that finds no remainder
//! stamped for its word (only possible while several calls trip the breaker at once) takes the
//! deadline as the whole millisecond: the period then ends less than a millisecond late, never
//! early, and `retry_after` still tells the truth about it. The rejection path reads the
//! remainder only in the last millisecond before a deadline, or on a custom clock.

use crate::sync::{AtomicU64, Ordering};
use crate::State;

const TAG_BITS: u32 = State::CODE_BITS;
const EPOCH_BITS: u32 = 21;
const PAYLOAD_SHIFT: u32 = TAG_BITS + EPOCH_BITS;
const TAG_MASK: u64 = (1 << TAG_BITS) - 1;
const EPOCH_MASK: u64 = (1 << EPOCH_BITS) - 1;
const PAYLOAD_BITS: u32 = 64 - PAYLOAD_SHIFT;
const PAYLOAD_MASK: u64 = (1 << PAYLOAD_BITS) - 1;
const HALF_BITS: u32 = 20;
const HALF_MASK: u64 = (1 << HALF_BITS) - 1;

/// The largest `half_open_max_calls` (and so `success_threshold`) the word can count.
pub(crate) const MAX_TRIAL_CALLS: u32 = HALF_MASK as u32;

/// Deadlines are compared modulo 2^40 ms; any gap below half of that (17 years) is unambiguous.
const HALF_DEADLINE_RANGE: u64 = 1 << (PAYLOAD_BITS - 1);

/// The last millisecond of a breaker's time: the breaker's clock readings (counted from when
/// it took the clock) and its deadlines stop here. Every reading and deadline then lies in
/// `0..=END_OF_TIME_MS`, so no two are half the word's range apart and no comparison wraps,
/// whatever the clock does: a jump of any length reads as the end of time, past every deadline.
pub(crate) const END_OF_TIME_MS: u64 = HALF_DEADLINE_RANGE - 1;

/// One value of the breaker's state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word(pub(crate) u64);

impl Word {
    /// The state a new breaker starts in: Closed, epoch 0, no failures.
    pub(crate) const INITIAL: Word = Word(0);

    fn pack(tag: State, epoch: u32, payload: u64) -> Word {
        debug_assert!(payload <= PAYLOAD_MASK);
        Word(
            tag.code()
                | ((u64::from(epoch) & EPOCH_MASK) << TAG_BITS)
                | ((payload & PAYLOAD_MASK) << PAYLOAD_SHIFT),
        )
    }

    pub(crate) fn closed(epoch: u32, failures: u64) -> Word {
        Word::pack(State::Closed, epoch, failures.min(PAYLOAD_MASK))
    }

    pub(crate) fn open(epoch: u32, deadline_ms: u64) -> Word {
        Word::pack(State::Open, epoch, deadline_ms & PAYLOAD_MASK)
    }

    pub(crate) fn half_open(epoch: u32, admitted: u32, successes: u32) -> Word {
        debug_assert!(admitted <= MAX_TRIAL_CALLS && successes <= MAX_TRIAL_CALLS);
        let payload = u64::from(admitted) | (u64::from(successes) << HALF_BITS);
        Word::pack(State::HalfOpen, epoch, payload)
    }

    pub(crate) fn forced_open(epoch: u32) -> Word {
        Word::pack(State::ForcedOpen, epoch, 0)
    }

    pub(crate) fn disabled(epoch: u32) -> Word {
        Word::pack(State::Disabled, epoch, 0)
    }

    /// The state the word is in.
    #[inline(always)]
    pub(crate) fn tag(self) -> State {
        State::from_code(self.0)
    }

    #[inline(always)]
    pub(crate) fn is_closed(self) -> bool {
        self.0 & TAG_MASK == State::Closed.code()
    }

    pub(crate) fn epoch(self) -> u32 {
        ((self.0 >> TAG_BITS) & EPOCH_MASK) as u32
    }

    /// The epoch a transition out of this word moves to.
    pub(crate) fn next_epoch(self) -> u32 {
        ((u64::from(self.epoch()) + 1) & EPOCH_MASK) as u32
    }

    /// The epoch that follows `epoch`, with the word's wrap-around.
    pub(crate) fn epoch_after(epoch: u32) -> u32 {
        ((u64::from(epoch) + 1) & EPOCH_MASK) as u32
    }

    fn payload(self) -> u64 {
        self.0 >> PAYLOAD_SHIFT
    }

    /// Consecutive failures; meaningful while Closed.
    #[inline(always)]
    pub(crate) fn failures(self) -> u64 {
        self.payload()
    }

    /// Trial calls handed out; meaningful while HalfOpen.
    pub(crate) fn admitted(self) -> u32 {
        (self.payload() & HALF_MASK) as u32
    }

    /// Trial calls that succeeded; meaningful while HalfOpen.
    pub(crate) fn successes(self) -> u32 {
        ((self.payload() >> HALF_BITS) & HALF_MASK) as u32
    }

    /// Milliseconds left until the Open deadline at `now_ms`, or `None` once it has passed.
    pub(crate) fn remaining_ms(self, now_ms: u64) -> Option<u64> {
        let left = self.payload().wrapping_sub(now_ms) & PAYLOAD_MASK;
        (left != 0 && left < HALF_DEADLINE_RANGE).then_some(left)
    }

    /// The deadline, modulo 2^40 ms; meaningful while Open.
    pub(crate) fn deadline_ms(self) -> u64 {
        self.payload()
    }

    /// Whether a result admitted under `self` may still move the state that is now `current`.
    pub(crate) fn same_period(self, current: Word) -> bool {
        self.tag() == current.tag() && self.epoch() == current.epoch()
    }
}

const EARLY_BITS: u32 = 20;
const EARLY_MASK: u64 = (1 << EARLY_BITS) - 1;
const STAMP_DEADLINE_BITS: u32 = 64 - EARLY_BITS - EPOCH_BITS;
const STAMP_DEADLINE_MASK: u64 = (1 << STAMP_DEADLINE_BITS) - 1;

/// How far before its whole millisecond the deadline of an Open word falls, kept beside the
/// word (see [the module's documentation](self)).
#[derive(Debug)]
pub(crate) struct Remainder(AtomicU64);

impl Remainder {
    pub(crate) fn new() -> Self {
        // Whatever word 0 is taken to be stamped for, it says "no remainder".
        Remainder(AtomicU64::new(0))
    }

    /// Records that the deadline of `open` falls `early_ns` (under a millisecond) before the
    /// millisecond the word holds.
    ///
    /// Relaxed: the value is checked against the word it is read for, and no other memory is
    /// read through it; the word's compare-and-swap that follows orders it for readers.
    pub(crate) fn stamp(&self, open: Word, early_ns: u32) {
        debug_assert!(open.tag() == State::Open && u64::from(early_ns) < 1_000_000);
        let early = u64::from(early_ns) & EARLY_MASK;
        self.0.store(
            early << (64 - EARLY_BITS) | Self::key(open),
            Ordering::Relaxed,
        );
    }

    /// The remainder stamped for `open`, in nanoseconds, or 0 if none is.
    pub(crate) fn early_ns(&self, open: Word) -> u64 {
        let stamped = self.0.load(Ordering::Relaxed);
        let key_mask = (1 << (64 - EARLY_BITS)) - 1;
        if stamped & key_mask == Self::key(open) {
            stamped >> (64 - EARLY_BITS)
        } else {
            0
        }
    }

    fn key(open: Word) -> u64 {
        u64::from(open.epoch()) | (open.deadline_ms() & STAMP_DEADLINE_MASK) << EPOCH_BITS
    }
}

impl std::fmt::Debug for Word {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Word");
        d.field("tag", &self.tag()).field("epoch", &self.epoch());
        match self.tag() {
            State::Closed => d.field("failures", &self.failures()),
            State::Open => d.field("deadline_ms", &self.deadline_ms()),
            State::HalfOpen => d
                .field("admitted", &self.admitted())
                .field("successes", &self.successes()),
            State::ForcedOpen | State::Disabled => &mut d,
        };
        d.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let w = Word::half_open(7, 3, 2);
        assert_eq!(
            (w.tag(), w.epoch(), w.admitted(), w.successes()),
            (State::HalfOpen, 7, 3, 2)
        );
        let w = Word::closed(EPOCH_MASK as u32, 12);
        assert_eq!(
            (w.tag(), w.epoch(), w.failures()),
            (State::Closed, EPOCH_MASK as u32, 12)
        );
        assert_eq!(w.next_epoch(), 0, "the epoch wraps");
        let w = Word::half_open(1, MAX_TRIAL_CALLS, MAX_TRIAL_CALLS);
        assert_eq!(
            (w.admitted(), w.successes()),
            (MAX_TRIAL_CALLS, MAX_TRIAL_CALLS)
        );
        assert!(Word::INITIAL.is_closed());
        assert_eq!(Word::forced_open(2).tag(), State::ForcedOpen);
        assert_eq!(Word::disabled(2).tag(), State::Disabled);
    }

    #[test]
    fn deadline_compares_across_the_wrap() {
        let w = Word::open(1, 1000);
        assert_eq!(w.remaining_ms(400), Some(600));
        assert_eq!(w.remaining_ms(1000), None);
        assert_eq!(w.remaining_ms(5000), None);
        let near_wrap = PAYLOAD_MASK - 10;
        let w = Word::open(1, near_wrap + 30); // wraps to 19
        assert_eq!(w.remaining_ms(near_wrap), Some(30));
        assert_eq!(w.remaining_ms(near_wrap + 30), None);
    }

    #[test]
    fn a_remainder_applies_only_to_the_open_word_it_was_stamped_for() {
        let remainder = Remainder::new();
        let open = Word::open(5, 1_002);
        assert_eq!(remainder.early_ns(open), 0, "nothing stamped yet");
        remainder.stamp(open, 999_999);
        assert_eq!(remainder.early_ns(open), 999_999);
        assert_eq!(
            remainder.early_ns(Word::open(6, 1_002)),
            0,
            "another period"
        );
        assert_eq!(
            remainder.early_ns(Word::open(5, 1_003)),
            0,
            "another deadline"
        );
        let last = Word::open(EPOCH_MASK as u32, PAYLOAD_MASK);
        remainder.stamp(last, 1);
        assert_eq!(remainder.early_ns(last), 1, "the widest fields fit");
        assert_eq!(remainder.early_ns(open), 0);
    }

    #[test]
    fn same_period_needs_tag_and_epoch() {
        let a = Word::closed(3, 0);
        assert!(a.same_period(Word::closed(3, 2)));
        assert!(!a.same_period(Word::closed(4, 0)));
        assert!(!a.same_period(Word::open(3, 0)));
    }
}
