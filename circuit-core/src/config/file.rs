//! Configuration from a file (feature `serde`): settings per breaker name, over shared named
//! sections, as resilience4j's `configs` and `instances`.
//!
//! Any serde format works ([`FileConfig::from_deserializer`], or a `FileConfig` field inside
//! the application's own configuration struct); TOML has a shortcut with line and column in
//! its errors ([`FileConfig::from_toml`], feature `toml`). Errors give the path of the value at
//! fault (`instances.user-service.failure_threshold`), which any format can report, via
//! `serde_path_to_error`.

use crate::config::settings::{check_alone, parse_duration, Setting, Settings};
use crate::{Config, Registry};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Breaker settings from a configuration file.
///
/// ```toml
/// # Shared sections. `default` is the base of every instance that names no other.
/// [configs.default]
/// failure_threshold = 5
/// recovery_timeout = "60s"      # or whole seconds: 60; units: ms, s, m, h
///
/// [configs.slow-backend]
/// recovery_timeout = "5m"
/// half_open_max_calls = 1
/// success_threshold = 1
///
/// # One section per breaker, by its name.
/// [instances.user-service]
/// failure_threshold = 3
///
/// [instances."inventory::db"]
/// base_config = "slow-backend"
/// ```
///
/// An instance's settings are laid over its base section (`base_config`, or `default`), and
/// both over the breaker's configuration (its attribute's literals, or the defaults for a
/// breaker not created yet): the file wins over the code, and what the file leaves unset
/// stays as the code has it. Breakers the file does not list under `instances` are left
/// alone, `default` included. A base section names no base of its own.
///
/// Unknown keys, wrong types and bad values are refused with the path of the value (and with
/// TOML, its line and column).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileConfig {
    configs: BTreeMap<String, Settings>,
    instances: BTreeMap<String, Instance>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Instance {
    base_config: Option<String>,
    settings: Settings,
}

/// The section every instance without a `base_config` builds on.
const DEFAULT_SECTION: &str = "default";

impl FileConfig {
    /// Reads a configuration from any serde deserializer (`serde_json::Deserializer`, a YAML
    /// one, ...). Prefer it to `FileConfig::deserialize`, whose errors carry no path.
    ///
    /// # Errors
    ///
    /// A [`FileError`] with the path of the first value refused (serde stops at the first).
    pub fn from_deserializer<'de, D: Deserializer<'de>>(d: D) -> Result<Self, FileError> {
        let config: FileConfig = serde_path_to_error::deserialize(d).map_err(|e| {
            FileError::one(FileProblem {
                path: e.path().to_string(),
                line: None,
                column: None,
                message: e.into_inner().to_string(),
            })
        })?;
        config.check_bases()?;
        Ok(config)
    }

    /// Reads a configuration from TOML text.
    ///
    /// ```
    /// use circuit_core::config::FileConfig;
    ///
    /// let err = FileConfig::from_toml("[instances.db]\nfailure_threshold = 0\n").unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "bad circuit breaker configuration; none was applied:\n  \
    ///      instances.db.failure_threshold (line 2, column 21): \
    ///      `failure_threshold` must be at least 1, got 0"
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// A [`FileError`] with the path, line and column of the first value refused.
    #[cfg(feature = "toml")]
    #[cfg_attr(docsrs, doc(cfg(feature = "toml")))]
    pub fn from_toml(text: &str) -> Result<Self, FileError> {
        let located = |e: toml::de::Error, path: String| {
            let (line, column) = match e.span() {
                Some(span) => line_column(text, span.start),
                None => (None, None),
            };
            FileError::one(FileProblem {
                path,
                line,
                column,
                message: e.message().trim_end().to_owned(),
            })
        };
        let d = toml::Deserializer::parse(text).map_err(|e| located(e, String::new()))?;
        let config: FileConfig = serde_path_to_error::deserialize(d).map_err(|e| {
            let path = e.path().to_string();
            located(e.into_inner(), path)
        })?;
        config.check_bases()?;
        Ok(config)
    }

    /// The names of the breakers the file configures, sorted.
    pub fn instances(&self) -> impl Iterator<Item = &str> {
        self.instances.keys().map(String::as_str)
    }

