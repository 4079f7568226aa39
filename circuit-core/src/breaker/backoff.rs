//! How long each Open period lasts, and the cell beside the state word that remembers it.
//!
//! # The period
//!
//! The `k`-th consecutive re-opening (a HalfOpen period that failed, by a trial, by
//! `half_open_max_wait` or by a Retry-After) opens the breaker for
//!
//! ```text
//! p = max(recovery_timeout, min(recovery_timeout * multiplier^k, max))     (exponential)
//! p = recovery_timeout                                                      (constant)
//! ```
//!
//! and a jitter ratio `j` (clamped to `[0, 1]`) then draws the period uniformly from
//! `[p, p * (1 + j)]`. The spread is upward only: no Open period ends before
//! `recovery_timeout` has passed (the design's promise about deadlines), and none is zero. An
//! opening from Closed has `k = 0`; so a breaker that closes, or is reset, starts again from
//! `recovery_timeout` without anyone clearing a counter. A Retry-After opening lasts
//! `max(D, its own period)`. Every period is at most [`MAX_RECOVERY_TIMEOUT`] (365 days).
//!
//! # The cell
//!
//! The word's Open payload is the deadline; there is no room for `k` or the period's length,
//! so [`Periods`] keeps them beside it, stamped with the epoch of the Open word they belong to:
//!
//! ```text
//! | epoch: 21 | reopenings: 7 | metrics_only: 1 | period_ms: 35 |
//! ```
//!
//! `period_ms` is the period rounded up to the millisecond: an upper bound of the Open
//! period's length, which caps what `retry_after` reports on the coarse clock (whose reading
//! may lag by its slack). `reopenings` is `k`, saturating at 127 (and not counted further once
//! the period has reached `max`). The metrics-only flag lives here too, because the one path
//! that reads it, the rejection path, reads this cell anyway.
//!
//! Protocol. The openers of one Open period (several calls may trip the breaker at once) agree
//! on `k` and publish the period *before* the compare-and-swap that installs the Open word, so
//! that whoever sees the word with Acquire finds its cell:
//!
//! 1. read the cell; if it is already stamped for the new epoch, another opener got there
//!    first: take its `k`. Otherwise `k` is 0 from Closed, and from HalfOpen one more than the
//!    `k` stamped for the Open period before it (0 if that stamp is gone).
//! 2. compute this opener's exact period (nanoseconds; it is what the deadline uses);
//! 3. raise the cell's `period_ms` to at least this period, by compare-and-swap (every write
//!    keeps the metrics-only flag it read). The cell's period only grows during the race, so
//!    whichever opener wins the word, its period is at most what the cell says.
//!
//! `reconfigure`, which restarts an Open period within its epoch, stamps the larger of the
//! old and new periods before its swap and the new one after it, so no reader ever pairs a
//! word with a cap shorter than its period. A reader that finds no stamp for its Open word
//! caps nothing: `retry_after` may then overstate by the coarse clock's slack, never
//! understate.

use crate::breaker::word::Word;
use crate::config::{Backoff, MAX_RECOVERY_TIMEOUT};
use crate::sync::{AtomicU64, Ordering};
use crate::State;
use std::time::Duration;

const EPOCH_BITS: u32 = 21;
const EPOCH_MASK: u64 = (1 << EPOCH_BITS) - 1;
const K_BITS: u32 = 7;
const K_SHIFT: u32 = EPOCH_BITS;
const K_MASK: u64 = (1 << K_BITS) - 1;
const FLAG_SHIFT: u32 = EPOCH_BITS + K_BITS;
const FLAG: u64 = 1 << FLAG_SHIFT;
const PERIOD_SHIFT: u32 = FLAG_SHIFT + 1;
const PERIOD_MASK: u64 = (1 << (64 - PERIOD_SHIFT)) - 1;

/// The most consecutive re-openings counted.
pub(crate) const MAX_REOPENINGS: u32 = K_MASK as u32;

const NANOS_PER_MS: u64 = 1_000_000;

/// One value of the cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp(u64);

impl Stamp {
    fn pack(epoch: u32, k: u32, metrics_only: bool, period_ms: u64) -> Stamp {
        Stamp(
            (u64::from(epoch) & EPOCH_MASK)
                | u64::from(k.min(MAX_REOPENINGS)) << K_SHIFT
                | if metrics_only { FLAG } else { 0 }
                | period_ms.min(PERIOD_MASK) << PERIOD_SHIFT,
        )
    }

    fn epoch(self) -> u32 {
        (self.0 & EPOCH_MASK) as u32
    }

