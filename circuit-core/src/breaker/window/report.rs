//! What the window tells of itself: the failure and slow-call rates over it.

use super::rules::Tally;
use crate::CircuitBreaker;

/// The rates of a window at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Rates {
    pub(crate) failure: Option<f64>,
    pub(crate) slow: Option<f64>,
}

impl CircuitBreaker {
    /// The failure rate over the sliding window: failed calls / calls, or `None` when no
    /// failure-rate rule is configured or the window holds fewer than `minimum_calls` calls
    /// (no rate means anything yet). Ignored outcomes and rejections are not calls.
    ///
    /// While Open or HalfOpen it is the rate of the window that was current when the breaker
    /// last decided while Closed (usually the rate that opened it); a new Closed period starts
    /// from an empty window.
    ///
    /// ```
    /// use circuit_core::{CircuitBreaker, Config, SlidingWindow};
    ///
    /// let config = Config::builder()
    ///     .failure_rate_threshold(0.5)
    ///     .sliding_window(SlidingWindow::Count(10))
    ///     .minimum_calls(4)
    ///     .build()?;
    /// let breaker = CircuitBreaker::new("payments", config);
    /// let _ = breaker.call(|| Err::<(), _>("timeout"));
    /// assert_eq!(breaker.failure_rate(), None, "1 call, below the minimum of 4");
    /// for _ in 0..3 {
    ///     let _ = breaker.call(|| Ok::<_, &str>(()));
    /// }
    /// assert_eq!(breaker.failure_rate(), Some(0.25));
    /// # Ok::<(), circuit_core::ConfigError>(())
    /// ```
    pub fn failure_rate(&self) -> Option<f64> {
        self.window_rates().failure
    }

    /// The slow-call rate over the sliding window: calls that took at least
    /// `slow_call_duration` / calls, or `None` when calls are not timed or the window holds
    /// fewer than `minimum_calls` calls. `slow_call_duration` alone times calls and reports
    /// this rate without tripping anything.
    pub fn slow_call_rate(&self) -> Option<f64> {
        self.window_rates().slow
    }

    /// Both rates, read under one lock.
    pub(crate) fn window_rates(&self) -> Rates {
        let Some((tally, rules)) = self.window_look() else {
            return Rates::default();
        };
        Rates {
            failure: rules
                .failure_rate
                .and_then(|_| tally.rate(tally.failures, rules.minimum_calls)),
            slow: rules
                .slow_ns
                .and_then(|_| tally.rate(tally.slow, rules.minimum_calls)),
        }
    }

    /// The window's tally now, recording nothing, with its rules; `None` without a window.
    /// In the Closed period the window belongs to, at the calls counted now and the clock's
    /// reading; otherwise as the last decision left it.
    pub(super) fn window_look(&self) -> Option<(Tally, super::rules::Rules)> {
        let held = self.window.shared()?.ledger.lock();
        let ledger = held.as_ref()?;
        let w = self.load();
        let current = w.is_closed() && w.epoch() == ledger.epoch;
        let tally = if current {
            ledger.peek(
                ledger.last.max(ledger.calls(self.totals.calls())),
                self.clock.coarse_now_nanos(),
            )
        } else if w.is_closed() {
            // The period began and its transition has not reached the window yet.
            Tally::default()
        } else {
            ledger.peek(ledger.last, ledger.last_reading())
        };
        Some((tally, ledger.rules))
    }
}
