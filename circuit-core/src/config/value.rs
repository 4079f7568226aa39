//! The table's values as Rust types (`u32` for a count, `Duration` for a duration), and how
//! values and kinds are written in messages.

use crate::config::{Kind, Value};
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

/// A count as a number (`5`), a duration as `Debug` writes it (`90s`, `1.5s`).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Count(n) => write!(f, "{n}"),
            Value::Duration(d) => write!(f, "{d:?}"),
        }
    }
}

/// With its article, for messages: `a whole number`, `a duration`.
impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Count => "a whole number",
            Kind::Duration => "a duration",
        })
    }
}
