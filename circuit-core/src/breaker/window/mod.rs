//! The failure-rate and slow-call rules: the calls of a sliding window, counted without a
//! shared write on the success path.
//!
//! # Positions
//!
//! The totals already count every call on a stripe that only its thread writes
//! ([`totals`](crate::breaker::totals)). A call's *position* is the number of calls recorded
//! so far, successes and failures (ignored outcomes and rejections are not calls): the sum of
//! the stripes. A success can only lower the rates, so it needs no decision and does nothing
//! beyond what it did before: its count on its stripe. A failure, or a slow call (which
//! already took a long time), takes the cold path: under the window's lock it sums the stripes
//! for its position, records itself, drops what has left the window, and decides.
//!
//! - A **count window** of `N` calls keeps the positions of the failed calls and of the slow
//!   ones in `(position - N, position]` (a deque each, at most `N` positions of 8 bytes,
//!   allocated by the first such call). Calls in the window: `min(position - base, N)`, where
//!   `base` is the position when the Closed period began (a transition to Closed, `reset`,
//!   `reconfigure` to another window).
//! - A **time window** of period `P` is kept in [`BUCKETS`](ledger::BUCKETS) buckets of
//!   `P / 10`: each remembers the position just before its first call, and its failed and slow
//!   calls. A success reads the clock and compares it with the next bucket boundary, kept in
//!   the [`watch`](Shared::watch) word (a shared read); the first call past the boundary
//!   records the new bucket on the cold path. The window at a decision starts at the oldest
//!   boundary not older than the period: it covers between 0.9 and 1.0 of the period. Since
//!   the start moves only at a boundary, and a boundary is always recorded by a call that
//!   then decides, a rate raised by old successes leaving the window is seen at once.
//!
//! # Minimum calls reached by a success
//!
//! A decision that finds a rate at or above its threshold in a window short of
//! `minimum_calls` sets [`PENDING`] in the watch word: successes that read it set (a read, not
//! a write) take the cold path and decide, so the success that brings the window to its
//! minimum opens the breaker. A decision that finds every rate below its threshold clears it.
//!
//! # Accuracy
//!
//! A position sums the other threads' stripes with Relaxed loads, so it may miss the calls
//! still in flight on other threads: counted on their stripe but not yet visible, at most
//! one per thread (a thread counts one call at a time). It never misses a call that finished
//! before the deciding call began, and it never goes back: positions are taken under the lock,
//! each at least the one before. For the same reason a success that reaches `minimum_calls`
//! while a failure is deciding may see neither the flag nor be seen by the failure; the flag
//! is then set, and the next success decides.
//!
//! Calls are timed on the breaker's clock: the coarse system clock (one scheduler tick, 1 to
//! 10 ms depending on the kernel), or exactly on a custom clock such as a `ManualClock`. The
//! start is read at admission only when `slow_call_duration` is set, or on the precise clock
//! when the breaker records call durations (`record_call_durations`, whose histogram lives in
//! the shared part too: [`durations`](crate::breaker::durations)); then the slow check reads
//! the precise clock too, so both compare readings of one clock.

mod hooks;
mod ledger;
mod report;
mod rules;
#[cfg(all(test, not(loom)))]
mod tests;

use crate::breaker::durations::Durations;
use crate::clock::saturating_nanos;
use crate::config::Config;
use crate::sync::{AtomicPtr, AtomicU64, Mutex, Ordering};
use ledger::Ledger;
use rules::{Rules, Verdict};
use std::ptr;

#[cfg(feature = "prometheus")]
pub(crate) use report::Rates;

/// The window keeps calls: failures and slow calls go to it.
const ACTIVE: u64 = 1;
/// `slow_call_duration` is set: admission reads the clock.
const TIMED: u64 = 1 << 1;
/// A slow-call rule is configured: a slow trial counts as a failed one.
const SLOW_RULE: u64 = 1 << 2;
/// A time window: successes compare the clock with the next bucket boundary.
const TIME_WINDOW: u64 = 1 << 3;
/// A rate is at or above its threshold below `minimum_calls`: successes decide.
const PENDING: u64 = 1 << 4;
/// The breaker records call durations: admission reads the precise clock, outcomes record.
/// Kept through every `publish`, whatever the rules; set and cleared by
/// [`Window::set_durations`].
const DURATIONS: u64 = 1 << 5;
/// The flags' bits; the rest holds the next boundary, in units of `1 << FLAG_BITS` ns.
const FLAG_BITS: u32 = 8;

/// A call's start on the breaker's clock, or [`Started::UNTIMED`]: a coarse reading (for
/// `slow_call_duration` alone), or a precise one, marked by [`Started::PRECISE`], when the
/// breaker records call durations. One word either way, so the permit keeps its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Started(u64);

