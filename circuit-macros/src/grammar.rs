//! The duration grammar: a whole number and one unit of `ms`, `s`, `m` or `h`, with nothing
//! between them (`500ms`, `30s`, `5m`, `1h`). No sign, no fraction (`1.5s` is refused: write
//! `1500ms`), no second unit (`1m30s`: write `90s`).
//!
//! The attribute's `recovery_timeout = "30s"` reads exactly this grammar. The environment and
//! files read it too, and two things more, written in their docs: the surrounding whitespace
//! of a value is ignored, and a bare whole number (`60`, or a file's integer) is seconds. The
//! attribute asks for the unit: in source code a bare `"60"` reads as easily as milliseconds.
//!
//! Both crates compile this file (see `table.rs`, which says why): the canonical copy is
//! `circuit-macros/src/grammar.rs`, and `circuit-core/src/config/grammar.rs` is the same text.

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