    /// The consecutive re-openings of the period stamped.
    pub(crate) fn reopenings(self) -> u32 {
        ((self.0 >> K_SHIFT) & K_MASK) as u32
    }

    /// Whether the breaker is in metrics-only mode.
    #[inline(always)]
    pub(crate) fn metrics_only(self) -> bool {
        self.0 & FLAG != 0
    }

    fn period_ms(self) -> u64 {
        self.0 >> PERIOD_SHIFT
    }

    /// Whether this stamp belongs to the Open period of `epoch` (0 ms means never stamped).
    fn is_for(self, epoch: u32) -> bool {
        self.epoch() == epoch && self.period_ms() != 0
    }

    /// The longest the Open period of `open` can last, in nanoseconds, if this stamp is its.
    #[inline(always)]
    pub(crate) fn cap_ns(self, open: Word) -> Option<u64> {
        self.is_for(open.epoch())
            .then(|| self.period_ms().saturating_mul(NANOS_PER_MS))
    }

    /// The re-openings stamped for the Open period of `epoch`, if the stamp is its.
    pub(crate) fn reopenings_of(self, epoch: u32) -> Option<u32> {
        self.is_for(epoch).then(|| self.reopenings())
    }

    fn with_flag(self, metrics_only: bool) -> Stamp {
        Stamp(if metrics_only {
            self.0 | FLAG
        } else {
            self.0 & !FLAG
        })
    }
}

/// The Open period's re-opening count and length, and the metrics-only flag, beside the word.
#[derive(Debug)]
pub(crate) struct Periods(AtomicU64);

impl Periods {
    pub(crate) fn new() -> Self {
        Periods(AtomicU64::new(0))
    }

    /// The cell now. Relaxed is enough for a reader that loaded the Open word with Acquire: the
    /// stamp was written before the word's Release swap.
    #[inline(always)]
    pub(crate) fn load(&self) -> Stamp {
        Stamp(self.0.load(Ordering::Relaxed))
    }

    /// The cell for an opener: Acquire, so that a stamp another opener published is read with
    /// whatever it read.
    fn load_acquire(&self) -> Stamp {
        Stamp(self.0.load(Ordering::Acquire))
    }

