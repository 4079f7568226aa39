//! The database service of `examples/database_service`, built in-process on 127.0.0.1 with
//! its breaker on a `ManualClock`: real databases, real HTTP, breaker time moved by hand.
//! Declared with `#[path]` by test files that also include the example's modules (`db`,
//! `routes`, `settings`) at their root.

use crate::db::Database;
use crate::routes::{router, AppState};
use crate::settings::{Settings, BREAKER};
use circuit_core::clock::ManualClock;
use circuit_core::{CircuitBreaker, Config, Registry};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The breaker of the tests: trips at 3, recovers after 30 s, closes after 2 trial successes.
pub const FAILURE_THRESHOLD: u32 = 3;
pub const RECOVERY: Duration = Duration::from_secs(30);
pub const SUCCESS_THRESHOLD: u32 = 2;

/// A running service; stops serving when dropped.
pub struct Service {
    pub addr: SocketAddr,
    pub clock: ManualClock,
    pub breaker: Arc<CircuitBreaker>,
    pub db: Database,
    server: tokio::task::JoinHandle<()>,
}

/// Settings for `url` with the given timeouts, a pool of `pool_size`, and `admin_token`.
pub fn settings(
    url: &str,
    pool_size: u32,
    timeout: Duration,
    admin_token: Option<&str>,
) -> Settings {
    Settings {
        database_url: url.to_owned(),
        bind: "127.0.0.1:0".parse().unwrap(),
        pool_size,
        pool_timeout: timeout,
        statement_timeout: timeout,
        admin_token: admin_token.map(str::to_owned),
        breaker: Config::default(),
    }
}

impl Service {
    /// Serves `settings` with the tests' breaker on a manual clock, in a registry of its own.
    pub async fn start(settings: Settings) -> Service {
        let clock = ManualClock::new();
        let config = Config::builder()
            .failure_threshold(FAILURE_THRESHOLD)
            .success_threshold(SUCCESS_THRESHOLD)
            .recovery_timeout(RECOVERY)
            .clock(clock.clone())
            .build()
            .unwrap();
        let registry = test_registry();
        let breaker = registry.get_or_create(BREAKER, config);
        let db = Database::connect_lazy(&settings, breaker.clone()).expect("a valid URL");
        let app = router(AppState {
            db: db.clone(),
            registry,
            admin_token: settings.admin_token.as_deref().map(Into::into),
        });
        let listener = tokio::net::TcpListener::bind(settings.bind).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Service {
            addr,
            clock,
            breaker,
            db,
            server,
        }
    }
}

/// One registry per test, so tests running at once do not share a breaker. `'static` like the
/// process-wide one; kept in a static list so that it stays reachable (valgrind's leak check
/// counts a leaked block nobody points to as lost).
fn test_registry() -> &'static Registry {
    static KEPT: Mutex<Vec<&'static Registry>> = Mutex::new(Vec::new());
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    KEPT.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(registry);
    registry
}

impl Drop for Service {
    fn drop(&mut self) {
        self.server.abort();
    }
}