impl Started {
    /// Not timed: the breaker does not time its calls.
    pub(crate) const UNTIMED: Started = Started(u64::MAX);
    /// Marks a reading of the precise clock. The breaker's readings stop at the end of its
    /// time (2^40 ms, under 2^60 ns), so they never reach this bit, and no precise start is
    /// `UNTIMED`.
    const PRECISE: u64 = 1 << 62;

    /// A start read on the precise clock.
    pub(crate) fn precise(nanos: u64) -> Started {
        Started(nanos | Started::PRECISE)
    }

    fn is_timed(self) -> bool {
        self != Started::UNTIMED
    }

    fn is_precise(self) -> bool {
        self.is_timed() && self.0 & Started::PRECISE != 0
    }

    /// The reading, whichever clock gave it.
    fn nanos(self) -> u64 {
        self.0 & !Started::PRECISE
    }

    /// The reading, if it is a precise one (the call is timed for the histogram).
    pub(crate) fn precise_nanos(self) -> Option<u64> {
        self.is_precise().then(|| self.nanos())
    }
}

// The end of a breaker's time in nanoseconds stays below the precise mark.
const _: () = assert!(crate::breaker::word::END_OF_TIME_MS * 1_000_000 < Started::PRECISE);

/// A breaker's window: one pointer, null for a breaker without rate or slow-call rules, so an
/// idle default breaker grows by a word and the consecutive rule's path gains one load and one
/// branch. The part it points to is installed once (at creation, or by the first
/// `reconfigure` that brings a rule) and freed only when the breaker is dropped, like the
/// totals' stripe table, so a reader that saw it may use it for as long as it borrows the
/// breaker.
pub(crate) struct Window {
    shared: AtomicPtr<Shared>,
}

/// What a window with rules keeps.
pub(crate) struct Shared {
    /// What the call path must do, read with one Relaxed load: the flags above, and for a time
    /// window the next bucket boundary. 0 once the rules are gone and the breaker does not
    /// record durations. Written only under `ledger`'s lock.
    watch: AtomicU64,
    /// `slow_call_duration` in nanoseconds, for the success path's slow check.
    slow_ns: AtomicU64,
    /// `timeout` and `abandoned_call_duration` in nanoseconds, 0 for not configured: read by
    /// an async call the first time it waits, never on a call that finishes at once. Kept
    /// here rather than in the breaker so that a breaker without them stays its size.
    timeout_ns: AtomicU64,
    abandoned_ns: AtomicU64,
    /// The window's contents; `None` once `reconfigure` removed the rules. Taken only on cold
    /// paths: a failure, a slow call, a bucket boundary, a success while [`PENDING`], a
    /// transition to Closed, a report; and to set or clear [`DURATIONS`].
    ledger: Mutex<Option<Ledger>>,
    /// The call-duration histogram: a null pointer until the first call recorded, kept (with
    /// its counts) when recording is turned off, freed with the breaker.
    pub(crate) durations: Durations,
}

impl Window {
    pub(crate) fn new(config: &Config) -> Window {
        let window = Window {
            shared: AtomicPtr::new(ptr::null_mut()),
        };
        let rules = Rules::of(config);
        if rules.active() {
            let shared = window.install();
            let mut held = shared.ledger.lock();
            let ledger = held.insert(Ledger::new(rules, 0, 0));
            shared.publish(ledger, true);
        }
        window.set_call_limits(config);
        window.set_durations(config.record_call_durations());
        window
    }

    /// Starts or stops recording call durations, installing the shared part to hold the
    /// histogram if there is none yet. A call admitted before a change is recorded if the
    /// breaker records both when it was admitted and when it ends.
    pub(crate) fn set_durations(&self, on: bool) {
        let shared = match self.shared() {
            Some(shared) => shared,
            None if on => self.install(),
            None => return,
        };
        // The watch word is written only under the ledger's lock.
        let _held = shared.ledger.lock();
        let watch = shared.watch.load(Ordering::Relaxed);
        let watch = if on {
            watch | DURATIONS
        } else {
            watch & !DURATIONS
        };
        shared.watch.store(watch, Ordering::Relaxed);
    }

    /// Stores `timeout` and `abandoned_call_duration` for the async call path, installing the
    /// shared part if one of them is set and there is none yet.
    pub(crate) fn set_call_limits(&self, config: &Config) {
        let timeout = config.timeout().map_or(0, saturating_nanos);
        let abandoned = config.abandoned_call_duration().map_or(0, saturating_nanos);
        let shared = match self.shared() {
            Some(shared) => shared,
            None if timeout != 0 || abandoned != 0 => self.install(),
            None => return,
        };
        shared.timeout_ns.store(timeout, Ordering::Relaxed);
        shared.abandoned_ns.store(abandoned, Ordering::Relaxed);
    }

