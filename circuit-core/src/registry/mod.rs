//! The process-wide registry of named breakers: lookup and creation by name, the breakers that
//! `#[circuit_breaker]` attributes declare ([`declarations`]), and administration by name for
//! an admin endpoint ([`admin`]).

mod admin;
pub(crate) mod declarations;

pub use admin::UnknownBreaker;

use crate::{CircuitBreaker, Config, Snapshot, State};
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

/// The registry every `#[circuit_breaker]` function uses. On first use it creates every
/// breaker that an attribute in the program declares, so a health endpoint sees them all
/// before their first call.
pub fn registry() -> &'static Registry {
    static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
        let registry = Registry::new();
        crate::registry::declarations::create_declared(&registry);
        registry
    });
    &REGISTRY
}

/// Named breakers, one per name.
///
/// Lookups take a read lock; code on a hot path holds on to the `Arc` it gets instead of
/// looking the breaker up per call (the attribute does this for you).
#[derive(Default)]
pub struct Registry {
    breakers: RwLock<HashMap<&'static str, Arc<CircuitBreaker>>>,
    /// Configurations given to `configure` for names not created yet.
    pending: Mutex<HashMap<String, Config>>,
}

impl Registry {
    /// An empty registry, apart from the process-wide one: for tests, or a component that
    /// keeps its own set of breakers.
    pub fn new() -> Self {
        Registry::default()
    }

    /// The breaker named `name`, created with `config` if there is none. A configuration given
    /// earlier to [`configure`](Self::configure) for this name wins over `config`.
    pub fn get_or_create(&self, name: &str, config: Config) -> Arc<CircuitBreaker> {
        if let Some(breaker) = self.get(name) {
            return breaker;
        }
        let mut breakers = self.breakers.write();
        if let Some(breaker) = breakers.get(name) {
            return breaker.clone();
        }
        let config = self.pending.lock().remove(name).unwrap_or(config);
        let breaker = Arc::new(CircuitBreaker::new(name, config));
        // Keyed by the breaker's own interned name, which lives as long as the process.
        let key: &'static str = breaker_name(&breaker);
        breakers.insert(key, breaker.clone());
        breaker
    }

    /// The breaker named `name`, if it exists.
    pub fn get(&self, name: &str) -> Option<Arc<CircuitBreaker>> {
        self.breakers.read().get(name).cloned()
    }

    /// The state of the breaker named `name`, if it exists.
    pub fn state(&self, name: &str) -> Option<State> {
        self.get(name).map(|b| b.state())
    }

    /// Snapshots of every breaker, sorted by name.
    pub fn snapshots(&self) -> Vec<Snapshot> {
        let mut snapshots: Vec<Snapshot> = self.all().iter().map(|b| b.snapshot()).collect();
        snapshots.sort_by(|a, b| a.name.cmp(&b.name));
        snapshots
    }

    /// Every breaker, in no particular order.
    pub fn all(&self) -> Vec<Arc<CircuitBreaker>> {
        self.breakers.read().values().cloned().collect()
    }

    /// The names of every breaker, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.breakers.read().keys().map(|n| n.to_string()).collect();
        names.sort();
        names
    }

    /// Sets the configuration of the breaker named `name`: applied now to a live breaker
    /// (see [`CircuitBreaker::reconfigure`]), or kept until the breaker is created. Wins over
    /// the literals of a `#[circuit_breaker]` attribute.
    pub fn configure(&self, name: &str, config: Config) {
        let breakers = self.breakers.read();
        match breakers.get(name) {
            Some(breaker) => breaker.reconfigure(config),
            None => {
                // Under the read lock, so a concurrent `get_or_create` cannot slip between the
                // lookup and the insertion and miss this configuration.
                self.pending.lock().insert(name.to_owned(), config);
            }
        }
    }
}

impl Registry {
    /// The configuration `name` has now: its live breaker's, or the one waiting for its
    /// creation. Configuration sources lay their settings over it.
    pub(crate) fn current_config(&self, name: &str) -> Option<Config> {
        let breakers = self.breakers.read();
        match breakers.get(name) {
            Some(breaker) => Some(breaker.config()),
            None => self.pending.lock().get(name).cloned(),
        }
    }
}

fn breaker_name(breaker: &Arc<CircuitBreaker>) -> &'static str {
    crate::breaker::name::intern(breaker.name()).as_str()
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("breakers", &self.names())
            .finish_non_exhaustive()
    }
}