    /// The settings the file gives the breaker `name`, its base section's included; `None`
    /// if it does not list it, or names a base section that is missing (which
    /// [`apply`](Self::apply) reports).
    pub fn settings(&self, name: &str) -> Option<Settings> {
        let instance = self.instances.get(name)?;
        let base = self.base_of(instance).ok()?.map(|(_, s)| s);
        Some(instance.settings.over(base.unwrap_or(&Settings::default())))
    }

    /// Configures every breaker the file lists, with [`Registry::configure`], and returns
    /// each with its new configuration.
    ///
    /// # Errors
    ///
    /// A [`FileError`] with every instance whose settings, laid over its breaker's current
    /// configuration, are refused (a `success_threshold` above `half_open_max_calls`); then
    /// nothing is applied.
    pub fn apply(&self, registry: &Registry) -> Result<Vec<(String, Config)>, FileError> {
        let mut configs = Vec::new();
        let mut problems = Vec::new();
        for (name, instance) in &self.instances {
            let base = match self.base_of(instance) {
                Ok(base) => base,
                Err(()) => {
                    problems.push(self.missing_base(name, instance));
                    continue;
                }
            };
            let settings = instance
                .settings
                .over(base.map_or(&Settings::default(), |(_, s)| s));
            let current = registry.current_config(name).unwrap_or_default();
            match settings.apply(&current) {
                Ok(config) => configs.push((name.clone(), config)),
                Err(err) => {
                    let field = Setting::of_error(&err).field();
                    let path = if is_set(&instance.settings, field) {
                        format!("instances.{name}.{field}")
                    } else if let Some((base_name, _)) = base.filter(|(_, s)| is_set(s, field)) {
                        format!("configs.{base_name}.{field}")
                    } else {
                        format!("instances.{name}")
                    };
                    problems.push(FileProblem {
                        path,
                        line: None,
                        column: None,
                        message: err.to_string(),
                    });
                }
            }
        }
        if !problems.is_empty() {
            return Err(FileError { problems });
        }
        for (name, config) in &configs {
            registry.configure(name, config.clone());
        }
        Ok(configs)
    }

    /// The section `instance` builds on, with its name: `Err` if it names a missing one.
    fn base_of(&self, instance: &Instance) -> Result<Option<(&str, &Settings)>, ()> {
        match &instance.base_config {
            Some(base) => self
                .configs
                .get_key_value(base)
                .map(|(k, s)| Some((k.as_str(), s)))
                .ok_or(()),
            None => Ok(self
                .configs
                .get_key_value(DEFAULT_SECTION)
                .map(|(k, s)| (k.as_str(), s))),
        }
    }

    fn check_bases(&self) -> Result<(), FileError> {
        let problems: Vec<FileProblem> = self
            .instances
            .iter()
            .filter(|(_, i)| self.base_of(i).is_err())
            .map(|(name, i)| self.missing_base(name, i))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(FileError { problems })
        }
    }

    fn missing_base(&self, name: &str, instance: &Instance) -> FileProblem {
        let known: Vec<String> = self.configs.keys().map(|k| format!("`{k}`")).collect();
        let known = if known.is_empty() {
            "there is none".to_owned()
        } else {
            format!("there are {}", known.join(", "))
        };
        FileProblem {
            path: format!("instances.{name}.base_config"),
            line: None,
            column: None,
            message: format!(
                "no section `configs.{}`; {known}",
                instance.base_config.as_deref().unwrap_or_default()
            ),
        }
    }
}

fn is_set(s: &Settings, field: &str) -> bool {
    match field {
        "failure_threshold" => s.failure_threshold.is_some(),
        "success_threshold" => s.success_threshold.is_some(),
        "recovery_timeout" => s.recovery_timeout.is_some(),
        _ => s.half_open_max_calls.is_some(),
    }
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
#[cfg(feature = "toml")]
fn line_column(text: &str, offset: usize) -> (Option<usize>, Option<usize>) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (Some(line), Some(column))
}

// ---- the file's shape ------------------------------------------------------------------------

