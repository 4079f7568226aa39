//! The rate rules of one breaker, as the window reads them under its lock, and the decision
//! they make over a window's tally.

use crate::clock::saturating_nanos;
use crate::config::{Config, SlidingWindow};
use crate::events::Reason;

/// The settings a window decides with, copied out of the [`Config`] when the breaker is built
/// or reconfigured, so that a decision never takes the configuration's lock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Rules {
    /// The failure-rate rule's threshold, if that rule is configured.
    pub(super) failure_rate: Option<f64>,
    /// The slow-call rule's threshold, if that rule is configured.
    pub(super) slow_rate: Option<f64>,
    /// `slow_call_duration`, if calls are timed.
    pub(super) slow_ns: Option<u64>,
    pub(super) window: SlidingWindow,
    pub(super) minimum_calls: u32,
}

impl Rules {
    pub(super) fn of(config: &Config) -> Rules {
        Rules {
            failure_rate: config.failure_rate_threshold(),
            slow_rate: config
                .slow_call_rate_threshold()
                .filter(|_| config.slow_call_duration().is_some()),
            slow_ns: config.slow_call_duration().map(saturating_nanos),
            window: config.sliding_window(),
            minimum_calls: config.minimum_calls(),
        }
    }

    /// Whether the breaker keeps a window at all: a rate rule, or calls timed to report the
    /// slow-call rate.
    pub(super) fn active(&self) -> bool {
        self.failure_rate.is_some() || self.slow_rate.is_some() || self.slow_ns.is_some()
    }

    /// Whether a rate can open the breaker.
    pub(super) fn trips(&self) -> bool {
        self.failure_rate.is_some() || self.slow_rate.is_some()
    }

    /// What the window's `tally` says.
    pub(super) fn decide(&self, tally: Tally) -> Verdict {
        let failing = self
            .failure_rate
            .is_some_and(|t| at_or_above(tally.failures, tally.calls, t));
        let slow = self
            .slow_rate
            .is_some_and(|t| at_or_above(tally.slow, tally.calls, t));
        if !failing && !slow {
            return Verdict::Below;
        }
        if tally.calls < u64::from(self.minimum_calls) {
            return Verdict::TooFewCalls;
        }
        let calls = saturate(tally.calls);
        Verdict::Trip(if failing {
            Reason::FailureRate {
                failures: saturate(tally.failures),
                calls,
            }
        } else {
            Reason::SlowCallRate {
                slow: saturate(tally.slow),
                calls,
            }
        })
    }
}

/// Whether `part / calls >= threshold`. Compared as the quotient, not as `part >= threshold *
/// calls`: the quotient of two integers is rounded as a decimal threshold is, so 3 failures in
/// 10 calls meet a threshold of 0.3 (whereas `0.3 * 10.0` is `3.0000000000000004`).
fn at_or_above(part: u64, calls: u64, threshold: f64) -> bool {
    calls != 0 && part as f64 / calls as f64 >= threshold
}

fn saturate(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The calls in a window, and the failed and slow ones among them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) calls: u64,
    pub(crate) failures: u64,
    pub(crate) slow: u64,
}

impl Tally {
    /// `part / calls`, or `None` below `minimum_calls` (no rate is meaningful yet).
    pub(super) fn rate(&self, part: u64, minimum_calls: u32) -> Option<f64> {
        (self.calls >= u64::from(minimum_calls.max(1))).then(|| part as f64 / self.calls as f64)
    }
}

/// What a window's tally says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Every configured rate is below its threshold: no success can raise it (until a time
    /// window's start moves).
    Below,
    /// A rate is at or above its threshold, but the window holds fewer than `minimum_calls`
    /// calls: the next success may reach the minimum, so successes must decide.
    TooFewCalls,
    /// Open the breaker, for this reason.
    Trip(Reason),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(failure_rate: Option<f64>, slow_rate: Option<f64>, minimum_calls: u32) -> Rules {
        Rules {
            failure_rate,
            slow_rate,
            slow_ns: slow_rate.map(|_| 1),
            window: SlidingWindow::Count(100),
            minimum_calls,
        }
    }

    fn tally(calls: u64, failures: u64, slow: u64) -> Tally {
        Tally {
            calls,
            failures,
            slow,
        }
    }

    #[test]
    fn a_decimal_threshold_is_met_exactly() {
        let r = rules(Some(0.3), None, 10);
        assert_eq!(
            r.decide(tally(10, 3, 0)),
            Verdict::Trip(Reason::FailureRate {
                failures: 3,
                calls: 10
            })
        );
        assert_eq!(r.decide(tally(11, 3, 0)), Verdict::Below);
    }

    #[test]
    fn below_the_minimum_a_high_rate_waits_for_more_calls() {
        let r = rules(Some(0.5), None, 10);
        assert_eq!(r.decide(tally(4, 4, 0)), Verdict::TooFewCalls);
        assert_eq!(r.decide(tally(4, 1, 0)), Verdict::Below);
    }

    #[test]
    fn the_slow_rate_trips_on_its_own_threshold() {
        let r = rules(Some(0.9), Some(0.5), 2);
        assert_eq!(
            r.decide(tally(4, 1, 2)),
            Verdict::Trip(Reason::SlowCallRate { slow: 2, calls: 4 })
        );
        assert_eq!(r.decide(tally(4, 1, 1)), Verdict::Below);
        assert_eq!(
            r.decide(tally(0, 0, 0)),
            Verdict::Below,
            "no calls, no rate"
        );
    }
}
