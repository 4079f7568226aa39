//! The design's resilient HTTP client on reqwest: a `ServiceRegistry` of downstream services
//! (users, products, orders, payments) whose URLs come from configuration, and a
//! `ResilientHttpClient` that sends every request through its service's circuit breaker
//! (`circuit_core::reqwest::CircuitBreakerMiddleware`) and serves the last good response per
//! URL while a service is down.
//!
//! The four services are real axum servers on 127.0.0.1, started here. The example kills
//! `orders` (connections refused), makes `payments` hang (the client's timeout), asks
//! `products` for something missing (a 404, which must not trip), restarts `orders`, and prints
//! the health of every service as the design's report after each step.
//!
//! Run it with `cargo run --example http_client`. Set `SERVICE_USERS_URL` (or `_PRODUCTS_`,
//! `_ORDERS_`, `_PAYMENTS_`) to point a service elsewhere.

use axum::extract::State as AxumState;
use axum::http::{StatusCode, Uri};
use axum::Router;
use circuit_core::reqwest::{rejection, CircuitBreakerMiddleware, ServedFromCache};
use circuit_core::{registry, Config, FallbackCache};
use reqwest_middleware::ClientWithMiddleware;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const SERVICES: [&str; 4] = ["users", "products", "orders", "payments"];

/// How long the client waits for an answer before counting the request as failed.
const CLIENT_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a breaker stays open before it lets a trial request through.
const RECOVERY: Duration = Duration::from_secs(2);

/// The design's `ServiceRegistry`: where each service lives, from configuration.
struct ServiceRegistry {
    services: BTreeMap<&'static str, String>,
}

impl ServiceRegistry {
    /// Each service's base URL from `setting` (`SERVICE_USERS_URL` and the like).
    fn from_config(setting: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut services = BTreeMap::new();
        for service in SERVICES {
            let key = format!("SERVICE_{}_URL", service.to_uppercase());
            let url = setting(&key).ok_or_else(|| format!("{key} is not set"))?;
            services.insert(service, url.trim_end_matches('/').to_owned());
        }
        Ok(ServiceRegistry { services })
    }

    fn url(&self, service: &str, path: &str) -> String {
        format!("{}{path}", self.services[service])
    }

    /// The design's `get_service_health`: every service's breaker, from the registry.
    fn health(&self) -> serde_json::Value {
        let report = registry().health_report();
        let services: serde_json::Map<_, _> = report
            .breakers
            .iter()
            .filter(|(name, _)| self.services.contains_key(name.as_str()))
            .map(|(name, health)| {
                (
                    name.clone(),
                    serde_json::json!({
                        "status": health.state.to_string(),
                        "failures": health.consecutive_failures,
                        "healthy": health.healthy,
                        "last_failure": health.last_failure.map(|t| {
                            let ago = t.elapsed().unwrap_or_default();
                            format!("{:.1}s ago", ago.as_secs_f64())
                        }),
                    }),
                )
            })
            .collect();
        serde_json::Value::Object(services)
    }
}

/// The design's `ResilientHTTPClient`: one breaker per service, the last good response per URL.
struct ResilientHttpClient {
    registry: ServiceRegistry,
    clients: BTreeMap<&'static str, ClientWithMiddleware>,
}

impl ResilientHttpClient {
    fn new(registry: ServiceRegistry) -> Result<Self, Box<dyn std::error::Error>> {
        // One connection pool for every service; a breaker and a cache for each.
        let http = reqwest::Client::builder().timeout(CLIENT_TIMEOUT).build()?;
        let config = Config::builder()
            .failure_threshold(3)
            .success_threshold(1)
            .recovery_timeout(RECOVERY)
            .build()?;
        let clients = SERVICES
            .iter()
            .map(|&service| {
                let breaker = CircuitBreakerMiddleware::named_with(service, config.clone())
                    .fallback_cache(FallbackCache::new()); // 300 s per URL, the defaults
                let client = reqwest_middleware::ClientBuilder::new(http.clone())
                    .with(breaker)
                    .build();
                (service, client)
            })
            .collect();
        Ok(ResilientHttpClient { registry, clients })
    }

    /// GET `path` of `service`, said in one line.
    async fn get(&self, service: &str, path: &str) -> String {
        let url = self.registry.url(service, path);
        match self.clients[service].get(&url).send().await {
            Ok(response) => {
                let cached = response.extensions().get::<ServedFromCache>().is_some();
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                let from = if cached {
                    " (last good answer, cached)"
                } else {
                    ""
                };
                format!("{status} {body:?}{from}")
            }
            Err(error) => match rejection(&error) {
                Some(open) => format!("rejected: {open}"),
                None if error.is_timeout() => "failed: timed out".to_owned(),
                None if error.is_connect() => "failed: connection refused".to_owned(),
                None => format!("failed: {error}"),
            },
        }
    }