    fn cas(&self, from: Stamp, to: Stamp) -> Result<(), Stamp> {
        self.0
            .compare_exchange(from.0, to.0, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(Stamp)
    }

    /// Turns metrics-only mode on or off; returns whether it was on.
    pub(crate) fn set_metrics_only(&self, on: bool) -> bool {
        let before = if on {
            self.0.fetch_or(FLAG, Ordering::AcqRel)
        } else {
            self.0.fetch_and(!FLAG, Ordering::AcqRel)
        };
        before & FLAG != 0
    }

    /// Step 1 and 3 of the protocol for an opening into `epoch` from `from`: the re-openings
    /// `k` of the new period, and, once `period(k)` is known, the cell raised to cover it.
    /// `capped(k)` says whether `k` re-openings already reach the backoff's cap (then the
    /// count stays). Returns `k` and the exact period to install.
    pub(crate) fn claim(
        &self,
        from: Word,
        epoch: u32,
        capped: impl Fn(u32) -> bool,
        mut period: impl FnMut(u32) -> Duration,
    ) -> (u32, Duration) {
        let mut held = self.load_acquire();
        loop {
            if is_later(held.epoch(), epoch) && held.period_ms() != 0 {
                // The word has moved past the period being opened: this opener has lost its
                // race (its swap will fail) and must not stamp over a later period.
                return (0, period(0));
            }
            let k = if held.is_for(epoch) {
                held.reopenings()
            } else if from.tag() == State::HalfOpen {
                let before = epoch_before(from.epoch());
                held.reopenings_of(before).map_or(0, |k| {
                    if capped(k) {
                        k
                    } else {
                        k.saturating_add(1).min(MAX_REOPENINGS)
                    }
                })
            } else {
                0
            };
            let exact = period(k);
            let ms = ms_up(exact);
            if held.is_for(epoch) && held.period_ms() >= ms {
                return (k, exact);
            }
            let raised = Stamp::pack(epoch, k, held.metrics_only(), ms);
            match self.cas(held, raised) {
                Ok(()) => return (k, exact),
                Err(actual) => held = actual,
            }
        }
    }

    /// For `reconfigure`'s restart of the Open period `open` with `new` (same epoch): before
    /// the swap, a stamp covering both the old period and the new one. Returns it.
    pub(crate) fn cover(&self, open: Word, k: u32, new: Duration) -> Stamp {
        let mut held = self.load_acquire();
        loop {
            let old_ms = held
                .cap_ns(open)
                .map_or(PERIOD_MASK, |ns| ns / NANOS_PER_MS);
            let stamp = Stamp::pack(open.epoch(), k, held.metrics_only(), old_ms.max(ms_up(new)));
            match self.cas(held, stamp) {
                Ok(()) => return stamp,
                Err(actual) => held = actual,
            }
        }
    }

    /// After `reconfigure`'s swap: the exact new period, over the covering stamp only (the flag
    /// as it is now).
    pub(crate) fn settle(&self, covering: Stamp, new: Duration) {
        let mut held = covering;
        loop {
            if held.with_flag(false) != covering.with_flag(false) {
                return; // an opening of a later period has stamped since
            }
            let exact = Stamp::pack(
                covering.epoch(),
                covering.reopenings(),
                held.metrics_only(),
                ms_up(new),
            );
            match self.cas(held, exact) {
                Ok(()) => return,
                Err(actual) => held = actual,
            }
        }
    }
}

/// The multiplier and cap of an exponential backoff; `None` for a constant one.
fn backoff_parts(backoff: &Backoff) -> Option<(f64, Duration)> {
    backoff.multiplier().zip(backoff.max())
}

/// The epoch before `epoch`, with the word's wrap-around.
fn epoch_before(epoch: u32) -> u32 {
    ((u64::from(epoch) + EPOCH_MASK) & EPOCH_MASK) as u32
}

/// Whether `epoch` is later than `than` (within half the epoch's range, the only distances that
/// occur while one opener is between its reads).
fn is_later(epoch: u32, than: u32) -> bool {
    let ahead = u64::from(epoch).wrapping_sub(u64::from(than)) & EPOCH_MASK;
    ahead != 0 && ahead < 1 << (EPOCH_BITS - 1)
}

/// `d` in whole milliseconds, rounded up, at least 1.
fn ms_up(d: Duration) -> u64 {
    crate::clock::saturating_nanos(d)
        .div_ceil(NANOS_PER_MS)
        .max(1)
}

/// The period before jitter for `k` consecutive re-openings.
pub(crate) fn base_period(timeout: Duration, backoff: &Backoff, k: u32) -> Duration {
    let Some((multiplier, max)) = backoff_parts(backoff) else {
        return timeout.min(MAX_RECOVERY_TIMEOUT);
    };
    let grown = timeout.as_secs_f64() * multiplier.powi(k.min(i32::MAX as u32) as i32);
    let capped = if grown.is_finite() && grown < max.as_secs_f64() {
        Duration::from_secs_f64(grown.max(0.0))
    } else {
        max
    };
    capped.max(timeout).min(MAX_RECOVERY_TIMEOUT)
}

/// Whether the period for `k` has reached the backoff's cap (counting further changes nothing).
pub(crate) fn at_cap(timeout: Duration, backoff: &Backoff, k: u32) -> bool {
    match backoff_parts(backoff) {
        None => true,
        Some((_, max)) => base_period(timeout, backoff, k) >= max.max(timeout),
    }
}

/// The jitter ratio, clamped to `[0, 1]` (NaN reads as none).
pub(crate) fn jitter_ratio(backoff: &Backoff) -> f64 {
    let j = backoff.jitter();
    if j.is_nan() {
        0.0
    } else {
        j.clamp(0.0, 1.0)
    }
}

/// The longest period `k` re-openings can give: the base with the whole jitter.
pub(crate) fn longest_period(timeout: Duration, backoff: &Backoff, k: u32) -> Duration {
    let base = base_period(timeout, backoff, k);
    base.mul_f64(1.0 + jitter_ratio(backoff))
        .min(MAX_RECOVERY_TIMEOUT)
}

/// The period for `k` re-openings, with `unit` (in `[0, 1)`) drawn for its jitter:
/// `base * (1 + j * unit)`, never beyond [`MAX_RECOVERY_TIMEOUT`].
pub(crate) fn jittered_period(timeout: Duration, backoff: &Backoff, k: u32, unit: f64) -> Duration {
    let base = base_period(timeout, backoff, k);
    let j = jitter_ratio(backoff);
    if j == 0.0 {
        return base;
    }
    let spread = base.mul_f64(j * unit.clamp(0.0, 1.0));
    base.saturating_add(spread).min(MAX_RECOVERY_TIMEOUT)
}

/// A uniform draw from `[0, 1)`: a xorshift64* per thread, seeded from std's `RandomState`
/// (random per process and per thread), so instances that opened together draw differently.
/// Only jittered periods draw; no lock and no shared state.
pub(crate) fn unit_draw() -> f64 {
    use std::cell::Cell;
    use std::hash::{BuildHasher, Hasher};
    thread_local! {
        static STATE: Cell<u64> = const { Cell::new(0) };
    }
    STATE.with(|state| {
        let mut x = state.get();
        if x == 0 {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(state as *const Cell<u64> as usize);
            x = h.finish() | 1;
        }
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        // The top 53 bits of the scrambled state, as a fraction.
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn exponential_grows_from_the_timeout_to_the_cap() {
        let b = Backoff::exponential(2.0, Duration::from_secs(10));
        let periods: Vec<_> = (0..6).map(|k| base_period(S, &b, k)).collect();
        assert_eq!(periods, [1, 2, 4, 8, 10, 10].map(Duration::from_secs));
        assert!(!at_cap(S, &b, 3) && at_cap(S, &b, 4));
        assert_eq!(base_period(S, &b, u32::MAX), Duration::from_secs(10));
        // A cap below the timeout means no growth, never a period shorter than the timeout.
        let low = Backoff::exponential(2.0, Duration::from_millis(10));
        assert_eq!(base_period(S, &low, 3), S);
        assert_eq!(base_period(S, &Backoff::constant(), 9), S);
    }

    #[test]
    fn jitter_spreads_upward_within_its_ratio() {
        let b = Backoff::constant().with_jitter(0.5);
        assert_eq!(jittered_period(S, &b, 0, 0.0), S);
        assert_eq!(jittered_period(S, &b, 0, 0.5), Duration::from_millis(1250));
        assert!(jittered_period(S, &b, 0, 0.999_999) < Duration::from_millis(1500));
        assert_eq!(longest_period(S, &b, 0), Duration::from_millis(1500));
        let wild = Backoff::constant().with_jitter(7.0);
        assert_eq!(
            longest_period(S, &wild, 0),
            2 * S,
            "the ratio is clamped to 1"
        );
        for _ in 0..1000 {
            let u = unit_draw();
            assert!((0.0..1.0).contains(&u));
        }
    }

    #[test]
    fn a_claim_counts_reopenings_and_covers_each_openers_period() {
        let cell = Periods::new();
        let closed = Word::closed(0, 4);
        let (k, p) = cell.claim(closed, 1, |_| false, |k| S * (k + 1));
        assert_eq!((k, p), (0, S));
        assert_eq!(cell.load().cap_ns(Word::open(1, 0)), Some(1_000_000_000));
        // A racer into the same epoch takes the same k and may only raise the period.
        let (k, _) = cell.claim(closed, 1, |_| false, |_| 2 * S);
        assert_eq!(k, 0);
        assert_eq!(cell.load().cap_ns(Word::open(1, 0)), Some(2_000_000_000));
        let (k, _) = cell.claim(closed, 1, |_| false, |_| S / 2);
        assert_eq!((k, cell.load().period_ms()), (0, 2000));
        // From the HalfOpen period after it: one more re-opening.
        let half_open = Word::half_open(2, 1, 0);
        let (k, _) = cell.claim(half_open, 3, |_| false, |_| S);
        assert_eq!(k, 1);
        assert_eq!(cell.load().reopenings_of(3), Some(1));
        assert_eq!(cell.load().cap_ns(Word::open(1, 0)), None, "another period");
    }

    #[test]
    fn the_flag_survives_every_stamp() {
        let cell = Periods::new();
        assert!(!cell.set_metrics_only(true));
        cell.claim(Word::closed(0, 0), 1, |_| false, |_| S);
        assert!(cell.load().metrics_only());
        let open = Word::open(1, 5);
        let covering = cell.cover(open, 0, S / 2);
        assert_eq!(covering.period_ms(), 1000, "covers the longer, old period");
        cell.settle(covering, S / 2);
        assert_eq!(cell.load().cap_ns(open), Some(500_000_000));
        assert!(cell.set_metrics_only(false));
        assert!(!cell.load().metrics_only());
        let last = Stamp::pack(
            EPOCH_MASK as u32,
            500,
            true,
            MAX_RECOVERY_TIMEOUT.as_millis() as u64,
        );
        assert_eq!(last.reopenings(), MAX_REOPENINGS);
        assert_eq!(
            u128::from(last.period_ms()),
            MAX_RECOVERY_TIMEOUT.as_millis(),
            "365 days fit"
        );
    }
}
