//! The settings `typed_settings!` does not write: `minimum_calls`, which has an effective
//! value when no source gives it, and `backoff` and `jitter`, the two halves of the one
//! [`Backoff`] that `ConfigBuilder::backoff` takes.

use crate::config::{Backoff, Config, ConfigBuilder, Setting, SlidingWindow, Value};

/// The `minimum_calls` of a breaker that does not set it: resilience4j's 100, or a count
/// window's size when that is smaller.
pub const DEFAULT_MINIMUM_CALLS: u32 = 100;

impl Config {
    /// The calls the window must hold before a rate can open the breaker: as set, or
    /// [`DEFAULT_MINIMUM_CALLS`] (100) capped at a count window's size.
    pub fn minimum_calls(&self) -> u32 {
        self.minimum_calls.unwrap_or(match self.sliding_window {
            SlidingWindow::Count(n) => DEFAULT_MINIMUM_CALLS.min(n),
            SlidingWindow::Time(_) => DEFAULT_MINIMUM_CALLS,
        })
    }

    /// How the Open period grows with consecutive re-openings, and its random spread: the
    /// `backoff` and `jitter` settings together. Default constant, without jitter.
    pub fn backoff(&self) -> Backoff {
        self.backoff
    }

    /// `Config::value` of the settings written here.
    pub(super) fn value_by_hand(&self, setting: Setting) -> Option<Value> {
        match setting {
            Setting::MinimumCalls => self.minimum_calls.map(Value::Count),
            Setting::Backoff => Some(Value::Backoff(self.backoff.growth)),
            Setting::Jitter => Some(Value::Ratio(self.backoff.jitter)),
            _ => unreachable!("{setting:?} is written by typed_settings!"),
        }
    }

    /// `Config::set_value` of the settings written here: `Some` if `value` was of the
    /// setting's kind and was set. A `backoff` keeps the jitter, and a `jitter` the growth,
    /// so that a source giving one leaves the other as the breaker has it.
    pub(super) fn set_by_hand(&mut self, setting: Setting, value: Value) -> Option<()> {
        match (setting, value) {
            (Setting::MinimumCalls, Value::Count(n)) => self.minimum_calls = Some(n),
            (Setting::Backoff, Value::Backoff(growth)) => {
                self.backoff = self.backoff.with_growth(growth);
            }
            (Setting::Jitter, Value::Ratio(r)) => self.backoff = self.backoff.with_jitter(r),
            _ => return None,
        }
        Some(())
    }
}

impl ConfigBuilder {
    /// The calls the window must hold before a rate can open the breaker (default 100, capped
    /// at a count window's size); independent of the window's size, but not above a count
    /// window's.
    ///
    /// [`build`](Self::build) checks it: see [`Setting::MinimumCalls`] for its limits.
    pub fn minimum_calls(mut self, calls: u32) -> Self {
        self.config.minimum_calls = Some(calls);
        self.config.explicit |= 1 << Setting::MinimumCalls.index();
        self
    }

    /// How the Open period grows with consecutive re-openings, with its jitter (default:
    /// constant, no jitter). Sets both the `backoff` and the `jitter` settings.
    ///
    /// [`build`](Self::build) checks it: see [`Setting::Backoff`] and [`Setting::Jitter`] for
    /// their limits.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.config.backoff = backoff;
        self.config.explicit |= (1 << Setting::Backoff.index()) | (1 << Setting::Jitter.index());
        self
    }
}
