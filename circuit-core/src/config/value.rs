//! The table's values as Rust types (`u32` for a count, `Duration` for a duration, `f64` for a
//! ratio, `SlidingWindow` for a window, `Growth` for a backoff, `bool` for a yes or no), and
//! how values and kinds are written in messages.

use crate::config::{Growth, Kind, SlidingWindow, Value};
use std::fmt;
use std::time::Duration;

impl Value {
    /// The count, if it is one.
    pub fn as_count(self) -> Option<u32> {
        match self {
            Value::Count(n) => Some(n),
            _ => None,
        }
    }

    /// The duration, if it is one.
    pub fn as_duration(self) -> Option<Duration> {
        match self {
            Value::Duration(d) => Some(d),
            _ => None,
        }
    }
}

impl Value {
    /// The ratio, if it is one.
    pub fn as_ratio(self) -> Option<f64> {
        match self {
            Value::Ratio(r) => Some(r),
            _ => None,
        }
    }

    /// The window, if it is one.
    pub fn as_window(self) -> Option<SlidingWindow> {
        match self {
            Value::Window(w) => Some(w),
            _ => None,
        }
    }

    /// The backoff's growth, if it is one.
    pub fn as_backoff(self) -> Option<Growth> {
        match self {
            Value::Backoff(g) => Some(g),
            _ => None,
        }
    }

    /// The yes or no, if it is one.
    pub fn as_bool(self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(r: f64) -> Self {
        Value::Ratio(r)
    }
}

impl From<SlidingWindow> for Value {
    fn from(w: SlidingWindow) -> Self {
        Value::Window(w)
    }
}

impl From<Growth> for Value {
    fn from(g: Growth) -> Self {
        Value::Backoff(g)
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Count(n)
    }
}

impl From<Duration> for Value {
    fn from(d: Duration) -> Self {
        Value::Duration(d)
    }
}

/// The Rust type of one kind of value: what `Config`'s field of a setting of that kind holds.
pub(crate) trait Typed: Sized + Into<Value> {
    /// The value, if it is of this type's kind.
    fn from_value(value: Value) -> Option<Self>;
}

impl Typed for u32 {
    fn from_value(value: Value) -> Option<Self> {
        value.as_count()
    }
}

impl Typed for Duration {
    fn from_value(value: Value) -> Option<Self> {
        value.as_duration()
    }
}

impl Typed for f64 {
    fn from_value(value: Value) -> Option<Self> {
        value.as_ratio()
    }
}

impl Typed for SlidingWindow {
    fn from_value(value: Value) -> Option<Self> {
        value.as_window()
    }
}

impl Typed for bool {
    fn from_value(value: Value) -> Option<Self> {
        value.as_bool()
    }
}

/// A count as a number (`5`), a duration as `Debug` writes it (`90s`, `1.5s`), a ratio as a
/// number (`0.5`), a window as `100 calls` or a duration, a backoff as `constant` or
/// `exponential(2, 300s)`, a yes or no as `true` or `false`: the text forms, as near as a
/// value can be written in them.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Count(n) => write!(f, "{n}"),
            Value::Duration(d) => write!(f, "{d:?}"),
            Value::Ratio(r) => write!(f, "{r}"),
            Value::Window(SlidingWindow::Count(1)) => f.write_str("1 call"),
            Value::Window(SlidingWindow::Count(n)) => write!(f, "{n} calls"),
            Value::Window(SlidingWindow::Time(d)) => f.write_str(&duration_text(*d)),
            Value::Backoff(Growth::Constant) => f.write_str("constant"),
            Value::Backoff(Growth::Exponential { multiplier, max }) => {
                write!(f, "exponential({multiplier}, {})", duration_text(*max))
            }
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// A duration as `Debug` writes it, but zero as `0s` (not `0ns`), as the text forms write it.
fn duration_text(d: Duration) -> String {
    if d.is_zero() {
        "0s".to_owned()
    } else {
        format!("{d:?}")
    }
}

/// With its article, for messages: `a whole number`, `a duration`.
impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Count => "a whole number",
            Kind::Duration => "a duration",
            Kind::Ratio => "a ratio",
            Kind::Window => "a sliding window",
            Kind::Backoff => "a backoff",
            Kind::Bool => "`true` or `false`",
        })
    }
}
