//! The process-wide registry of named breakers: lookup and creation by name ([`table`] holds
//! the lock-free map), the breakers that `#[circuit_breaker]` attributes declare
//! ([`declarations`]), administration by name for an admin endpoint ([`admin`]), and
//! breakers per key made from a template ([`keyed`]).

mod admin;
pub(crate) mod declarations;
mod keyed;
mod table;

pub use admin::UnknownBreaker;
pub use keyed::{KeyError, KeyedBreakers, KeyedLimits};

use crate::events::delivery::{Listener, SharedListeners};
use crate::sync::Mutex;
use crate::{CircuitBreaker, Config, Snapshot, State, Transition};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use table::{NameTable, Writer};

/// The registry every `#[circuit_breaker]` function uses. On first use it creates every
/// breaker that an attribute in the program declares, so a health endpoint sees them all
/// before their first call.
#[inline]
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
/// Looking a breaker up takes no lock and writes no shared memory, so code may look its
/// breaker up by name on every call: [`lookup`](Self::lookup) and
/// [`lookup_or_create`](Self::lookup_or_create) hand back a `&CircuitBreaker` borrowed from the
/// registry (a few nanoseconds, and two threads looking up one name do not slow each other);
/// [`get`](Self::get) and [`get_or_create`](Self::get_or_create) hand back an
/// `Arc<CircuitBreaker>` to keep, and pay an atomic reference-count increment for it.
///
/// ```
/// use circuit_core::{registry, CircuitError, Config};
///
/// // As an HTTP client would, on every request to the users service:
/// fn fetch_user(id: u64) -> Result<String, CircuitError<std::io::Error>> {
///     let breaker = registry().lookup_or_create("users", Config::default);
///     breaker.call(|| Ok(format!("user {id}")))
/// }
/// assert_eq!(fetch_user(7)?, "user 7");
/// # Ok::<(), CircuitError<std::io::Error>>(())
/// ```
///
/// A registry never removes a breaker it made: named breakers live as long as the registry
/// (the process, for [`registry()`]), which is what lets a lookup lend one out without a
/// reference count. For breakers that come and go with request keys, see [`KeyedBreakers`].
pub struct Registry {
    breakers: NameTable,
    /// Serialises creation, and holds what only creation touches.
    writer: Mutex<Writer>,
    /// Configurations given to `configure` for names not created yet.
    pending: Mutex<HashMap<String, Config>>,
    /// Sets of per-key breakers, by name.
    keyed: Mutex<HashMap<String, Arc<KeyedBreakers>>>,
    /// Listeners of every breaker of the registry, read at each delivery.
    listeners: Arc<SharedListeners>,
    /// What each breaker of the registry starts its listeners with, to hear `listeners`.
    forwarder: Arc<Vec<Listener>>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl Registry {
    /// An empty registry, apart from the process-wide one: for tests, or a component that
    /// keeps its own set of breakers.
    pub fn new() -> Self {
        let (listeners, forwarder) = SharedListeners::new();
        Registry {
            breakers: NameTable::new(),
            writer: Mutex::new(Writer::default()),
            pending: Mutex::new(HashMap::new()),
            keyed: Mutex::new(HashMap::new()),
            listeners,
            forwarder,
        }
    }

    /// Calls `listener` after every change of state of every breaker of this registry: the
    /// named breakers and those of its keyed sets, made before this call or after it (a
    /// breaker made at run time is heard as well as one the attribute declared). For each
    /// breaker the order and guarantees are those of
    /// [`CircuitBreaker::on_state_change`]: in the order of its changes, outside every lock, a
    /// panic contained; the registry's listeners are called before the breaker's own.
    ///
    /// ```
    /// use circuit_core::{Config, Registry, State};
    /// use std::sync::{Arc, Mutex};
    ///
    /// let registry = Registry::new();
    /// let heard = Arc::new(Mutex::new(Vec::new()));
    /// let h = heard.clone();
    /// registry.on_state_change(move |t| h.lock().unwrap().push((t.name.clone(), t.to)));
    ///
    /// // Made after the listener: heard all the same.
    /// let config = Config::builder().failure_threshold(1).build()?;
    /// let users = registry.get_or_create("users", config);
    /// let _ = users.call(|| Err::<(), _>("refused"));
    /// assert_eq!(*heard.lock().unwrap(), [("users".to_owned(), State::Open)]);
    /// # Ok::<(), circuit_core::ConfigError>(())
    /// ```
    pub fn on_state_change(&self, listener: impl Fn(&Transition) + Send + Sync + 'static) {
        self.listeners.add(Arc::new(listener));
    }

    /// The set of per-key breakers named `set`, made with `template` and `limits` if there is
    /// none: every part of a program that asks for one name shares one set (a layer built
    /// twice shares its breakers). See [`KeyedBreakers`]. The set's breakers are not among the
    /// registry's named breakers: [`snapshots`](Self::snapshots) and the reports built on it
    /// do not grow with keys.
    ///
    /// A configuration given to [`configure`](Self::configure) for the name `set` wins over
    /// `template`, before the set is made (it is then the template) or after (the set is
    /// reconfigured), as for a named breaker; so the environment and files reach a set by its
    /// name.
    pub fn keyed(&self, set: &str, template: Config, limits: KeyedLimits) -> Arc<KeyedBreakers> {
        let mut sets = self.keyed.lock();
        if let Some(found) = sets.get(set) {
            return found.clone();
        }
        // Read, not taken: a named breaker of the same name may still be made and take it.
        let template = self.pending.lock().get(set).cloned().unwrap_or(template);
        let made =
            Arc::new(KeyedBreakers::new(set, template, limits).heard_by(self.forwarder.clone()));
        sets.insert(set.to_owned(), made.clone());
        made
    }

    /// The set of per-key breakers named `set`, if one was made.
    pub fn keyed_set(&self, set: &str) -> Option<Arc<KeyedBreakers>> {
        self.keyed.lock().get(set).cloned()
    }

    /// The breaker named `name`, borrowed from the registry: no lock, no reference count, so
    /// it costs a hash of the name and a probe of the table. Use it to look a breaker up on
    /// every call; keep an `Arc` from [`get`](Self::get) to hold one beyond a borrow.
    #[inline]
    pub fn lookup(&self, name: &str) -> Option<&CircuitBreaker> {
        self.breakers.get(name).map(|b| &**b)
    }

    /// The breaker named `name`, created with `config()` if there is none, borrowed from the
    /// registry. `config` runs only when the breaker is created, so building a configuration
    /// costs nothing on the calls that find the breaker. A configuration given earlier to
    /// [`configure`](Self::configure) for this name wins over `config()`.
    #[inline]
    pub fn lookup_or_create(&self, name: &str, config: impl FnOnce() -> Config) -> &CircuitBreaker {
        match self.breakers.get(name) {
            Some(breaker) => breaker,
            None => self.create(name, config),
        }
    }

    /// The breaker named `name`, created with `config` if there is none. A configuration given
    /// earlier to [`configure`](Self::configure) for this name wins over `config`.
    pub fn get_or_create(&self, name: &str, config: Config) -> Arc<CircuitBreaker> {
        match self.breakers.get(name) {
            Some(breaker) => breaker.clone(),
            None => self.create(name, || config).clone(),
        }
    }

    #[cold]
    fn create(&self, name: &str, config: impl FnOnce() -> Config) -> &Arc<CircuitBreaker> {
        let mut writer = self.writer.lock();
        if let Some(breaker) = self.breakers.get(name) {
            return breaker;
        }
        let config = self.pending.lock().remove(name).unwrap_or_else(config);
        let breaker = Arc::new(CircuitBreaker::new(name, config).heard_by(self.forwarder.clone()));
        // Keyed by the breaker's own interned name, which lives as long as the process.
        let key = crate::breaker::name::intern(name)
            .interned()
            .expect("intern gives an interned name");
        self.breakers.insert(&mut writer, key, breaker);
        drop(writer);
        self.breakers.get(name).expect("just inserted")
    }

    /// The breaker named `name`, if it exists.
    #[inline]
    pub fn get(&self, name: &str) -> Option<Arc<CircuitBreaker>> {
        self.breakers.get(name).cloned()
    }

    /// The state of the breaker named `name`, if it exists.
    pub fn state(&self, name: &str) -> Option<State> {
        self.lookup(name).map(|b| b.state())
    }

    /// Snapshots of every breaker, sorted by name.
    pub fn snapshots(&self) -> Vec<Snapshot> {
        let mut snapshots: Vec<Snapshot> = self
            .breakers
            .entries()
            .map(|e| e.breaker.snapshot())
            .collect();
        snapshots.sort_by(|a, b| a.name.cmp(&b.name));
        snapshots
    }

    /// Every breaker, in no particular order.
    pub fn all(&self) -> Vec<Arc<CircuitBreaker>> {
        self.breakers.entries().map(|e| e.breaker.clone()).collect()
    }

    /// The names of every breaker, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .breakers
            .entries()
            .map(|e| e.breaker.name().to_owned())
            .collect();
        names.sort();
        names
    }

