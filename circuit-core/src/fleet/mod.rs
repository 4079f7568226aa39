//! The fleet (feature `redis`): the instances of a service share what their breakers learn,
//! through Redis, without a network call on any call path.
//!
//! ```no_run
//! use circuit_core::fleet::Fleet;
//!
//! # async fn start() -> Result<(), circuit_core::fleet::FleetError> {
//! // Once, at start-up, inside the tokio runtime; keep the handle for as long as the service
//! // runs (dropping it detaches the fleet).
//! let fleet = Fleet::builder("redis://127.0.0.1:6379/", "checkout")
//!     .quorum(2)
//!     .attach(circuit_core::registry())?;
//!
//! // An operator's order, carried out by every instance of the service:
//! fleet.force_open("payments").await?;
//! # Ok(()) }
//! ```
//!
//! What it does (the design, its failure modes and its promises are in `docs/fleet.md`):
//!
//! - **Transitions, never counters.** Each breaker counts alone, as without the fleet. When one
//!   opens on its own evidence, the instance publishes it (name, instance, time left) and sets
//!   the key `circuit:{service}:open:{name}:{instance}`, which expires with the period; when
//!   it closes, it withdraws both. A call reads local state only: the fleet moves that state
//!   from a background task.
//! - **Quorum.** A Closed breaker opens from the fleet (reason [`Reason::Fleet`](crate::Reason::Fleet)) once at least
//!   `quorum` distinct instances have it open, itself included; default 2, so one instance's
//!   local trouble (its own network path, a bad pod) never opens the others. A breaker already
//!   Open lengthens its period to what another instance publishes.
//! - **One trial for the fleet.** Shortly before an Open period ends, the instance asks for the
//!   trial lease (`SET circuit:{service}:trial:{name} NX PX`). The winner goes HalfOpen and
//!   sends the trial calls; the others hold their period open until the lease expires or the
//!   winner publishes the outcome: `recovered` closes them, a new `opened` lengthens their
//!   period. A dead winner's lease expires and the next instance takes it.
//! - **Late joiners and reconnects** read the `open` keys and their remaining time (`SCAN`,
//!   `PTTL`) before trusting the subscription, and publish their own Open periods again.
//! - **Fail open.** Without Redis every breaker works alone; the task reconnects with
//!   exponential backoff and jitter, and [`Fleet::is_connected`] (with feature `prometheus`,
//!   the gauge `circuit_breaker_fleet_connected`) and one `tracing` event per loss and return
//!   say so. Messages that do not parse, or break a bound ([`MAX_NAME_LEN`], [`MAX_ID_LEN`]),
//!   are dropped with a warning.
//!
//! Breakers are found by name in the registry ([`Registry::get`]): named breakers, those of
//! the attribute included; a keyed set's breakers are not shared. Metrics-only transitions are
//! not shared (they say "would have").

mod keys;
mod message;
#[cfg(feature = "prometheus")]
mod metrics;
mod outbox;
mod react;
mod task;
mod witnesses;

pub use message::{Order, MAX_ID_LEN, MAX_NAME_LEN};
#[cfg(feature = "prometheus")]
#[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
pub use metrics::FleetCollector;
/// The `redis` crate the fleet is built on (its errors are in [`FleetError::Redis`]).
pub use redis;

use crate::Registry;
use keys::Keys;
use outbox::Outbox;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The default quorum: two independent witnesses. One is any instance's local trouble; two is
/// strong evidence, and a fleet of two still acts on agreement.
pub const DEFAULT_QUORUM: u32 = 2;

/// How long the task waits for Redis to connect or to answer one command, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

/// Why the fleet could not be attached, or an order not sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// A setting of [`FleetBuilder`] was refused.
    #[error("fleet setting `{field}` refused {value:?}: {why}")]
    Setting {
        /// The setting.
        field: &'static str,
        /// The value refused.
        value: String,
        /// What it must be instead.
        why: &'static str,
    },
    /// [`FleetBuilder::attach`] was called outside a tokio runtime.
    #[error("the fleet runs as a tokio task: attach it from within a tokio runtime")]
    NoRuntime,
    /// An order named a breaker the fleet cannot share.
    #[error("breaker name {0:?} cannot be shared: 1 to 128 bytes, no control characters")]
    Name(String),
    /// Redis refused, or the connection failed.
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The connection to Redis was lost.
    #[error("the connection to Redis was lost: {0}")]
    Lost(&'static str),
    /// Redis did not answer in time.
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
}