    /// `(timeout, abandoned_call_duration)` in nanoseconds, 0 for not configured.
    #[inline]
    pub(crate) fn call_limits(&self) -> (u64, u64) {
        self.shared().map_or((0, 0), |s| {
            (
                s.timeout_ns.load(Ordering::Relaxed),
                s.abandoned_ns.load(Ordering::Relaxed),
            )
        })
    }

    /// `abandoned_call_duration` in nanoseconds, 0 for not configured.
    #[inline]
    pub(crate) fn abandoned_ns(&self) -> u64 {
        self.shared()
            .map_or(0, |s| s.abandoned_ns.load(Ordering::Relaxed))
    }

    /// The shared part, if one was ever installed.
    #[inline(always)]
    pub(crate) fn shared(&self) -> Option<&Shared> {
        // Acquire pairs with `install`'s Release: the part's fields are initialised.
        let p = self.shared.load(Ordering::Acquire);
        // SAFETY: a non-null pointer came from `Box::into_raw` in `install` and is freed only
        // by `drop`, which `&self` rules out while the borrow lasts.
        unsafe { p.as_ref() }
    }

    /// The watch word; 0 without rules or recording.
    #[inline(always)]
    pub(crate) fn watch(&self) -> u64 {
        self.shared().map_or(0, |s| s.watch.load(Ordering::Relaxed))
    }

    /// The shared part, installed now if there was none (an empty ledger, nothing to watch).
    pub(crate) fn install(&self) -> &Shared {
        if let Some(shared) = self.shared() {
            return shared;
        }
        let fresh = Box::into_raw(Box::new(Shared {
            watch: AtomicU64::new(0),
            slow_ns: AtomicU64::new(u64::MAX),
            timeout_ns: AtomicU64::new(0),
            abandoned_ns: AtomicU64::new(0),
            ledger: Mutex::new(None),
            durations: Durations::new(),
        }));
        match self.shared.compare_exchange(
            ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: just installed; see `shared`.
            Ok(_) => unsafe { &*fresh },
            Err(installed) => {
                // SAFETY: `fresh` was never shared; `installed` lives as `shared` says.
                unsafe {
                    drop(Box::from_raw(fresh));
                    &*installed
                }
            }
        }
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        let p = self.shared.load(Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: installed by `install` from `Box::into_raw`, and no borrow of the breaker
            // is left.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

impl Shared {
    /// Whether the breaker records call durations now.
    pub(crate) fn records_durations(&self) -> bool {
        self.watch.load(Ordering::Relaxed) & DURATIONS != 0
    }

    /// The watch word's flags that are not the rules': [`DURATIONS`]. Called under the
    /// ledger's lock, which every writer of the watch word holds.
    fn kept_flags(&self) -> u64 {
        self.watch.load(Ordering::Relaxed) & DURATIONS
    }

    /// Stores the watch word for `ledger`: its rules' flags, [`PENDING`] if `pending`, and a
    /// time window's next boundary; and the slow-call duration the success path compares with.
    /// Called under the ledger's lock.
    fn publish(&self, ledger: &Ledger, pending: bool) {
        let rules = &ledger.rules;
        let mut watch = ACTIVE | self.kept_flags();
        if rules.slow_ns.is_some() {
            watch |= TIMED;
        }
        if rules.slow_rate.is_some() {
            watch |= SLOW_RULE;
        }
        if pending && rules.trips() {
            watch |= PENDING;
        }
        if let Some(boundary) = ledger.next_boundary_ns() {
            // Rounded down: a call at or past the boundary always sees it crossed (one at the
            // very boundary belongs to the new bucket). One up to a unit (256 ns) early takes
            // the cold path for nothing: its record finds the same bucket from the exact time.
            let units = boundary >> FLAG_BITS;
            watch |= TIME_WINDOW | units.min(u64::MAX >> FLAG_BITS) << FLAG_BITS;
        }
        self.slow_ns
            .store(rules.slow_ns.unwrap_or(u64::MAX), Ordering::Relaxed);
        self.watch.store(watch, Ordering::Relaxed);
    }

    /// [`publish`](Self::publish) after a decision.
    fn publish_verdict(&self, ledger: &Ledger, verdict: Verdict) {
        self.publish(ledger, verdict == Verdict::TooFewCalls);
    }
}

/// The consecutive-failure threshold the call path compares with: `failure_threshold` while
/// the consecutive rule trips the breaker, else never reached (the word still counts
/// consecutive failures, for the snapshot).
pub(crate) fn consecutive_threshold(config: &Config) -> u64 {
    if config.trips_on_consecutive_failures() {
        u64::from(config.failure_threshold)
    } else {
        u64::MAX
    }
}

impl std::fmt::Debug for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Window")
            .field("watch", &self.watch())
            .finish_non_exhaustive()
    }
}
