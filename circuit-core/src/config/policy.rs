//! The values of the trip policies that are more than a number: the sliding window a rate is
//! measured over ([`SlidingWindow`]) and how the open period grows with each re-opening
//! ([`Backoff`]).

use std::time::Duration;

/// The calls a failure rate or slow-call rate is measured over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlidingWindow {
    /// The last this many calls.
    Count(u32),
    /// The calls of the last period.
    Time(Duration),
}

impl Default for SlidingWindow {
    /// The last 100 calls, as resilience4j.
    fn default() -> Self {
        SlidingWindow::Count(100)
    }
}

/// How long each Open period lasts: `recovery_timeout` the first time, then, for each
/// consecutive re-opening (a HalfOpen period that failed), as the backoff says. A breaker that
/// closes starts again from `recovery_timeout`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    pub(crate) shape: Shape,
    pub(crate) jitter: f64,
}

/// How the period grows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Shape {
    /// Every period is `recovery_timeout`.
    Constant,
    /// Each period is `multiplier` times the last, up to `max`.
    Exponential { multiplier: f64, max: Duration },
}

impl Backoff {
    /// Every Open period lasts `recovery_timeout` (the default).
    pub const fn constant() -> Backoff {
        Backoff {
            shape: Shape::Constant,
            jitter: 0.0,
        }
    }

    /// Each consecutive re-opening multiplies the period by `multiplier`, up to `max`.
    pub const fn exponential(multiplier: f64, max: Duration) -> Backoff {
        Backoff {
            shape: Shape::Exponential { multiplier, max },
            jitter: 0.0,
        }
    }

    /// Spreads each period at random by up to `ratio` of it, so that instances that opened
    /// together do not all try again at the same moment.
    pub const fn with_jitter(self, ratio: f64) -> Backoff {
        Backoff {
            shape: self.shape,
            jitter: ratio,
        }
    }

    /// The multiplier of an exponential backoff; `None` for a constant one.
    pub fn multiplier(&self) -> Option<f64> {
        match self.shape {
            Shape::Constant => None,
            Shape::Exponential { multiplier, .. } => Some(multiplier),
        }
    }

    /// The longest period of an exponential backoff; `None` for a constant one.
    pub fn max(&self) -> Option<Duration> {
        match self.shape {
            Shape::Constant => None,
            Shape::Exponential { max, .. } => Some(max),
        }
    }

    /// The ratio of random spread (0 for none).
    pub fn jitter(&self) -> f64 {
        self.jitter
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::constant()
    }
}
