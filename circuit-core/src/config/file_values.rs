//! The value of one setting in a configuration file (feature `serde`), read by its kind and
//! checked as it is read, so that a refusal carries the value's location. The file's shape
//! (sections, instances, keys) is `file.rs`.

use crate::config::{text, ConfigError, Kind, Setting, Value};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use std::fmt;
use std::time::Duration;

/// Reads the value of one setting, of its kind, and checks it as it is read, so that the error
/// carries the value's location.
pub(super) struct ValueReader(pub(super) Setting);

impl<'de> DeserializeSeed<'de> for ValueReader {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        let setting = self.0;
        let value = match setting.kind() {
            Kind::Count => Value::Count(d.deserialize_u32(CountVisitor(setting))?),
            Kind::Duration => Value::Duration(d.deserialize_any(DurationVisitor(setting))?),
            Kind::Ratio => Value::Ratio(d.deserialize_any(RatioVisitor(setting))?),
            // Strings only: a bare number could be calls or seconds, and a backoff has two
            // parts. Both read the text forms and are checked with the text as written.
            Kind::Window | Kind::Backoff => d.deserialize_any(TextVisitor(setting))?,
            Kind::Bool => Value::Bool(d.deserialize_any(BoolVisitor(setting))?),
        };
        ConfigError::check(setting, value).map_err(de::Error::custom)?;
        Ok(value)
    }
}

/// A whole number. Read from any integer, so that one too large or negative is refused with
/// the setting's limits rather than those of a `u32`.
struct CountVisitor(Setting);

impl<'de> Visitor<'de> for CountVisitor {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u32, E> {
        u32::try_from(v).map_err(|_| E::custom(text::too_many(self.0, &v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u32, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom(format!(
                "`{}` must be at least 1, got {v}",
                self.0.name()
            ))),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<u32, A::Error> {
        Err(not_a_value(self.0, map))
    }
}

/// Whole seconds (`60`), or a string: the attribute's grammar (`"90s"`, `"5m"`) or seconds.
struct DurationVisitor(Setting);

impl<'de> Visitor<'de> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("whole seconds, or a string with one unit of ms, s, m, h (\"30s\")")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        text::seconds(self.0, v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        let d = text::duration(self.0, v).map_err(|why| E::custom(format!("{v:?}: {why}")))?;
        // Checked here, so that a refusal shows the text as written (`"8761h"`).
        ConfigError::check(self.0, Value::Duration(d)).map_err(|e| E::custom(e.given(v.trim())))?;
        Ok(d)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Duration, A::Error> {
        Err(not_a_value(self.0, map))
    }
}

/// A ratio: a number (`0.5`, or `1`), or a string of one (`"0.5"`).
struct RatioVisitor(Setting);

impl<'de> Visitor<'de> for RatioVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a ratio, a number like 0.5")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    // Integers as the numbers they are: `1` is a ratio, `0` and `2` are refused by range.
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        let r = text::ratio(v).map_err(|why| E::custom(format!("{v:?}: {why}")))?;
        ConfigError::check(self.0, Value::Ratio(r)).map_err(|e| E::custom(e.given(v.trim())))?;
        Ok(r)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<f64, A::Error> {
        Err(not_a_value(self.0, map))
    }
}

/// A window or a backoff: a string in its text form, checked with the text as written.
struct TextVisitor(Setting);

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0.kind() {
            Kind::Window => "a string: a number of calls (\"100 calls\") or a duration (\"60s\")",
            _ => "a string: \"constant\" or \"exponential(2, 5m)\"",
        })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        text::checked(self.0, v).map_err(|why| E::custom(format!("{v:?}: {why}")))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        match self.0.kind() {
            Kind::Window => Err(E::custom(format!(
                "a bare number could be calls or seconds: write `{name} = \"{v} calls\"` or \
                 `{name} = \"{v}s\"`",
                name = self.0.name()
            ))),
            _ => Err(E::invalid_type(de::Unexpected::Unsigned(v), &self)),
        }
    }

    // TOML hands every integer over as an `i64`.
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::invalid_type(de::Unexpected::Signed(v), &self)),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        Err(not_a_value(self.0, map))
    }
}

/// A yes or no: a boolean (`true`), or the same word as a string (`"true"`), as the
/// environment writes it. A number is refused: `1` could be a count given to the wrong key.
struct BoolVisitor(Setting);

impl<'de> Visitor<'de> for BoolVisitor {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("true or false")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        text::boolean(v).map_err(|why| E::custom(format!("{v:?}: {why}")))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        Err(self.number(v))
    }

    // TOML hands every integer over as an `i64`.
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        Err(self.number(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        Err(not_a_value(self.0, map))
    }
}

impl BoolVisitor {
    /// A number where `true` or `false` goes: the word it most likely meant.
    fn number<E: de::Error>(&self, v: impl fmt::Display) -> E {
        let name = self.0.name();
        E::custom(format!(
            "`{name}` takes true or false, not the number {v}: write `{name} = {}`",
            v.to_string() != "0"
        ))
    }
}

/// The key under which the `toml` crate hands a date or time to serde, as a one-entry map.
const TOML_DATETIME: &str = "$__toml_private_datetime";

/// The error for a table given as a setting's value: `invalid type: map` would puzzle whoever
/// wrote a date (TOML reads `1979-05-27` as a date, and gives it to serde as a map).
fn not_a_value<'de, A: MapAccess<'de>>(setting: Setting, mut map: A) -> A::Error {
    let what = match map.next_key::<String>() {
        Ok(Some(key)) if key == TOML_DATETIME => match map.next_value::<String>() {
            Ok(date) => format!("the date or time {date}"),
            Err(_) => "a date or time".to_owned(),
        },
        _ => "a table".to_owned(),
    };
    let name = setting.name();
    let example = match (setting.kind(), setting.default_value()) {
        (_, Some(Value::Count(n))) => n.to_string(),
        (Kind::Count, _) => "20".to_owned(),
        (Kind::Duration, _) => "\"30s\"".to_owned(),
        (Kind::Ratio, _) => "0.5".to_owned(),
        (Kind::Window, _) => "\"100 calls\"".to_owned(),
        (Kind::Backoff, _) => "\"exponential(2, 5m)\"".to_owned(),
        (Kind::Bool, _) => "true".to_owned(),
    };
    de::Error::custom(format!(
        "`{name}` takes {}, not {what}: write for example `{name} = {example}`",
        setting.kind()
    ))
}
