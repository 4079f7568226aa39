//! Configuration from environment variables, read once at start-up.
//!
//! A breaker named `user-service` reads `CIRCUIT_USER_SERVICE_FAILURE_THRESHOLD`,
//! `..._SUCCESS_THRESHOLD`, `..._RECOVERY_TIMEOUT` and `..._HALF_OPEN_MAX_CALLS`; a breaker
//! given a prefix of its own (`DB_CIRCUIT_BREAKER`) reads
//! `DB_CIRCUIT_BREAKER_FAILURE_THRESHOLD` and so on: one variable per [`Setting`], named by its
//! [`env_suffix`](Setting::env_suffix). Every value is checked before any is applied, and every
//! bad one is reported, so an operator fixes them all in one round.

use crate::config::{text, Setting, Settings};
use crate::{Config, Registry};
use std::collections::HashMap;
use std::ffi::OsStr;
use std::fmt;

/// The prefix of a breaker's variables unless it is given its own.
pub const DEFAULT_ENV_PREFIX: &str = "CIRCUIT";

/// Which breakers read which environment variables.
///
/// ```
/// use circuit_core::config::EnvConfig;
/// use circuit_core::Registry;
/// use std::time::Duration;
///
/// let registry = Registry::new();
/// let env = EnvConfig::new()
///     .breaker("user-service") // CIRCUIT_USER_SERVICE_*
///     .breaker_with_prefix("database", "DB_CIRCUIT_BREAKER"); // DB_CIRCUIT_BREAKER_*
///
/// // In a service: `env.apply(circuit_core::registry())?`, which reads `std::env`.
/// env.apply_from(&registry, [
///     ("CIRCUIT_USER_SERVICE_FAILURE_THRESHOLD", "3"),
///     ("DB_CIRCUIT_BREAKER_RECOVERY_TIMEOUT", "90"),
/// ])?;
/// assert_eq!(registry.get_or_create("user-service", Default::default()).config().failure_threshold(), 3);
/// assert_eq!(
///     registry.get_or_create("database", Default::default()).config().recovery_timeout(),
///     Duration::from_secs(90),
/// );
/// # Ok::<(), circuit_core::config::EnvError>(())
/// ```
///
/// Values: the thresholds and `HALF_OPEN_MAX_CALLS` are whole numbers; `RECOVERY_TIMEOUT` is
/// a whole number with one unit of `ms`, `s`, `m`, `h` and nothing between them (`500ms`,
/// `90s`, `5m`), the grammar of the attribute's `recovery_timeout`, or, unlike the attribute,
/// a bare whole number of seconds (`60`). Whitespace around a value is ignored. They are
/// checked with [`ConfigBuilder::build`](crate::ConfigBuilder::build)'s rules and messages.
///
/// Unset variables leave their setting as it is: settings are laid over the breaker's
/// configuration (its attribute's literals, or one given earlier to
/// [`Registry::configure`], for instance from a file with `FileConfig`), or over the
/// defaults for a breaker that is not created yet and has none. A breaker whose variables are
/// all unset is left alone. Variables are looked up by their exact names: one misspelt is not
/// seen, as with any environment variable.
#[derive(Clone, Debug, Default)]
pub struct EnvConfig {
    /// `(breaker name, prefix without the trailing `_`)`, in the order given.
    breakers: Vec<(String, String)>,
}

impl EnvConfig {
    /// No breaker yet.
    pub fn new() -> Self {
        EnvConfig::default()
    }

    /// Reads the breaker `name` from `CIRCUIT_<NAME>_*`, where `<NAME>` is `name` upper-cased
    /// with every run of other characters than ASCII letters and digits made one `_`:
    /// `user-service` reads `CIRCUIT_USER_SERVICE_*`, `app::db.pool` reads
    /// `CIRCUIT_APP_DB_POOL_*` (see [`env_prefix`](Self::env_prefix)). A name with no
    /// letter or digit reads nothing: give it a prefix with
    /// [`breaker_with_prefix`](Self::breaker_with_prefix).
    pub fn breaker(mut self, name: &str) -> Self {
        match Self::env_prefix(name) {
            Some(prefix) => self.with(name, prefix),
            None => {
                self.breakers.retain(|(n, _)| n != name);
                self
            }
        }
    }

