//! The breaker's whole state machine packed into one `u64`, so that every decision is one
//! atomic load and every change one compare-and-swap: no lock on any path.
//!
//! Layout, low bits first:
//!
//! ```text
//! | tag: 3 | epoch: 21 | payload: 40 |
//! ```
//!
//! - `tag` is the [`Tag`].
//! - `epoch` grows by one with every change of state (and with every `reset`). A call remembers
//!   the word it was admitted under; its result moves the state only while the epoch is still the
//!   same, so results that come back after a transition are counted but change nothing. It
//!   wraps after 2^21 changes, far more than can happen while one call is in flight.
//! - `payload` depends on the tag:
//!   - Closed: consecutive failures (40 bits);
//!   - Open: the deadline, in whole milliseconds of the breaker's clock, modulo 2^40 (keeping it
//!     in the word, not beside it, means no reader ever pairs a state with another state's
//!     deadline);
//!   - HalfOpen: trial calls admitted (low 20 bits) and successes among them (high 20 bits);
//!   - ForcedOpen, Disabled: unused.

const TAG_BITS: u32 = 3;
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

/// Which state the word is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tag {
    Closed = 0,
    Open = 1,
    HalfOpen = 2,
    ForcedOpen = 3,
    Disabled = 4,
}

/// One value of the breaker's state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Word(pub(crate) u64);

impl Word {
    /// The state a new breaker starts in: Closed, epoch 0, no failures.
    pub(crate) const INITIAL: Word = Word(0);

    fn pack(tag: Tag, epoch: u32, payload: u64) -> Word {
        debug_assert!(payload <= PAYLOAD_MASK);
        Word(
            (tag as u64)
                | ((u64::from(epoch) & EPOCH_MASK) << TAG_BITS)
                | ((payload & PAYLOAD_MASK) << PAYLOAD_SHIFT),
        )
    }

    pub(crate) fn closed(epoch: u32, failures: u64) -> Word {
        Word::pack(Tag::Closed, epoch, failures.min(PAYLOAD_MASK))
    }

    pub(crate) fn open(epoch: u32, deadline_ms: u64) -> Word {
        Word::pack(Tag::Open, epoch, deadline_ms & PAYLOAD_MASK)
    }

    pub(crate) fn half_open(epoch: u32, admitted: u32, successes: u32) -> Word {
        debug_assert!(admitted <= MAX_TRIAL_CALLS && successes <= MAX_TRIAL_CALLS);
        let payload = u64::from(admitted) | (u64::from(successes) << HALF_BITS);
        Word::pack(Tag::HalfOpen, epoch, payload)
    }

    pub(crate) fn forced_open(epoch: u32) -> Word {
        Word::pack(Tag::ForcedOpen, epoch, 0)
    }

    pub(crate) fn disabled(epoch: u32) -> Word {
        Word::pack(Tag::Disabled, epoch, 0)
    }

    #[inline(always)]
    pub(crate) fn tag(self) -> Tag {
        match self.0 & TAG_MASK {
            0 => Tag::Closed,
            1 => Tag::Open,
            2 => Tag::HalfOpen,
            3 => Tag::ForcedOpen,
            _ => Tag::Disabled,
        }
    }

    #[inline(always)]
    pub(crate) fn is_closed(self) -> bool {
        self.0 & TAG_MASK == Tag::Closed as u64
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

impl std::fmt::Debug for Word {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Word");
        d.field("tag", &self.tag()).field("epoch", &self.epoch());
        match self.tag() {
            Tag::Closed => d.field("failures", &self.failures()),
            Tag::Open => d.field("deadline_ms", &self.deadline_ms()),
            Tag::HalfOpen => d
                .field("admitted", &self.admitted())
                .field("successes", &self.successes()),
            Tag::ForcedOpen | Tag::Disabled => &mut d,
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
            (Tag::HalfOpen, 7, 3, 2)
        );
        let w = Word::closed(EPOCH_MASK as u32, 12);
        assert_eq!(
            (w.tag(), w.epoch(), w.failures()),
            (Tag::Closed, EPOCH_MASK as u32, 12)
        );
        assert_eq!(w.next_epoch(), 0, "the epoch wraps");
        let w = Word::half_open(1, MAX_TRIAL_CALLS, MAX_TRIAL_CALLS);
        assert_eq!(
            (w.admitted(), w.successes()),
            (MAX_TRIAL_CALLS, MAX_TRIAL_CALLS)
        );
        assert!(Word::INITIAL.is_closed());
        assert_eq!(Word::forced_open(2).tag(), Tag::ForcedOpen);
        assert_eq!(Word::disabled(2).tag(), Tag::Disabled);
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
    fn same_period_needs_tag_and_epoch() {
        let a = Word::closed(3, 0);
        assert!(a.same_period(Word::closed(3, 2)));
        assert!(!a.same_period(Word::closed(4, 0)));
        assert!(!a.same_period(Word::open(3, 0)));
    }
}