    /// Sets the configuration of the breaker named `name`: applied now to a live breaker
    /// (see [`CircuitBreaker::reconfigure`]), or kept until the breaker is created. Wins over
    /// the literals of a `#[circuit_breaker]` attribute.
    ///
    /// It configures a set of per-key breakers of that name too ([`keyed`](Self::keyed), or an
    /// attribute with `key = ...`): the set's template, and every breaker in it, now
    /// ([`KeyedBreakers::reconfigure`]) or when the set is made.
    pub fn configure(&self, name: &str, config: Config) {
        let set = self.keyed_set(name);
        if let Some(set) = &set {
            set.reconfigure(config.clone());
        }
        if !self.configure_named(name, config.clone()) || set.is_some() {
            return;
        }
        // Kept for a breaker not made yet: a set made since the look above read `pending`
        // before it was written, and is configured here.
        if let Some(set) = self.keyed_set(name) {
            set.reconfigure(config);
        }
    }

    /// `configure` for the named breaker; returns whether the configuration was kept for a
    /// breaker not made yet.
    fn configure_named(&self, name: &str, config: Config) -> bool {
        if let Some(breaker) = self.lookup(name) {
            breaker.reconfigure(config);
            return false;
        }
        // Under the creation lock, so a concurrent creation cannot slip between the lookup
        // and the insertion and miss this configuration.
        let _writer = self.writer.lock();
        match self.lookup(name) {
            Some(breaker) => {
                breaker.reconfigure(config);
                false
            }
            None => {
                self.pending.lock().insert(name.to_owned(), config);
                true
            }
        }
    }
}

impl Registry {
    /// The configuration `name` has now: its live breaker's, else its keyed set's template,
    /// else the one waiting for its creation. Configuration sources lay their settings over
    /// it.
    pub(crate) fn current_config(&self, name: &str) -> Option<Config> {
        if let Some(breaker) = self.lookup(name) {
            return Some(breaker.config());
        }
        if let Some(set) = self.keyed_set(name) {
            return Some(set.template());
        }
        let _writer = self.writer.lock();
        match self.lookup(name) {
            Some(breaker) => Some(breaker.config()),
            None => self.pending.lock().get(name).cloned(),
        }
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("breakers", &self.names())
            .finish_non_exhaustive()
    }
}