/// What [`Fleet::builder`] returns: the fleet's settings, then [`attach`](Self::attach).
#[derive(Clone, Debug)]
pub struct FleetBuilder {
    url: String,
    service: String,
    instance: Option<String>,
    quorum: u32,
    timeout: Duration,
}

impl FleetBuilder {
    /// This instance's id, unique in the fleet: 1 to [`MAX_ID_LEN`] bytes of ASCII letters,
    /// digits, `.`, `_` and `-`. Default: `$HOSTNAME` (its allowed characters) and the process
    /// id, `web-7f9c-4242`.
    pub fn instance(mut self, id: impl Into<String>) -> Self {
        self.instance = Some(id.into());
        self
    }

    /// How many distinct instances must have a breaker open for the others to open it
    /// (default [`DEFAULT_QUORUM`]). 1 trusts every instance: the fastest, and one sick
    /// instance then opens the whole fleet; large fleets may want a majority.
    pub fn quorum(mut self, quorum: u32) -> Self {
        self.quorum = quorum;
        self
    }

    /// How long to wait for Redis to connect, or to answer one command (default
    /// [`DEFAULT_TIMEOUT`]); past it, the task counts Redis as gone and reconnects.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Attaches the fleet to `registry` (`&'static Registry`, such as
    /// [`registry()`](crate::registry()), or `Arc<Registry>`) and starts its task on the
    /// current tokio runtime. It returns at once: the task connects, and reconnects, by itself,
    /// and every breaker works alone until it does.
    ///
    /// # Errors
    ///
    /// [`FleetError::Setting`] for a bad URL, service name, instance id, quorum or timeout,
    /// [`FleetError::NoRuntime`] outside a tokio runtime.
    pub fn attach<R>(self, registry: R) -> Result<Fleet, FleetError>
    where
        R: Deref<Target = Registry> + Send + Sync + 'static,
    {
        let instance = match self.instance {
            Some(id) => id,
            None => default_instance(),
        };
        check_id("service", &self.service)?;
        check_id("instance", &instance)?;
        if self.quorum == 0 {
            return Err(setting("quorum", "0", "at least 1"));
        }
        if self.timeout.is_zero() {
            return Err(setting("timeout", "0s", "more than zero"));
        }
        let client = redis::Client::open(self.url.as_str())
            .map_err(|_| setting("url", &self.url, "a redis:// URL"))?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| FleetError::NoRuntime)?;

        let shared = Arc::new(Shared::default());
        let outbox = shared.clone();
        registry.on_state_change(move |t| outbox.outbox.push(t));
        let keys = Keys::new(&self.service);
        let task = task::Task::new(
            registry,
            shared.clone(),
            client.clone(),
            keys.clone(),
            instance.clone(),
            self.quorum,
            self.timeout,
        );
        let handle = runtime.spawn(task.run());
        Ok(Fleet {
            shared,
            client,
            keys,
            instance,
            timeout: self.timeout,
            task: Some(handle),
        })
    }
}

