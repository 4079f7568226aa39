//! Configuration from a file (feature `serde`): settings per breaker name, over shared named
//! sections, as resilience4j's `configs` and `instances`.
//!
//! Any serde format works ([`FileConfig::from_deserializer`], or a `FileConfig` field inside
//! the application's own configuration struct); TOML has a shortcut with line and column in
//! its errors ([`FileConfig::from_toml`], feature `toml`), and so has JSON
//! ([`FileConfig::from_json`], feature `json`). Every format refuses alike a document that is
//! not a table and a section or instance given twice. Errors give the path of the value at
//! fault (`instances.user-service.failure_threshold`), which any format can report, via
//! `serde_path_to_error`.

use crate::config::file_values::ValueReader;
use crate::config::{listing, ConfigError, Setting, Settings};
use crate::{Config, Registry};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// Breaker settings from a configuration file.
///
/// ```toml
/// # Shared sections. `default` is the base of every instance that names no other.
/// [configs.default]
/// failure_threshold = 5
/// recovery_timeout = "60s"      # or whole seconds: 60 (or "60"); units: ms, s, m, h
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
/// The keys are the names of the [`Setting`]s, and `base_config` in an instance. Counts are
/// whole numbers; a duration is a string in the attribute's grammar (a whole number with one
/// unit of `ms`, `s`, `m`, `h` and nothing between them: `"500ms"`, `"90s"`, `"5m"`), or,
/// unlike the attribute, whole seconds (`60` or `"60"`); a ratio (`failure_rate_threshold`,
/// `slow_call_rate_threshold`, `jitter`) is a number (`0.5`) or a string of one (`"0.5"`); a
/// `sliding_window` is a string, `"100 calls"` or a duration (`"60s"`); a `backoff` is
/// `"constant"` or `"exponential(2, 5m)"` (multiplier, longest period). Whitespace around a
/// string is ignored.
///
/// ```toml
/// [instances.payments]
/// failure_rate_threshold = 0.5
/// sliding_window = "60s"
/// minimum_calls = 20
/// slow_call_duration = "2s"
/// slow_call_rate_threshold = 0.8
/// backoff = "exponential(2, 10m)"
/// jitter = 0.2
/// ```
///
/// Unknown keys, wrong types and bad values are refused with the path of the value (and with
/// TOML, its line and column).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileConfig {
    configs: BTreeMap<String, Settings>,
    instances: BTreeMap<String, Instance>,
}