    /// Reads the breaker `name` from `<PREFIX>_*`: with `DB_CIRCUIT_BREAKER`, from
    /// `DB_CIRCUIT_BREAKER_FAILURE_THRESHOLD` and the like. A trailing `_` is optional.
    pub fn breaker_with_prefix(self, name: &str, prefix: &str) -> Self {
        let prefix = prefix.trim_end_matches('_').to_owned();
        self.with(name, prefix)
    }

    /// Reads every breaker `registry` holds now (those of `#[circuit_breaker]` attributes
    /// included) from `CIRCUIT_<NAME>_*`, except those already given a prefix.
    pub fn registered(mut self, registry: &Registry) -> Self {
        for name in registry.names() {
            if !self.breakers.iter().any(|(n, _)| *n == name) {
                self = self.breaker(&name);
            }
        }
        self
    }

    /// The prefix of `name`'s variables by default: `CIRCUIT_USER_SERVICE` for
    /// `user-service`; `None` for a name with no ASCII letter or digit to spell one with.
    pub fn env_prefix(name: &str) -> Option<String> {
        let mut prefix = String::from(DEFAULT_ENV_PREFIX);
        let mut gap = true;
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                if gap {
                    prefix.push('_');
                }
                prefix.push(c.to_ascii_uppercase());
                gap = false;
            } else {
                gap = true;
            }
        }
        (prefix.len() > DEFAULT_ENV_PREFIX.len()).then_some(prefix)
    }

    fn with(mut self, name: &str, prefix: String) -> Self {
        self.breakers.retain(|(n, _)| n != name);
        self.breakers.push((name.to_owned(), prefix));
        self
    }

    /// Reads the process environment and configures `registry`'s breakers: see
    /// [`apply_from`](Self::apply_from).
    ///
    /// # Errors
    ///
    /// As [`apply_from`](Self::apply_from).
    pub fn apply(&self, registry: &Registry) -> Result<Vec<(String, Config)>, EnvError> {
        self.apply_from(registry, std::env::vars_os())
    }

    /// Reads the variables in `vars` (name, value pairs: `std::env::vars_os()`, or a test's
    /// own) and configures `registry`'s breakers with [`Registry::configure`]. Returns each
    /// breaker configured, with its new configuration.
    ///
    /// # Errors
    ///
    /// An [`EnvError`] listing every bad value; then nothing is applied.
    pub fn apply_from<K, V>(
        &self,
        registry: &Registry,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Vec<(String, Config)>, EnvError>
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let configs = self.load(registry, vars)?;
        for (name, config) in &configs {
            registry.configure(name, config.clone());
        }
        Ok(configs)
    }

    fn load<K, V>(
        &self,
        registry: &Registry,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Vec<(String, Config)>, EnvError>
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let vars = self.relevant(vars);
        let mut problems = self.shared_variables(&vars);
        let mut configs = Vec::new();
        for (name, prefix) in &self.breakers {
            if self.is_shared(prefix) {
                continue; // reported above
            }
            // (variable, value) of each setting that is set, by `Setting::index`.
            let found: Vec<Option<(String, &Value)>> = Setting::ALL
                .into_iter()
                .map(|setting| {
                    let variable = variable(prefix, setting);
                    vars.get(&variable).map(|value| (variable, value))
                })
                .collect();
            if found.iter().all(Option::is_none) {
                continue;
            }
            let mut settings = Settings::new();
            let mut bad = false;
            for (setting, (variable, value)) in Setting::ALL
                .into_iter()
                .zip(&found)
                .filter_map(|(s, f)| Some((s, f.as_ref()?)))
            {
                let set = match value {
                    Ok(raw) => text::parse(setting, raw)
                        .and_then(|v| settings.set(setting, v).map_err(|e| e.to_string())),
                    Err(_) => Err("not valid UTF-8".to_owned()),
                };
                if let Err(why) = set {
                    bad = true;
                    problems.push(EnvProblem::new(variable, value, why));
                }
            }
            if bad {
                continue;
            }
            let base = registry.current_config(name).unwrap_or_default();
            match settings.apply(&base) {
                Ok(config) => configs.push((name.clone(), config)),
                Err(err) => {
                    // Blame the variable of a setting the error is about, else (no such
                    // variable is set: the values came from the breaker) the first one set.
                    let at = |s: Setting| found[s.index()].as_ref();
                    if let Some((variable, value)) = err
                        .blamed()
                        .find_map(at)
                        .or_else(|| found.iter().flatten().next())
                    {
                        problems.push(EnvProblem::new(variable, value, err.to_string()));
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(configs)
        } else {
            Err(EnvError { problems })
        }
    }

    /// The variables that start with one of the prefixes; values that are not UTF-8 are kept
    /// as `Err(lossy)` to be reported.
    fn relevant<K, V>(&self, vars: impl IntoIterator<Item = (K, V)>) -> HashMap<String, Value>
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        vars.into_iter()
            .filter_map(|(k, v)| {
                let k = k.as_ref().to_str()?;
                if !self.breakers.iter().any(|(_, p)| k.starts_with(p.as_str())) {
                    return None;
                }
                let v = v.as_ref();
                let value = v
                    .to_str()
                    .map(str::to_owned)
                    .ok_or_else(|| v.to_string_lossy().into_owned());
                Some((k.to_owned(), value))
            })
            .collect()
    }

    /// Whether two breakers read variables of this prefix (`a-b` and `a_b` both read
    /// `CIRCUIT_A_B_*`).
    fn is_shared(&self, prefix: &str) -> bool {
        self.breakers.iter().filter(|(_, p)| p == prefix).count() > 1
    }

    /// A problem for each variable that is set and read by two breakers: which one it is
    /// meant for cannot be told.
    fn shared_variables(&self, vars: &HashMap<String, Value>) -> Vec<EnvProblem> {
        let mut problems = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for (_, prefix) in &self.breakers {
            if seen.contains(&prefix.as_str()) || !self.is_shared(prefix) {
                continue;
            }
            seen.push(prefix);
            let names: Vec<String> = self
                .breakers
                .iter()
                .filter(|(_, p)| p == prefix)
                .map(|(n, _)| format!("`{n}`"))
                .collect();
            for setting in Setting::ALL {
                let variable = variable(prefix, setting);
                if let Some(value) = vars.get(&variable) {
                    let why = format!(
                        "breakers {} all read it; give all but one a prefix of their own",
                        names.join(", ")
                    );
                    problems.push(EnvProblem::new(&variable, value, why));
                }
            }
        }
        problems
    }
}

/// The variable of one setting: `CIRCUIT_USER_SERVICE` + `FAILURE_THRESHOLD`.
fn variable(prefix: &str, setting: Setting) -> String {
    format!("{prefix}_{}", setting.env_suffix())
}

/// A variable's value: `Err` holds a lossy rendering of one that is not UTF-8.
type Value = Result<String, String>;

/// Every bad value [`EnvConfig::apply`] found. Nothing was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvError {
    problems: Vec<EnvProblem>,
}

impl EnvError {
    /// The bad values, in the order of the breakers and of their settings.
    pub fn problems(&self) -> &[EnvProblem] {
        &self.problems
    }
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        let s = if n == 1 { "" } else { "s" };
        write!(
            f,
            "{n} bad circuit breaker setting{s} in the environment; none was applied:"
        )?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for EnvError {}

/// One bad environment variable: its name, its value, and why it was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvProblem {
    variable: String,
    value: String,
    reason: String,
}

impl EnvProblem {
    fn new(variable: &str, value: &Value, reason: String) -> Self {
        let value = match value {
            Ok(v) | Err(v) => v.clone(),
        };
        EnvProblem {
            variable: variable.to_owned(),
            value,
            reason,
        }
    }

    /// The variable's name.
    pub fn variable(&self) -> &str {
        &self.variable
    }

    /// Its value (lossily converted if it was not UTF-8).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Why it was refused.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for EnvProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?}: {}", self.variable, self.value, self.reason)
    }
}
