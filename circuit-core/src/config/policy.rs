//! [`Backoff`]: how long each Open period lasts, the `backoff` setting (its [`Growth`]) and
//! the `jitter` setting together. The sliding window a rate is measured over
//! ([`SlidingWindow`]) and [`Growth`] live in the table of settings, which the attribute
//! compiles too.

use crate::config::table::Growth;
use std::time::Duration;

/// How long each Open period lasts: `recovery_timeout` the first time, then, for each
/// consecutive re-opening (a HalfOpen period that failed), as the backoff says. A breaker that
/// closes starts again from `recovery_timeout`.
///
/// In the attribute, the environment and files it is two settings: `backoff` (`"constant"`
/// or `"exponential(2, 5m)"`) and `jitter` (`0.2`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    pub(crate) growth: Growth,
    pub(crate) jitter: f64,
}

impl Backoff {
    /// Every Open period lasts `recovery_timeout` (the default).
    pub const fn constant() -> Backoff {
        Backoff {
            growth: Growth::Constant,
            jitter: 0.0,
        }
    }

    /// Each consecutive re-opening multiplies the period by `multiplier`, up to `max`.
    /// [`ConfigBuilder::build`](crate::ConfigBuilder::build) refuses a multiplier below 1 or
    /// not finite, and a `max` of zero, above 365 days or shorter than `recovery_timeout`.
    pub const fn exponential(multiplier: f64, max: Duration) -> Backoff {
        Backoff {
            growth: Growth::Exponential { multiplier, max },
            jitter: 0.0,
        }
    }

    /// Spreads each period at random by up to `ratio` of it, so that instances that opened
    /// together do not all try again at the same moment. A ratio of at least 0 and below 1;
    /// [`ConfigBuilder::build`](crate::ConfigBuilder::build) refuses others.
    pub const fn with_jitter(self, ratio: f64) -> Backoff {
        Backoff {
            growth: self.growth,
            jitter: ratio,
        }
    }

    /// The same backoff with this growth, its jitter kept.
    pub const fn with_growth(self, growth: Growth) -> Backoff {
        Backoff {
            growth,
            jitter: self.jitter,
        }
    }

    /// How the period grows: the `backoff` setting's value.
    pub fn growth(&self) -> Growth {
        self.growth
    }

    /// The multiplier of an exponential backoff; `None` for a constant one.
    pub fn multiplier(&self) -> Option<f64> {
        match self.growth {
            Growth::Constant => None,
            Growth::Exponential { multiplier, .. } => Some(multiplier),
        }
    }

    /// The longest period of an exponential backoff; `None` for a constant one.
    pub fn max(&self) -> Option<Duration> {
        match self.growth {
            Growth::Constant => None,
            Growth::Exponential { max, .. } => Some(max),
        }
    }

    /// The ratio of random spread (0 for none): the `jitter` setting's value.
    pub fn jitter(&self) -> f64 {
        self.jitter
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::constant()
    }
}