/// The fleet attached to a registry: the handle of its background task. Dropping it stops the
/// task (the breakers then work alone, as before).
#[derive(Debug)]
pub struct Fleet {
    shared: Arc<Shared>,
    client: redis::Client,
    keys: Keys,
    instance: String,
    timeout: Duration,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Fleet {
    /// The settings for a fleet on the Redis at `url` (`redis://host:port/db`), for the
    /// service `service` (its namespace in Redis: 1 to [`MAX_ID_LEN`] bytes of ASCII letters,
    /// digits, `.`, `_` and `-`).
    pub fn builder(url: impl Into<String>, service: impl Into<String>) -> FleetBuilder {
        FleetBuilder {
            url: url.into(),
            service: service.into(),
            instance: None,
            quorum: DEFAULT_QUORUM,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// This instance's id in the fleet.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Whether the task is connected to Redis and subscribed now.
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::Relaxed)
    }

    /// Transitions the task dropped because it fell behind (see the outbox's bound).
    pub fn dropped(&self) -> u64 {
        self.shared.outbox.dropped()
    }

    /// Messages received and ignored: malformed, foreign, or past a bound.
    pub fn ignored(&self) -> u64 {
        self.shared.ignored.load(Ordering::Relaxed)
    }

    /// [`Registry::force_open`] on every instance of the service, this one included.
    ///
    /// # Errors
    ///
    /// [`FleetError::Name`] for a name the fleet cannot share; [`FleetError::Redis`] or
    /// [`FleetError::Timeout`] if the order could not be published (then no instance got it).
    pub async fn force_open(&self, name: &str) -> Result<(), FleetError> {
        self.order(Order::ForceOpen, name).await
    }

    /// [`Registry::disable`] on every instance of the service, this one included.
    ///
    /// # Errors
    ///
    /// As [`force_open`](Self::force_open).
    pub async fn disable(&self, name: &str) -> Result<(), FleetError> {
        self.order(Order::Disable, name).await
    }

    /// [`Registry::reset`] on every instance of the service, this one included.
    ///
    /// # Errors
    ///
    /// As [`force_open`](Self::force_open).
    pub async fn reset(&self, name: &str) -> Result<(), FleetError> {
        self.order(Order::Reset, name).await
    }

    /// Publishes `order` for the breaker `name` on the service's `admin` channel, on a
    /// connection of its own (orders are rare; the task's connection may be reconnecting).
    /// Each instance's task carries it out, this one's included, when it hears it; an instance
    /// cut off from Redis at that moment does not hear it.
    ///
    /// # Errors
    ///
    /// As [`force_open`](Self::force_open).
    pub async fn order(&self, order: Order, name: &str) -> Result<(), FleetError> {
        if !message::valid_name(name) {
            return Err(FleetError::Name(name.to_owned()));
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        let mut conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        redis::cmd("PUBLISH")
            .arg(self.keys.admin())
            .arg(message::encode_order(order, name))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    /// Stops the task and waits for it to end.
    pub async fn shutdown(mut self) {
        self.shared.stop();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.shared.stop();
    }
}

/// What the handle, the registry's listener and the task share.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    outbox: Outbox,
    connected: AtomicBool,
    ignored: AtomicU64,
    stopped: AtomicBool,
    stop: Notify,
}

impl Shared {
    fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        self.outbox.close();
        // notify_one keeps a wake-up for a task not waiting at this moment.
        self.stop.notify_one();
    }

    /// Resolves once the fleet is stopped.
    async fn stopped(&self) {
        while !self.stopped.load(Ordering::Relaxed) {
            self.stop.notified().await;
        }
    }
}

fn check_id(field: &'static str, value: &str) -> Result<(), FleetError> {
    if message::valid_id(value) {
        Ok(())
    } else {
        Err(setting(
            field,
            value,
            "1 to 128 bytes of ASCII letters, digits, `.`, `_` and `-`",
        ))
    }
}

fn setting(field: &'static str, value: &str, why: &'static str) -> FleetError {
    FleetError::Setting {
        field,
        value: value.to_owned(),
        why,
    }
}

/// `$HOSTNAME`'s allowed characters and the process id: unique per live process on a host,
/// and readable in logs.
fn default_instance() -> String {
    let host: String = std::env::var("HOSTNAME")
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(MAX_ID_LEN - 12)
        .collect();
    let host = if host.is_empty() { "instance" } else { &host };
    format!("{host}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_and_named_in_the_error() {
        // A static, not a leaked box: still reachable at exit, which the leak check allows.
        static REGISTRY: std::sync::LazyLock<Registry> = std::sync::LazyLock::new(Registry::new);
        let registry: &'static Registry = &REGISTRY;
        let cases = [
            (Fleet::builder("redis://127.0.0.1/", "a b"), "service"),
            (
                Fleet::builder("redis://127.0.0.1/", "shop").instance("i:1"),
                "instance",
            ),
            (
                Fleet::builder("redis://127.0.0.1/", "shop").quorum(0),
                "quorum",
            ),
            (
                Fleet::builder("redis://127.0.0.1/", "shop").timeout(Duration::ZERO),
                "timeout",
            ),
            (Fleet::builder("http://nowhere", "shop"), "url"),
        ];
        for (builder, field) in cases {
            match builder.attach(registry) {
                Err(FleetError::Setting { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn attaching_outside_a_runtime_says_so() {
        // A static, not a leaked box: still reachable at exit, which the leak check allows.
        static REGISTRY: std::sync::LazyLock<Registry> = std::sync::LazyLock::new(Registry::new);
        let registry: &'static Registry = &REGISTRY;
        let result = Fleet::builder("redis://127.0.0.1/", "shop").attach(registry);
        assert!(matches!(result, Err(FleetError::NoRuntime)), "{result:?}");
    }

    #[test]
    fn the_default_instance_id_is_valid() {
        assert!(message::valid_id(&default_instance()));
    }
}