    async fn show(&self, service: &str, path: &str) {
        println!("  GET {service}{path} -> {}", self.get(service, path).await);
    }

    fn report(&self) {
        let health = serde_json::to_string_pretty(&self.registry.health()).unwrap();
        println!("  health:\n    {}", health.replace('\n', "\n    "));
    }
}

/// One upstream service: an axum server on 127.0.0.1 that can hang, be killed and restarted.
struct Upstream {
    name: &'static str,
    addr: SocketAddr,
    hang: Arc<AtomicBool>,
    stop: Option<watch::Sender<bool>>,
}

impl Upstream {
    async fn start(name: &'static str) -> std::io::Result<Upstream> {
        let mut upstream = Upstream {
            name,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            hang: Arc::new(AtomicBool::new(false)),
            stop: None,
        };
        upstream.restart().await?;
        Ok(upstream)
    }

    /// Serves again, on the same port once it has one.
    async fn restart(&mut self) -> std::io::Result<()> {
        let listener = tokio::net::TcpListener::bind(self.addr).await?;
        self.addr = listener.local_addr()?;
        let (stop, mut stopping) = watch::channel(false);
        let state = (self.name, self.hang.clone(), stopping.clone());
        let app = Router::new().fallback(answer).with_state(state);
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            };
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await;
        });
        self.stop = Some(stop);
        Ok(())
    }

    /// Kills the server: its port refuses connections until [`restart`](Self::restart).
    fn kill(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
    }
}

type UpstreamState = (&'static str, Arc<AtomicBool>, watch::Receiver<bool>);

async fn answer(
    AxumState((name, hang, mut stopping)): AxumState<UpstreamState>,
    uri: Uri,
) -> (StatusCode, String) {
    if hang.load(Ordering::SeqCst) {
        // Answers only when the server stops: the client gives up long before.
        let _ = stopping.wait_for(|stop| *stop).await;
    }
    match uri.path().rsplit('/').next() {
        Some("missing") => (StatusCode::NOT_FOUND, format!("no such {name}")),
        Some(id) => (StatusCode::OK, format!("{name} #{id}")),
        None => (StatusCode::OK, name.to_owned()),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut upstreams = BTreeMap::new();
    for service in SERVICES {
        upstreams.insert(service, Upstream::start(service).await?);
    }
    // Configuration: the environment, else the servers started above.
    let services = ServiceRegistry::from_config(|key| {
        std::env::var(key).ok().or_else(|| {
            let service = key.strip_prefix("SERVICE_")?.strip_suffix("_URL")?;
            let upstream = upstreams.get(service.to_lowercase().as_str())?;
            Some(format!("http://{}", upstream.addr))
        })
    })?;
    for (service, url) in &services.services {
        println!("{service:<9} {url}");
    }
    let client = ResilientHttpClient::new(services)?;
    for service in SERVICES {
        registry()
            .lookup(service)
            .expect("made by the client")
            .on_state_change(|t| println!("    [transition] {t}"));
    }

    println!("\n1. every service is up");
    for service in SERVICES {
        client.show(service, &format!("/{service}/7")).await;
    }
    client.show("products", "/products/missing").await; // a 404: the service answered

    println!("\n2. orders is killed; payments hangs; products has nothing for a missing id");
    upstreams.get_mut("orders").unwrap().kill();
    upstreams["payments"].hang.store(true, Ordering::SeqCst);
    for _ in 0..4 {
        client.show("orders", "/orders/7").await; // seen before: its last good answer
    }
    client.show("orders", "/orders/8").await; // never seen: nothing to serve
    for _ in 0..2 {
        client.show("payments", "/payments/7").await;
    }
    for _ in 0..4 {
        client.show("products", "/products/missing").await;
    }
    client.show("users", "/users/8").await;
    client.report();

    println!(
        "\n3. orders is restarted, payments answers again; after {RECOVERY:?} the breakers try"
    );
    upstreams.get_mut("orders").unwrap().restart().await?;
    upstreams["payments"].hang.store(false, Ordering::SeqCst);
    tokio::time::sleep(RECOVERY + Duration::from_millis(100)).await;
    client.show("orders", "/orders/8").await;
    client.show("payments", "/payments/8").await;
    client.report();

    for upstream in upstreams.values_mut() {
        upstream.kill();
    }
    Ok(())
}