impl<'de> Deserialize<'de> for FileConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawFile::deserialize(d)?;
        Ok(FileConfig {
            configs: raw
                .configs
                .into_iter()
                .map(|(k, v)| (k, v.into()))
                .collect(),
            instances: raw
                .instances
                .into_iter()
                .map(|(k, v)| {
                    let instance = Instance {
                        base_config: v.base_config,
                        settings: Settings {
                            failure_threshold: v.failure_threshold,
                            success_threshold: v.success_threshold,
                            recovery_timeout: v.recovery_timeout,
                            half_open_max_calls: v.half_open_max_calls,
                        },
                    };
                    (k, instance)
                })
                .collect(),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    configs: BTreeMap<String, RawSettings>,
    #[serde(default)]
    instances: BTreeMap<String, RawInstance>,
}

// Two structs rather than one with `#[serde(flatten)]`, which `deny_unknown_fields` does not
// work with.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    #[serde(default, deserialize_with = "failure_threshold")]
    failure_threshold: Option<u32>,
    #[serde(default, deserialize_with = "success_threshold")]
    success_threshold: Option<u32>,
    #[serde(default, deserialize_with = "recovery_timeout")]
    recovery_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "half_open_max_calls")]
    half_open_max_calls: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstance {
    #[serde(default)]
    base_config: Option<String>,
    #[serde(default, deserialize_with = "failure_threshold")]
    failure_threshold: Option<u32>,
    #[serde(default, deserialize_with = "success_threshold")]
    success_threshold: Option<u32>,
    #[serde(default, deserialize_with = "recovery_timeout")]
    recovery_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "half_open_max_calls")]
    half_open_max_calls: Option<u32>,
}

impl From<RawSettings> for Settings {
    fn from(r: RawSettings) -> Self {
        Settings {
            failure_threshold: r.failure_threshold,
            success_threshold: r.success_threshold,
            recovery_timeout: r.recovery_timeout,
            half_open_max_calls: r.half_open_max_calls,
        }
    }
}

// Each value is checked as it is read, so that the error carries the value's location.

fn failure_threshold<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    checked(Settings {
        failure_threshold: Some(u32::deserialize(d)?),
        ..Settings::default()
    })
    .map(|s| s.failure_threshold)
}

fn success_threshold<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    checked(Settings {
        success_threshold: Some(u32::deserialize(d)?),
        ..Settings::default()
    })
    .map(|s| s.success_threshold)
}

fn half_open_max_calls<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    checked(Settings {
        half_open_max_calls: Some(u32::deserialize(d)?),
        ..Settings::default()
    })
    .map(|s| s.half_open_max_calls)
}

fn recovery_timeout<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    checked(Settings {
        recovery_timeout: Some(d.deserialize_any(TimeoutVisitor)?),
        ..Settings::default()
    })
    .map(|s| s.recovery_timeout)
}

fn checked<E: de::Error>(s: Settings) -> Result<Settings, E> {
    check_alone(&s).map_err(E::custom)?;
    Ok(s)
}

/// Whole seconds (`60`), or a string with a unit (`"90s"`, `"5m"`).
struct TimeoutVisitor;

impl Visitor<'_> for TimeoutVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("whole seconds, or a string with one unit of ms, s, m, h (\"30s\")")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        parse_duration(&v.to_string()).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse_duration(v).map_err(|why| E::custom(format!("{v:?}: {why}")))
    }
}

// ---- errors ----------------------------------------------------------------------------------

/// What was wrong with a configuration file. Nothing was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    problems: Vec<FileProblem>,
}

impl FileError {
    fn one(problem: FileProblem) -> Self {
        FileError {
            problems: vec![problem],
        }
    }

    /// The values refused.
    pub fn problems(&self) -> &[FileProblem] {
        &self.problems
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bad circuit breaker configuration; none was applied:")?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FileError {}

/// One value refused, and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProblem {
    path: String,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
}

impl FileProblem {
    /// The path of the value: `instances.user-service.failure_threshold`. Empty when the
    /// text could not be parsed at all.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Its line, from 1, when the format reports it (TOML).
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// Its column, from 1, when the format reports it (TOML).
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// Why it was refused.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() || self.path == "." {
            "(file)"
        } else {
            &self.path
        };
        f.write_str(path)?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, " (line {line}, column {column})")?;
        }
        write!(f, ": {}", self.message)
    }
}
