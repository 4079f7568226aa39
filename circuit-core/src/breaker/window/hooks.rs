//! Where the breaker's paths reach the window: admission (a timed call's start), outcomes
//! (a success's watch, a failure's decision, a call's duration), transitions to Closed (a
//! fresh window) and `reconfigure` (new rules).

use super::ledger::{Ledger, Mark};
use super::rules::{Rules, Verdict};
use super::{Started, ACTIVE, DURATIONS, FLAG_BITS, PENDING, SLOW_RULE, TIMED, TIME_WINDOW};
use crate::breaker::durations::Class;
use crate::breaker::totals::Total;
use crate::breaker::word::Word;
use crate::config::Config;
use crate::sync::Ordering;
use crate::CircuitBreaker;

impl CircuitBreaker {
    /// A call's start, read at admission only when the breaker times its calls: for the
    /// duration histogram on the precise clock, for `slow_call_duration` alone on the coarse
    /// one. One test of the flags admission reads anyway, whichever it is.
    #[inline(always)]
    pub(crate) fn start_timing(&self) -> Started {
        let watch = self.window.watch();
        if watch & (TIMED | DURATIONS) == 0 {
            return Started::UNTIMED;
        }
        self.start_now(watch)
    }

    /// Out of line: reading a (possibly custom) clock would bloat every call site.
    #[inline(never)]
    fn start_now(&self, watch: u64) -> Started {
        if watch & DURATIONS != 0 {
            Started::precise(self.clock.now_nanos())
        } else {
            Started(self.clock.coarse_now_nanos())
        }
    }

    /// When a timed call ended, on the clock its start was read on; `None` for a call not
    /// timed.
    pub(crate) fn ended(&self, started: Started) -> Option<u64> {
        if !started.is_timed() {
            None
        } else if started.is_precise() {
            Some(self.clock.now_nanos())
        } else {
            Some(self.clock.coarse_now_nanos())
        }
    }

    /// Whether a call that began at `started` and ended at `now_ns` (from
    /// [`ended`](Self::ended)) was slow; `false` for a call not timed.
    #[inline]
    fn took_long(&self, started: Started, now_ns: Option<u64>) -> bool {
        let Some(now_ns) = now_ns else {
            return false;
        };
        let slow_ns = self
            .window
            .shared()
            .map_or(u64::MAX, |s| s.slow_ns.load(Ordering::Relaxed));
        now_ns.saturating_sub(started.nanos()) >= slow_ns
    }

    /// After a Closed success's count: what the window needs of it. Nothing while the watch
    /// word is 0 (no window, no recording); else its duration is recorded, and a slow call, a
    /// new time bucket or a pending minimum sends it to [`decide`](Self::window_decide).
    /// `now` is the state word the success path loaded after counting the call; `class`
    /// what it is timed as (a success, or an excluded error).
    #[inline(always)]
    pub(crate) fn window_after_success(
        &self,
        admitted: Word,
        started: Started,
        now: Word,
        class: Class,
    ) {
        let watch = self.window.watch();
        if watch != 0 {
            self.window_success(admitted, started, watch, admitted.same_period(now), class);
        }
    }

    /// A success that came back after its period ended (admitted Closed or HalfOpen), ended
    /// at `now_ns`: it moves nothing, so no window counts it; it still counts as slow if it
    /// was.
    #[cold]
    pub(crate) fn window_stale(&self, started: Started, now_ns: Option<u64>) {
        if self.took_long(started, now_ns) {
            self.totals.add(Total::Slow);
        }
        if self.window.watch() & ACTIVE != 0 {
            self.window_count_stale();
        }
    }

    /// Counts a result too late for its period in the ledger, if there is one.
    #[cold]
    fn window_count_stale(&self) {
        if let Some(shared) = self.window.shared() {
            if let Some(ledger) = shared.ledger.lock().as_mut() {
                ledger.stale += 1;
            }
        }
    }

    /// Out of line, so a breaker without rules pays only the null check at each call site.
    #[inline(never)]
    fn window_success(
        &self,
        admitted: Word,
        started: Started,
        watch: u64,
        current: bool,
        class: Class,
    ) {
        let mut now = self.ended(started);
        self.record_duration(class, started, now);
        if !current {
            return self.window_stale(started, now);
        }
        let slow = self.took_long(started, now);
        let crossed = watch & TIME_WINDOW != 0 && {
            let n = *now.get_or_insert_with(|| self.clock.coarse_now_nanos());
            n >> FLAG_BITS >= watch >> FLAG_BITS
        };
        if slow || crossed || watch & PENDING != 0 {
            self.window_decide(
                admitted,
                Mark {
                    failed: false,
                    slow,
                },
                now,
            );
        }
    }