#[derive(Clone, Debug, PartialEq)]
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
    /// It reads one document, and refuses in every format what TOML refuses: a document that
    /// is not a table, and a section or instance given twice. Whether anything follows the
    /// document is the deserializer's to say, and so the caller's to ask: with
    /// `serde_json::Deserializer`, call its `end()` afterwards, or use
    /// `FileConfig::from_json` (feature `json`), which does.
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

    /// Reads a configuration from JSON text: the same document as TOML's, as nested objects.
    /// Text after the document is refused.
    ///
    /// ```
    /// use circuit_core::config::FileConfig;
    ///
    /// let json = r#"{"instances": {"db": {"failure_threshold": 2}}} {"instances": {}}"#;
    /// let err = FileConfig::from_json(json).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "bad circuit breaker configuration; none was applied:\n  \
    ///      (file) (line 1, column 49): trailing characters"
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// A [`FileError`] with the path, line and column of the first value refused.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub fn from_json(text: &str) -> Result<Self, FileError> {
        let located = |e: serde_json::Error, path: String| {
            // serde_json writes the position at the end of its message; it goes in its fields.
            let message = e.to_string();
            let position = format!(" at line {} column {}", e.line(), e.column());
            let message = message.strip_suffix(&position).unwrap_or(&message);
            FileError::one(FileProblem {
                path,
                line: Some(e.line()),
                // 0 where the line has not begun: the column of its first character.
                column: Some(e.column().max(1)),
                message: message.to_owned(),
            })
        };
        let mut d = serde_json::Deserializer::from_str(text);
        let config: FileConfig = serde_path_to_error::deserialize(&mut d).map_err(|e| {
            let path = e.path().to_string();
            located(e.into_inner(), path)
        })?;
        d.end().map_err(|e| located(e, String::new()))?;
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
                    problems.push(FileProblem {
                        path: blame(&err, name, &instance.settings, base),
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

    /// The problem of an instance whose base section is missing. It names a few of the
    /// sections there are, not all: with thousands of sections and of such instances, a
    /// message listing every section for every instance grew quadratically with the file.
    fn missing_base(&self, name: &str, instance: &Instance) -> FileProblem {
        let n = self.configs.len();
        let known = match n {
            0 => "there is none".to_owned(),
            1..=listing::ITEMS_SHOWN => {
                format!("there are {}", listing::quoted(self.configs.keys(), n))
            }
            _ => format!(
                "there are {n}, the first {} by name: {}",
                listing::ITEMS_SHOWN,
                listing::quoted(self.configs.keys(), n)
            ),
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

/// The path of the value to blame for `err`, refused for the instance `name`: of the settings
/// the error is about, the first the instance gives, or else its base section; failing both
/// (the values came from the breaker), the instance.
fn blame(
    err: &ConfigError,
    name: &str,
    instance: &Settings,
    base: Option<(&str, &Settings)>,
) -> String {
    err.blamed()
        .find_map(|setting| {
            let key = setting.name();
            if instance.get(setting).is_some() {
                Some(format!("instances.{name}.{key}"))
            } else {
                let (base_name, _) = base.filter(|(_, s)| s.get(setting).is_some())?;
                Some(format!("configs.{base_name}.{key}"))
            }
        })
        .unwrap_or_else(|| format!("instances.{name}"))
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

/// The document: a table of at most two tables, `configs` and `instances`, each naming its
/// tables once. Written by hand rather than derived: a derived struct also accepts a sequence
/// (`[]` in JSON), and a derived map keeps the last of two entries of one name, where TOML
/// refuses both; every format must refuse them alike.
impl<'de> Deserialize<'de> for FileConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(FileVisitor)
    }
}

/// The keys of the document.
const FILE_KEYS: [&str; 2] = ["configs", "instances"];

struct FileVisitor;

impl<'de> Visitor<'de> for FileVisitor {
    type Value = FileConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table with `configs` and `instances`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FileConfig, A::Error> {
        let mut configs = None;
        let mut instances = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "configs" => {
                    if configs.is_some() {
                        return Err(de::Error::duplicate_field("configs"));
                    }
                    let Named(sections) = map.next_value::<Named<Section>>()?;
                    let sections = sections.into_iter().map(|(k, Section(s))| (k, s));
                    configs = Some(sections.collect());
                }
                "instances" => {
                    if instances.is_some() {
                        return Err(de::Error::duplicate_field("instances"));
                    }
                    instances = Some(map.next_value::<Named<Instance>>()?.0);
                }
                other => return Err(de::Error::unknown_field(other, &FILE_KEYS)),
            }
        }
        Ok(FileConfig {
            configs: configs.unwrap_or_default(),
            instances: instances.unwrap_or_default(),
        })
    }
}

/// The tables of `configs` or `instances`, by name; a name given twice is refused.
struct Named<T>(BTreeMap<String, T>);

/// What `Named` holds, for its messages.
trait Described {
    /// `section`, `instance`.
    const WHAT: &'static str;
    /// What to do about a name given twice.
    const ONCE: &'static str;
}

impl Described for Section {
    const WHAT: &'static str = "section";
    const ONCE: &'static str = "give each section once, with all its settings";
}

impl Described for Instance {
    const WHAT: &'static str = "instance";
    const ONCE: &'static str = "list each breaker once, with all its settings";
}

impl<'de, T: Deserialize<'de> + Described> Deserialize<'de> for Named<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NamedVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de> + Described> Visitor<'de> for NamedVisitor<T> {
            type Value = Named<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a table of {}s by name", T::WHAT)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Named<T>, A::Error> {
                let mut named = BTreeMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    if named.contains_key(&name) {
                        // Refused as its value is read, so that the error's path ends in the
                        // name given twice.
                        let message = format!("{} `{name}` is given twice: {}", T::WHAT, T::ONCE);
                        return map
                            .next_value_seed(Refuse(message))
                            .map(|never| match never {});
                    }
                    let value = map.next_value()?;
                    named.insert(name, value);
                }
                Ok(Named(named))
            }
        }

        d.deserialize_map(NamedVisitor(std::marker::PhantomData))
    }
}

