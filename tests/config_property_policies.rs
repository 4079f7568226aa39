//! Generated values of the trip-policy settings, from the environment and TOML, checked
//! against an oracle: the documented text forms (a ratio, a sliding window, a backoff) and
//! ranges, restated here without the crate's parsers. Every case checks that the source
//! accepts exactly what the oracle accepts, with the oracle's value, and applies nothing when
//! it refuses.

use circuit_core::config::{EnvConfig, FileConfig};
use circuit_core::{Backoff, Config, Registry, SlidingWindow};
use proptest::prelude::*;
use std::time::Duration;

// ---- the oracle -----------------------------------------------------------------------------

const MAX_MS: u128 = 365 * 24 * 3600 * 1000;

fn digits(t: &str) -> bool {
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

/// `12`, `0.5`: digits, then optionally a dot and digits.
fn number(t: &str) -> Option<f64> {
    let (whole, fraction) = t.split_once('.').unwrap_or((t, "0"));
    (digits(whole) && digits(fraction)).then(|| t.parse().ok())?
}

/// A duration with its unit, in milliseconds (no bare seconds: windows and backoffs ask for
/// the unit).
fn duration_ms(t: &str) -> Option<u128> {
    let at = t.bytes().take_while(u8::is_ascii_digit).count();
    let (n, unit) = t.split_at(at);
    let per = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    if !digits(n) {
        return None;
    }
    n.parse::<u128>().ok().map(|n| n * per)
}

/// A rate in (0, 1].
fn rate(text: &str) -> Option<f64> {
    number(text.trim()).filter(|r| *r > 0.0 && *r <= 1.0)
}

/// A window: calls (`N calls`, `1 call`, spaces optional) or a duration with its unit.
fn window(text: &str) -> Option<SlidingWindow> {
    let t = text.trim();
    let at = t.bytes().take_while(u8::is_ascii_digit).count();
    let (n, rest) = t.split_at(at);
    if !n.is_empty() && matches!(rest.trim_start(), "calls" | "call") {
        let calls: u32 = n.parse().ok()?;
        return (calls >= 1).then_some(SlidingWindow::Count(calls));
    }
    let ms = duration_ms(t)?;
    (1..=MAX_MS)
        .contains(&ms)
        .then(|| SlidingWindow::Time(Duration::from_millis(ms as u64)))
}

/// A backoff over the default 60 s recovery timeout: `(multiplier, max)`, `None` for
/// constant; the outer `None` when refused.
fn backoff(text: &str) -> Option<Option<(f64, Duration)>> {
    let t = text.trim();
    if t == "constant" {
        return Some(None);
    }
    let inner = t
        .strip_prefix("exponential")?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')?;
    let (m, max) = inner.split_once(',')?;
    let m = number(m.trim()).filter(|m| m.is_finite() && *m >= 1.0)?;
    let max = duration_ms(max.trim()).filter(|ms| (60_000..=MAX_MS).contains(ms))?;
    Some(Some((m, Duration::from_millis(max as u64))))
}

// ---- generated values -------------------------------------------------------------------------

fn space() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "", "", " ", "  "])
}

fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0u32..3, 0u32..1000).prop_map(|(w, f)| format!("{w}.{f}")),
        2 => (0u32..4).prop_map(|n| n.to_string()),
        1 => prop::sample::select(vec![
            "", ".5", "5.", "-0.5", "1e-1", "0,5", "50%", "NaN", "inf", "0.5.5", "½",
        ])
        .prop_map(str::to_owned),
    ]
}

fn duration_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0u64..200, prop::sample::select(vec!["ms", "s", "m", "h"]))
            .prop_map(|(n, u)| format!("{n}{u}")),
        1 => prop::sample::select(vec![
            "", "30", "8761h", "8760h", "1.5s", "1 s", "99999999999999999999h", "1m30s",
        ])
        .prop_map(str::to_owned),
    ]
}

fn window_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (0u64..300, space(), prop::sample::select(vec!["calls", "call", "requests", "Calls"]))
            .prop_map(|(n, s, w)| format!("{n}{s}{w}")),
        2 => duration_text(),
        1 => prop::sample::select(vec!["4294967296 calls", "4294967295 calls", "100", " calls"])
            .prop_map(str::to_owned),
    ]
}

fn backoff_text() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => prop::sample::select(vec!["constant", "Constant", "linear", ""]).prop_map(str::to_owned),
        4 => (space(), space(), number_text(), space(), duration_text(), space(),
              prop::bool::weighted(0.9))
            .prop_map(|(a, b, m, c, max, d, closed)| {
                let close = if closed { ")" } else { "" };
                format!("exponential{a}({b}{m}{c},{d}{max}{close}")
            }),
    ]
}

// ---- the sources --------------------------------------------------------------------------------

/// `text` for the variable `suffix` of one breaker: its configuration, or `None` if refused
/// (and then the breaker is left as it was).
fn from_env(suffix: &str, text: &str) -> Option<Config> {
    let registry = Registry::new();
    let applied = EnvConfig::new()
        .breaker("svc")
        .apply_from(&registry, [(format!("CIRCUIT_SVC_{suffix}"), text)]);
    let config = registry.get_or_create("svc", Config::default()).config();
    match applied {
        Ok(_) => Some(config),
        Err(_) => {
            assert_eq!(config.failure_rate_threshold(), None, "nothing applied");
            assert_eq!(config.backoff(), Backoff::constant(), "nothing applied");
            assert_eq!(
                config.sliding_window(),
                SlidingWindow::Count(100),
                "nothing applied"
            );
            None
        }
    }
}

/// `text` as a TOML string under `key` of one instance.
fn from_toml(key: &str, text: &str) -> Option<Config> {
    let escaped: String = text.escape_default().collect();
    let file = FileConfig::from_toml(&format!("[instances.svc]\n{key} = \"{escaped}\"\n")).ok()?;
    let registry = Registry::new();
    file.apply(&registry).ok()?;
    Some(registry.get_or_create("svc", Config::default()).config())
}

proptest! {
    #[test]
    fn failure_rates_are_read_as_documented(text in number_text(), pad in space()) {
        let text = format!("{pad}{text}{pad}");
        let expected = rate(&text);
        let env = from_env("FAILURE_RATE_THRESHOLD", &text).map(|c| c.failure_rate_threshold());
        let toml = from_toml("failure_rate_threshold", &text).map(|c| c.failure_rate_threshold());
        prop_assert_eq!(env, expected.map(Some), "{:?}", text);
        prop_assert_eq!(toml, expected.map(Some), "{:?}", text);
    }

    #[test]
    fn windows_are_read_as_documented(text in window_text(), pad in space()) {
        let text = format!("{pad}{text}{pad}");
        let expected = window(&text);
        let env = from_env("SLIDING_WINDOW", &text).map(|c| c.sliding_window());
        let toml = from_toml("sliding_window", &text).map(|c| c.sliding_window());
        prop_assert_eq!(env, expected, "{:?}", text);
        prop_assert_eq!(toml, expected, "{:?}", text);
    }

    #[test]
    fn backoffs_are_read_as_documented(text in backoff_text(), pad in space()) {
        let text = format!("{pad}{text}{pad}");
        let expected = backoff(&text);
        let read = |c: Config| c.backoff().multiplier().zip(c.backoff().max());
        let env = from_env("BACKOFF", &text).map(read);
        let toml = from_toml("backoff", &text).map(read);
        prop_assert_eq!(env, expected, "{:?}", text);
        prop_assert_eq!(toml, expected, "{:?}", text);
    }
}
