//! The text forms of values, which the attribute's strings, the environment and files share.
//!
//! - A duration: a whole number and one unit of `ms`, `s`, `m` or `h`, with nothing between
//!   them (`500ms`, `30s`, `5m`, `1h`). No sign, no fraction (`1.5s` is refused: write
//!   `1500ms`), no second unit (`1m30s`: write `90s`).
//! - A ratio: a decimal number without sign or exponent (`0.5`, `1`, `0.05`). A percentage
//!   (`50%`) is refused with the ratio to write instead: one form, whatever the source.
//! - A sliding window: a number of calls (`100 calls`, `1 call`; spaces between the number
//!   and the word are optional), or a duration (`60s`).
//! - A backoff: `constant`, or `exponential(M, MAX)` with M a number (the multiplier) and MAX
//!   a duration (the longest period): `exponential(2, 5m)`. Spaces around the comma and
//!   inside the parentheses are optional.
//! - A yes or no: `true` or `false`, in lower case; nothing else (`1`, `yes`, `on` are
//!   refused with the word to write).
//!
//! The attribute's strings read exactly these forms. The environment and files read them
//! too, and two things more, written in their docs: the surrounding whitespace of a value is
//! ignored, and a bare whole number (`60`, or a file's integer) is seconds where a duration
//! is expected. The attribute asks for the unit: in source code a bare `"60"` reads as easily
//! as milliseconds. A window has no bare number anywhere: `100` could be calls or seconds.
//!
//! Both crates compile this file (see `table.rs`, which says why): the canonical copy is
//! `circuit-macros/src/grammar.rs`, and `circuit-core/src/config/grammar.rs` is the same text.

use super::table::{Growth, SlidingWindow};
use std::time::Duration;

/// Why a text is not a duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DurationError {
    /// It does not follow the grammar.
    Malformed,
    /// It does, but holds more milliseconds than a `u64`.
    TooLong,
}

/// Reads `text`, which must follow the grammar exactly (no whitespace).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(DurationError::Malformed),
    };
    if number.is_empty() {
        return Err(DurationError::Malformed);
    }
    // Only digits: a number that does not parse is too large for a u64.
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(millis_per_unit))
        .map(Duration::from_millis)
        .ok_or(DurationError::TooLong)
}

/// A limit in words: `365 days` for whole days, else as `Debug` writes it (`90s`).
pub(crate) fn describe_limit(limit: Duration) -> String {
    const DAY: u64 = 24 * 60 * 60;
    let secs = limit.as_secs();
    if limit.subsec_nanos() == 0 && secs > 0 && secs.is_multiple_of(DAY) {
        let days = secs / DAY;
        format!("{days} day{}", if days == 1 { "" } else { "s" })
    } else {
        format!("{limit:?}")
    }
}

/// Why a text is not a ratio, a window or a backoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FormError {
    /// It does not follow the form.
    Malformed,
    /// A percentage, where a ratio is written: the ratio it means, `0.5` for `50%`.
    Percent(RatioText),
    /// A duration in it holds more milliseconds than a `u64`.
    TooLong,
}

/// A ratio as written, kept as text for messages (`Eq`, unlike an `f64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RatioText {
    /// The percentage's number, times 1000 so that `12.5%` stays whole.
    milli_percent: u64,
}

impl std::fmt::Display for RatioText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `50%` is 0.5: the ratio is the percentage / 100, written without trailing zeros.
        let ratio = self.milli_percent as f64 / 100_000.0;
        write!(f, "{ratio}")
    }
}

/// Reads a ratio: digits, then optionally `.` and digits (`0.5`, `1`, `.5` is refused).
pub(crate) fn parse_ratio(text: &str) -> Result<f64, FormError> {
    if let Some(percent) = text.strip_suffix('%') {
        let n = parse_number(percent.trim_end()).ok_or(FormError::Malformed)?;
        // Whole thousandths of a percent are enough to say which ratio was meant.
        return Err(FormError::Percent(RatioText {
            milli_percent: (n * 1000.0).round() as u64,
        }));
    }
    parse_number(text).ok_or(FormError::Malformed)
}

/// A decimal number without sign or exponent: `2`, `1.5`, `0.05`.
fn parse_number(text: &str) -> Option<f64> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return None;
    }
    // Only digits and one dot: `f64`'s parser reads it (a huge number is infinite, which the
    // setting's range refuses).
    text.parse().ok()
}

/// Reads a sliding window: `100 calls`, `1 call`, or a duration (`60s`).
pub(crate) fn parse_window(text: &str) -> Result<SlidingWindow, FormError> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, rest) = text.split_at(digits);
    let word = rest.trim_start();
    if !number.is_empty() && matches!(word, "calls" | "call") {
        return number
            .parse()
            .map(SlidingWindow::Count)
            // Only digits: one that does not parse is more calls than a `u32` counts.
            .map_err(|_| FormError::TooLong);
    }
    parse_duration(text)
        .map(SlidingWindow::Time)
        .map_err(FormError::from)
}

/// Reads a backoff: `constant` or `exponential(2, 5m)`.
pub(crate) fn parse_backoff(text: &str) -> Result<Growth, FormError> {
    if text == "constant" {
        return Ok(Growth::Constant);
    }
    let inner = text
        .strip_prefix("exponential")
        .map(str::trim_start)
        .and_then(|t| t.strip_prefix('('))
        .and_then(|t| t.strip_suffix(')'))
        .ok_or(FormError::Malformed)?;
    let (multiplier, max) = inner.split_once(',').ok_or(FormError::Malformed)?;
    let multiplier = parse_number(multiplier.trim()).ok_or(FormError::Malformed)?;
    let max = parse_duration(max.trim())?;
    Ok(Growth::Exponential { multiplier, max })
}

/// Reads a yes or no: `true` or `false`.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// What a text that is not `true` or `false` most likely meant, for the message that says
/// which word to write: `1`, `yes`, `on` (in any case) mean `true`; `0`, `no`, `off` `false`.
pub(crate) fn bool_meant(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "on" => Some(true),
        "false" | "0" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

impl From<DurationError> for FormError {
    fn from(e: DurationError) -> Self {
        match e {
            DurationError::Malformed => FormError::Malformed,
            DurationError::TooLong => FormError::TooLong,
        }
    }
}