/// A shared section: settings only.
struct Section(Settings);

impl<'de> Deserialize<'de> for Section {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (_, settings) = d.deserialize_map(TableVisitor { instance: false })?;
        Ok(Section(settings))
    }
}

impl<'de> Deserialize<'de> for Instance {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (base_config, settings) = d.deserialize_map(TableVisitor { instance: true })?;
        Ok(Instance {
            base_config,
            settings,
        })
    }
}

/// The key of an instance that names its base section.
const BASE_CONFIG: &str = "base_config";

/// Refuses a value without reading it, with its message.
struct Refuse(String);

impl<'de> DeserializeSeed<'de> for Refuse {
    type Value = std::convert::Infallible;

    fn deserialize<D: Deserializer<'de>>(self, _: D) -> Result<Self::Value, D::Error> {
        Err(de::Error::custom(self.0))
    }
}

/// The keys of a section and of an instance, for the error about an unknown one.
const SECTION_KEYS: [&str; Setting::COUNT] = keys(None);
const INSTANCE_KEYS: [&str; Setting::COUNT + 1] = keys(Some(BASE_CONFIG));

/// `first`, if any, then the name of every setting.
const fn keys<const N: usize>(first: Option<&'static str>) -> [&'static str; N] {
    let mut keys = [""; N];
    let mut at = 0;
    if let Some(first) = first {
        keys[0] = first;
        at = 1;
    }
    let mut i = 0;
    while i < Setting::COUNT {
        keys[at + i] = Setting::ALL[i].name();
        i += 1;
    }
    keys
}

/// The settings of a section or an instance, by the names of the table; an instance may also
/// name its base section.
struct TableVisitor {
    instance: bool,
}

impl<'de> Visitor<'de> for TableVisitor {
    type Value = (Option<String>, Settings);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table of circuit breaker settings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut base_config = None;
        let mut settings = Settings::new();
        while let Some(key) = map.next_key_seed(KeyReader {
            instance: self.instance,
        })? {
            match key {
                Key::BaseConfig => {
                    if base_config.is_some() {
                        return Err(de::Error::duplicate_field(BASE_CONFIG));
                    }
                    base_config = Some(map.next_value()?);
                }
                Key::Setting(setting) => {
                    if settings.get(setting).is_some() {
                        return Err(de::Error::duplicate_field(setting.name()));
                    }
                    let value = map.next_value_seed(ValueReader(setting))?;
                    settings.set(setting, value).map_err(de::Error::custom)?;
                }
            }
        }
        Ok((base_config, settings))
    }
}

enum Key {
    BaseConfig,
    Setting(Setting),
}

/// Reads a key, refusing an unknown one where it is written (so TOML gives its line).
struct KeyReader {
    instance: bool,
}

impl<'de> DeserializeSeed<'de> for KeyReader {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl Visitor<'_> for KeyReader {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the name of a setting")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        if self.instance && key == BASE_CONFIG {
            return Ok(Key::BaseConfig);
        }
        match Setting::from_name(key) {
            Some(setting) => Ok(Key::Setting(setting)),
            None if self.instance => Err(E::unknown_field(key, &INSTANCE_KEYS)),
            None => Err(E::unknown_field(key, &SECTION_KEYS)),
        }
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
        listing::write_problems(f, &self.problems, "FileError")
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
        // `.` and `?` are how serde_path_to_error writes the document itself and a place it
        // could not tell.
        let path = if self.path.is_empty() || self.path == "." || self.path == "?" {
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