    /// A HalfOpen trial's success, ended at `now_ns`: whether it was slow under a slow-call
    /// rule, and so counts as a failed trial. Counts it as slow if it was.
    pub(crate) fn slow_trial(&self, started: Started, now_ns: Option<u64>) -> bool {
        let slow = self.took_long(started, now_ns);
        if slow {
            self.totals.add(Total::Slow);
        }
        slow && self.window.watch() & SLOW_RULE != 0
    }

    /// A failure's part in the window, before the consecutive rule looks at it: records its
    /// duration, records it in the window (and whether it was slow) and decides, while
    /// Closed; counts a slow failure in any state.
    #[cold]
    pub(crate) fn window_after_failure(&self, admitted: Word, started: Started) {
        let now = self.ended(started);
        self.record_duration(Class::Failure, started, now);
        let slow = self.took_long(started, now);
        if slow {
            self.totals.add(Total::Slow);
        }
        let watch = self.window.watch();
        if watch & ACTIVE == 0 {
            return;
        }
        if admitted.is_closed() {
            self.window_decide(admitted, Mark { failed: true, slow }, now);
        } else if !admitted.same_period(self.load()) {
            self.window_count_stale();
        }
    }

    /// The cold path of a Closed call: under the window's lock, records it at its position,
    /// decides, and publishes what the success path must watch; then, outside the lock, opens
    /// the breaker if a rate says so.
    #[cold]
    #[inline(never)]
    fn window_decide(&self, admitted: Word, mark: Mark, now: Option<u64>) {
        if mark.slow && !mark.failed {
            self.totals.add(Total::Slow);
        }
        let Some(shared) = self.window.shared() else {
            return;
        };
        let verdict = {
            let mut held = shared.ledger.lock();
            let Some(ledger) = held.as_mut() else {
                return;
            };
            // A result from an earlier period is counted in the totals and moves nothing.
            if !admitted.same_period(self.load()) {
                ledger.stale += 1;
                return;
            }
            let counted = self.totals.calls();
            if ledger.epoch != admitted.epoch() {
                // The period began and its transition has not reached the window yet: start
                // it here, just before this call.
                ledger.clear(admitted.epoch(), ledger.calls(counted).saturating_sub(1));
            }
            let pos = ledger.position(counted);
            // Only a time window needs the time: a count window's decision reads no clock.
            let now_ns = match now {
                Some(n) => n,
                None if ledger.timed_window() => self.clock.coarse_now_nanos(),
                None => 0,
            };
            let tally = ledger.record(pos, now_ns, mark);
            let verdict = ledger.rules.decide(tally);
            shared.publish_verdict(ledger, verdict);
            verdict
        };
        if let Verdict::Trip(reason) = verdict {
            let mut w = self.load();
            while admitted.same_period(w) {
                match self.open(w, reason) {
                    Ok(()) => return,
                    Err(actual) => w = actual,
                }
            }
        }
    }

    /// A Closed period begins with `closed` (a trial success, `reset`, `reconfigure`): its
    /// window starts empty, at the calls counted now.
    pub(crate) fn window_period_began(&self, closed: Word) {
        if self.window.watch() & ACTIVE == 0 {
            return;
        }
        let Some(shared) = self.window.shared() else {
            return;
        };
        let mut held = shared.ledger.lock();
        if let Some(ledger) = held.as_mut() {
            if ledger.epoch != closed.epoch() {
                ledger.clear(closed.epoch(), ledger.calls(self.totals.calls()));
                shared.publish(ledger, false);
            }
        }
    }

    /// New rules from `reconfigure`: a window is made, kept (the same window, new thresholds)
    /// or started afresh (another window), or dropped (no rate rule and no timing left).
    pub(crate) fn window_reconfigured(&self, config: &Config) {
        let rules = Rules::of(config);
        let shared = match self.window.shared() {
            Some(shared) => shared,
            None if rules.active() => self.window.install(),
            // No rules before or after: nothing to keep.
            None => return,
        };
        let mut held = shared.ledger.lock();
        if !rules.active() {
            *held = None;
            shared.watch.store(shared.kept_flags(), Ordering::Relaxed);
            shared.slow_ns.store(u64::MAX, Ordering::Relaxed);
            return;
        }
        let counted = self.totals.calls();
        let ledger = held.get_or_insert_with(|| Ledger::new(rules, self.load().epoch(), counted));
        ledger.set_rules(rules, ledger.calls(counted));
        // New thresholds may put a rate over its line below the minimum: let the next success
        // decide (it clears the flag if not).
        shared.publish(ledger, true);
    }
}
