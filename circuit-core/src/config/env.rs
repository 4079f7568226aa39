//! Configuration from environment variables, read once at start-up.
//!
//! A breaker named `user-service` reads `CIRCUIT_USER_SERVICE_FAILURE_THRESHOLD`,
//! `..._SUCCESS_THRESHOLD`, `..._RECOVERY_TIMEOUT`, `..._FAILURE_RATE_THRESHOLD`,
//! `..._SLIDING_WINDOW` and so on, one per setting; a breaker
//! given a prefix of its own (`DB_CIRCUIT_BREAKER`) reads
//! `DB_CIRCUIT_BREAKER_FAILURE_THRESHOLD` and so on: one variable per [`Setting`], named by its
//! [`env_suffix`](Setting::env_suffix). Every value is checked before any is applied, and every
//! bad one is reported, so an operator fixes them all in one round.

use crate::config::{listing, text, Setting, Settings};
use crate::{Config, Registry};
use std::collections::{HashMap, HashSet};
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
/// Values, by the kind of the setting (see [`Setting`]):
///
/// | kind | settings | written |
/// |---|---|---|
/// | count | `FAILURE_THRESHOLD`, `SUCCESS_THRESHOLD`, `HALF_OPEN_MAX_CALLS`, `MINIMUM_CALLS` | `5` |
/// | duration | `RECOVERY_TIMEOUT`, `HALF_OPEN_MAX_WAIT`, `SLOW_CALL_DURATION`, `TIMEOUT`, `ABANDONED_CALL_DURATION` | `500ms`, `90s`, `5m`, `1h`, or bare seconds `60` |
/// | ratio | `FAILURE_RATE_THRESHOLD`, `SLOW_CALL_RATE_THRESHOLD`, `JITTER` | `0.5` (not `50%`) |
/// | window | `SLIDING_WINDOW` | `100 calls` or a duration with its unit, `60s` |
/// | backoff | `BACKOFF` | `constant` or `exponential(2, 5m)` (multiplier, longest period) |
/// | yes or no | `RECORD_CALL_DURATIONS` | `true` or `false` (not `1`, `yes`, `on`) |
///
/// A duration is a whole number with one unit of `ms`, `s`, `m`, `h` and nothing between
/// them, the grammar of the attribute's `recovery_timeout`, or, unlike the attribute, a bare
/// whole number of seconds. A window has no bare number: `100` could be calls or seconds.
/// Whitespace around a value is ignored. They are checked with
/// [`ConfigBuilder::build`](crate::ConfigBuilder::build)'s rules and messages, and a variable
/// counts as given explicitly ([`Config::is_set`]): a `FAILURE_THRESHOLD` beside a rate rule
/// keeps the consecutive rule on.
///
/// Unset variables leave their setting as it is: settings are laid over the breaker's
/// configuration (its attribute's literals, or one given earlier to
/// [`Registry::configure`], for instance from a file with `FileConfig`), or over the
/// defaults for a breaker that is not created yet and has none. A breaker whose variables are
/// all unset is left alone. Variables are looked up by their exact names: one misspelt is not
/// seen, as with any environment variable.
#[derive(Clone, Default)]
pub struct EnvConfig {
    /// `(breaker name, prefix without the trailing `_`)`, in the order given. A breaker given
    /// again moves to the end: its old place is left `None`, so that giving one breaker costs
    /// the same however many there are.
    breakers: Vec<Option<(String, String)>>,
    /// Where each breaker is in `breakers`.
    places: HashMap<String, usize>,
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
                self.remove(name);
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
    ///
    /// Its cost, and that of [`apply_from`](Self::apply_from) after it, grows linearly with
    /// the number of breakers.
    pub fn registered(mut self, registry: &Registry) -> Self {
        for name in work::counted(registry.names()) {
            if !self.places.contains_key(&name) {
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
        self.remove(name);
        self.places.insert(name.to_owned(), self.breakers.len());
        self.breakers.push(Some((name.to_owned(), prefix)));
        self
    }

    fn remove(&mut self, name: &str) {
        if let Some(at) = self.places.remove(name) {
            self.breakers[at] = None;
        }
    }

    /// `(name, prefix)` of every breaker, in the order given.
    fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        work::counted(self.breakers.iter().flatten()).map(|(n, p)| (n.as_str(), p.as_str()))
    }

    /// The names of the breakers that read each prefix, in the order given.
    fn readers(&self) -> HashMap<&str, Vec<&str>> {
        let mut readers: HashMap<&str, Vec<&str>> = HashMap::new();
        for (name, prefix) in self.entries() {
            readers.entry(prefix).or_default().push(name);
        }
        readers
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
        let readers = self.readers();
        let vars = self.relevant(vars);
        let mut problems = self.shared_variables(&readers, &vars);
        let mut configs = Vec::new();
        for (name, prefix) in self.entries() {
            if readers[prefix].len() > 1 {
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
                    Ok(raw) => text::checked(setting, raw)
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
                Ok(config) => configs.push((name.to_owned(), config)),
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

    /// The variables some breaker reads, looked up by their exact names; values that are not
    /// UTF-8 are kept as `Err(lossy)` to be reported.
    fn relevant<K, V>(&self, vars: impl IntoIterator<Item = (K, V)>) -> HashMap<String, Value>
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        // Every name read, so that each variable of the environment costs one lookup however
        // many breakers there are (matching each against every prefix was quadratic).
        let wanted: HashSet<String> = self
            .entries()
            .flat_map(|(_, prefix)| Setting::ALL.map(|setting| variable(prefix, setting)))
            .collect();
        work::counted(vars)
            .filter_map(|(k, v)| {
                let k = k.as_ref().to_str()?;
                if !wanted.contains(k) {
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

    /// A problem for each variable that is set and read by two breakers (`a-b` and `a_b` both
    /// read `CIRCUIT_A_B_*`): which one it is meant for cannot be told.
    fn shared_variables(
        &self,
        readers: &HashMap<&str, Vec<&str>>,
        vars: &HashMap<String, Value>,
    ) -> Vec<EnvProblem> {
        let mut problems = Vec::new();
        let mut reported: HashSet<&str> = HashSet::new();
        for (_, prefix) in self.entries() {
            let names = &readers[prefix];
            if names.len() < 2 || !reported.insert(prefix) {
                continue;
            }
            for setting in Setting::ALL {
                let variable = variable(prefix, setting);
                if let Some(value) = vars.get(&variable) {
                    let why = format!(
                        "breakers {} all read it; give all but one a prefix of their own",
                        listing::quoted(names, names.len())
                    );
                    problems.push(EnvProblem::new(&variable, value, why));
                }
            }
        }
        problems
    }
}

impl fmt::Debug for EnvConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.breakers.iter().flatten().map(|(n, p)| (n, p)))
            .finish()
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
        listing::write_problems(f, &self.problems, "EnvError")
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

/// Counts, in unit tests only, the items the loops over breakers and variables visit, so that
/// a test can tell linear work from quadratic without a clock. Every such loop goes through
/// [`counted`](work::counted).
mod work {
    #[cfg(test)]
    thread_local! {
        pub(super) static VISITED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }

    /// `items`, counted in tests.
    pub(super) fn counted<I: IntoIterator>(items: I) -> impl Iterator<Item = I::Item> {
        let items = items.into_iter();
        #[cfg(test)]
        let items = items.inspect(|_| VISITED.with(|n| n.set(n.get() + 1)));
        items
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Kind;

    /// Items visited by `registered` then `apply_from`, for `n` breakers with every variable
    /// set (and as many unrelated ones).
    fn visited_for(n: usize) -> u64 {
        let registry = Registry::new();
        for i in 0..n {
            registry.get_or_create(&format!("breaker-{i}"), Config::default());
        }
        let mut vars = Vec::new();
        for i in 0..n {
            for setting in Setting::ALL {
                let value = match setting.kind() {
                    Kind::Count => "2",
                    Kind::Duration => "30s",
                    Kind::Ratio => "0.5",
                    Kind::Window => "100 calls",
                    Kind::Backoff => "exponential(2, 5m)",
                    Kind::Bool => "true",
                };
                vars.push((variable(&format!("CIRCUIT_BREAKER_{i}"), setting), value));
            }
            vars.push((format!("UNRELATED_{i}"), "x"));
        }
        work::VISITED.with(|v| v.set(0));
        let applied = EnvConfig::new()
            .registered(&registry)
            .apply_from(&registry, vars)
            .unwrap();
        assert_eq!(applied.len(), n);
        work::VISITED.with(|v| v.get())
    }

    #[test]
    fn setting_up_from_a_large_registry_is_linear_in_its_breakers() {
        // 20,000 breakers took 3.6 s and 50,000 took 45 s when each breaker was checked
        // against every other one. Here the work of 8,000 breakers is four times that of
        // 2,000 (quadratic work would be sixteen times).
        let (small, large) = (visited_for(2_000), visited_for(8_000));
        assert_eq!(large, 4 * small, "{small} items visited, then {large}");
    }
}
