//! The service's configuration, from the environment: the design's variables, each checked
//! before the service starts. A bad value stops it with a message naming the variable and the
//! value as given.

use circuit_core::config::EnvConfig;
use circuit_core::{Config, Registry};
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// The breaker that protects the database, by name: in `/health`, `/metrics` and the admin
/// routes.
pub const BREAKER: &str = "database";
/// The prefix of the breaker's variables (`DB_CIRCUIT_BREAKER_FAILURE_THRESHOLD`, ...).
pub const BREAKER_ENV_PREFIX: &str = "DB_CIRCUIT_BREAKER";

/// Everything the service reads at start-up.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `DATABASE_URL`: `sqlite://...` or `postgres://...`.
    pub database_url: String,
    /// `BIND`: where the service listens.
    pub bind: SocketAddr,
    /// `POOL_SIZE`: the most connections the pool opens.
    pub pool_size: u32,
    /// `POOL_TIMEOUT`: how long a statement waits for a free connection.
    pub pool_timeout: Duration,
    /// `DB_STATEMENT_TIMEOUT`: PostgreSQL's `statement_timeout`; SQLite's `busy_timeout`, the
    /// time a statement waits behind another connection's lock.
    pub statement_timeout: Duration,
    /// `ADMIN_TOKEN`: the bearer token of the admin routes, which are off without one.
    pub admin_token: Option<String>,
    /// `DB_CIRCUIT_BREAKER_*`: the database breaker's configuration.
    pub breaker: Config,
}

/// A variable the service cannot start with.
#[derive(Debug)]
pub struct BadSetting(String);

impl fmt::Display for BadSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadSetting {}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, BadSetting> {
        Settings::from_vars(std::env::vars())
    }

    /// Reads `vars` (name, value): the process environment, or a test's own.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, BadSetting> {
        let vars: HashMap<String, String> = vars.into_iter().collect();
        let get = |name: &str| vars.get(name).map(String::as_str);
        let database_url = match get("DATABASE_URL") {
            Some(url) => url.to_owned(),
            None => default_database_url(),
        };
        let bind = parse(get("BIND"), "BIND", "127.0.0.1:8000", |raw| {
            raw.parse::<SocketAddr>()
                .map_err(|_| "expected an address and port, such as 127.0.0.1:8000".to_owned())
        })?;
        let pool_size = parse(get("POOL_SIZE"), "POOL_SIZE", "10", |raw| {
            match raw.trim().parse::<u32>() {
                Ok(0) | Err(_) => Err("expected a whole number of connections, at least 1".into()),
                Ok(n) => Ok(n),
            }
        })?;
        let pool_timeout = parse(get("POOL_TIMEOUT"), "POOL_TIMEOUT", "30", positive_duration)?;
        let statement_timeout = parse(
            get("DB_STATEMENT_TIMEOUT"),
            "DB_STATEMENT_TIMEOUT",
            "5",
            positive_duration,
        )?;
        let admin_token = get("ADMIN_TOKEN")
            .filter(|t| !t.is_empty())
            .map(str::to_owned);

        // The breaker's variables are the library's own: its grammar, its checks, its
        // messages (each naming the variable and the value).
        let scratch = Registry::new();
        let configured = EnvConfig::new()
            .breaker_with_prefix(BREAKER, BREAKER_ENV_PREFIX)
            .apply_from(&scratch, &vars)
            .map_err(|e| BadSetting(e.to_string()))?;
        let breaker = configured
            .into_iter()
            .find(|(name, _)| name == BREAKER)
            .map_or_else(Config::default, |(_, config)| config);

        Ok(Settings {
            database_url,
            bind,
            pool_size,
            pool_timeout,
            statement_timeout,
            admin_token,
            breaker,
        })
    }
}

/// An SQLite file in the system's temporary directory, created on first use: the service
/// runs with no set-up.
pub fn default_database_url() -> String {
    let path = std::env::temp_dir().join("database_service.sqlite3");
    format!("sqlite://{}?mode=rwc", path.display())
}

fn parse<T>(
    raw: Option<&str>,
    name: &str,
    default: &str,
    read: impl Fn(&str) -> Result<T, String>,
) -> Result<T, BadSetting> {
    let raw = raw.unwrap_or(default);
    read(raw).map_err(|why| BadSetting(format!("{name}={raw:?} is refused: {why}")))
}

/// The library's duration grammar ([`circuit_core::config::parse_duration`], the one
/// `DB_CIRCUIT_BREAKER_RECOVERY_TIMEOUT` reads): whole seconds (`30`) or a whole number with
/// one unit of `ms`, `s`, `m`, `h` (`300ms`, `2s`). Zero is refused: a zero pool or statement
/// timeout would fail every query.
pub fn positive_duration(raw: &str) -> Result<Duration, String> {
    match circuit_core::config::parse_duration(raw) {
        Ok(d) if d.is_zero() => Err("must be more than zero".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}
