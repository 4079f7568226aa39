//! `recovery_timeout = "30s"`: a duration in the grammar of `grammar.rs`, checked at compile
//! time against the table's limits.

use crate::grammar::{describe_limit, parse_duration, DurationError};
use crate::table::{Refusal, Setting, Value};
use std::time::Duration;
use syn::LitStr;

/// Reads `lit` as a duration for `setting`: `"250ms"`, `"30s"`, `"5m"` or `"1h"`.
pub(crate) fn parse(setting: Setting, lit: &LitStr) -> syn::Result<Duration> {
    let key = setting.name();
    let max = match setting.max() {
        Some(Value::Duration(max)) => Some(max),
        _ => None,
    };
    let duration = read(key, max, lit)?;
    match setting.refusal(Value::Duration(duration)) {
        None => Ok(duration),
        Some(Refusal::Zero) => Err(zero(key, lit)),
        Some(Refusal::TooLarge { .. }) => Err(too_long(key, max, lit)),
        Some(Refusal::WrongKind | Refusal::OutOfRange) => {
            unreachable!("{key} is read as a duration, which has no range of its own")
        }
    }
}

/// Reads `lit` as the duration of a key outside the table of settings (`key_idle_timeout`),
/// in the same grammar and with the same messages: longer than zero and at most `max`.
pub(crate) fn parse_within(key: &str, max: Duration, lit: &LitStr) -> syn::Result<Duration> {
    let duration = read(key, Some(max), lit)?;
    if duration.is_zero() {
        return Err(zero(key, lit));
    }
    if duration > max {
        return Err(too_long(key, Some(max), lit));
    }
    Ok(duration)
}

/// The grammar alone: a malformed text, or one too long for a `u64` of milliseconds.
fn read(key: &str, max: Option<Duration>, lit: &LitStr) -> syn::Result<Duration> {
    let text = lit.value();
    parse_duration(&text).map_err(|e| match e {
        DurationError::Malformed => syn::Error::new(
            lit.span(),
            format!(
                "`{key}` is an integer with one unit of `ms`, `s`, `m` or `h`, not {text:?}: \
                 write for example \"30s\" or \"500ms\""
            ),
        ),
        DurationError::TooLong => too_long(key, max, lit),
    })
}

fn zero(key: &str, lit: &LitStr) -> syn::Error {
    let text = lit.value();
    syn::Error::new(
        lit.span(),
        format!("`{key}` must be longer than zero, not {text:?}: write for example \"30s\""),
    )
}

fn too_long(key: &str, max: Option<Duration>, lit: &LitStr) -> syn::Error {
    let text = lit.value();
    let limit = match max {
        Some(max) => format!("must be at most {}", describe_limit(max)),
        None => "is too long".to_owned(),
    };
    syn::Error::new(
        lit.span(),
        format!("`{key}` {limit}, not {text:?}: write a shorter one"),
    )
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::table::{Setting, MAX_RECOVERY_TIMEOUT};
    use proc_macro2::Span;
    use std::time::Duration;
    use syn::LitStr;

    fn millis(text: &str) -> Result<u128, String> {
        parse(
            Setting::RecoveryTimeout,
            &LitStr::new(text, Span::call_site()),
        )
        .map(|d| d.as_millis())
        .map_err(|e| e.to_string())
    }

    #[test]
    fn each_unit() {
        assert_eq!(millis("250ms"), Ok(250));
        assert_eq!(millis("30s"), Ok(30_000));
        assert_eq!(millis("5m"), Ok(300_000));
        assert_eq!(millis("2h"), Ok(7_200_000));
        assert_eq!(millis("8760h"), Ok(MAX_RECOVERY_TIMEOUT.as_millis()));
        assert_eq!(MAX_RECOVERY_TIMEOUT, Duration::from_secs(8760 * 3600));
    }

    #[test]
    fn refused() {
        for text in [
            "", "30", "s", "30 s", "30sec", "1.5s", "-1s", "30s5", "1h30m", "0s", "8761h",
        ] {
            assert!(millis(text).is_err(), "{text:?} was accepted");
        }
        assert!(millis("99999999999999999999h")
            .unwrap_err()
            .contains("365 days"));
        assert!(millis("8761h").unwrap_err().contains("at most 365 days"));
        assert!(millis("0ms").unwrap_err().contains("longer than zero"));
    }
}
