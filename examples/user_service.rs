//! The design's user and product services behind circuit breakers with fallbacks, written
//! with the `#[circuit_breaker]` attribute: the user service is called from plain sync code,
//! the product service is `async` and called from tokio tasks.
//!
//! A simulated outage of the user service trips its breaker; while it is open, callers get
//! the last good result from a cache, or a placeholder user, without touching the service.
//! When the service comes back, trial calls close the breaker again. Every transition is
//! printed as it happens. Run it with `cargo run -p circuit-examples --example user_service`
//! (`cargo run --example user_service` works too, but builds every integration first).

use circuit_core::{circuit_breaker, registry, CircuitOpen, FallbackCache, State};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::LazyLock;
use std::time::Duration;

#[derive(Clone, Debug)]
#[allow(dead_code)] // read through Debug
struct User {
    id: u64,
    name: String,
    cached: bool,
}

#[derive(Clone, Debug)]
#[allow(dead_code)] // read through Debug
struct Product {
    id: u64,
    name: String,
    price: f64,
    available: bool,
}

#[derive(Debug)]
#[allow(dead_code)] // read through Debug
enum ServiceError {
    Unavailable(&'static str),
    Rejected(CircuitOpen),
}

impl From<CircuitOpen> for ServiceError {
    fn from(open: CircuitOpen) -> Self {
        ServiceError::Rejected(open)
    }
}

/// Whether the remote user service is up: the demo takes it down and brings it back.
static USER_SERVICE_UP: AtomicBool = AtomicBool::new(true);

/// Whether the remote product service is up.
static PRODUCT_SERVICE_UP: AtomicBool = AtomicBool::new(true);

/// The last good answer per user, served while the service is down.
static USER_CACHE: LazyLock<FallbackCache<u64, User>> = LazyLock::new(FallbackCache::new);

// The design's two breakers; recovery shortened from 30 s / 60 s so the demo takes seconds.

#[circuit_breaker(
    name = "user-service",
    failure_threshold = 3,
    success_threshold = 2,
    recovery_timeout = "800ms",
    fallback = get_user_fallback
)]
fn get_user(id: u64) -> Result<User, ServiceError> {
    if !USER_SERVICE_UP.load(Ordering::SeqCst) {
        println!("    user service: connection refused");
        return Err(ServiceError::Unavailable("connection refused"));
    }
    let user = User {
        id,
        name: format!("user-{id}"),
        cached: false,
    };
    USER_CACHE.put(id, user.clone());
    Ok(user)
}

/// The design's fallback: last good result if fresh, else a placeholder.
fn get_user_fallback(id: u64) -> Result<User, ServiceError> {
    Ok(match USER_CACHE.get(&id) {
        Some(user) => User {
            cached: true,
            ..user
        },
        None => User {
            id,
            name: "Unknown User".into(),
            cached: true,
        },
    })
}

// An async function: the breaker is asked when the future is first polled, and a future
// dropped before it finishes (a client that gave up) counts as nothing.
#[circuit_breaker(
    name = "product-service",
    failure_threshold = 2,
    recovery_timeout = "800ms",
    fallback = get_product_fallback
)]
async fn get_product(id: u64) -> Result<Product, ServiceError> {
    // A network round trip.
    tokio::time::sleep(Duration::from_millis(20)).await;
    if !PRODUCT_SERVICE_UP.load(Ordering::SeqCst) {
        return Err(ServiceError::Unavailable("timed out"));
    }
    Ok(Product {
        id,
        name: "Lamp".into(),
        price: 19.5,
        available: true,
    })
}

/// The fallback of an async function may be sync or async; this one is async.
async fn get_product_fallback(id: u64) -> Result<Product, ServiceError> {
    Ok(Product {
        id,
        name: "Product Unavailable".into(),
        price: 0.0,
        available: false,
    })
}

/// Asks for `ids` at once, one tokio task each, and prints what came back.
async fn get_products(ids: &[u64]) -> Result<(), ServiceError> {
    let tasks: Vec<_> = ids
        .iter()
        .map(|&id| tokio::spawn(get_product(id)))
        .collect();
    for (id, task) in ids.iter().zip(tasks) {
        let product = task.await.expect("the task does not panic")?;
        println!("  get_product({id}) -> {product:?}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), ServiceError> {
    // Both breakers exist before their first call: the attribute declared them.
    println!("0. declared breakers: {:?}", registry().names());
    for breaker in [get_user::breaker(), get_product::breaker()] {
        breaker.on_state_change(|t| println!("    [transition] {t}"));
    }

    println!("1. the user service is up");
    for id in [1, 2] {
        println!("  get_user({id}) -> {:?}", get_user(id)?);
    }

    println!("2. the user service goes down");
    USER_SERVICE_UP.store(false, Ordering::SeqCst);
    for id in [1, 2, 3, 1, 4] {
        println!("  get_user({id}) -> {:?}", get_user(id)?);
    }
    println!("  state: {:?}", registry().state("user-service"));

    println!("3. the service recovers; the breaker waits out its recovery timeout");
    USER_SERVICE_UP.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(900)).await;
    println!("  state: {:?}", registry().state("user-service"));
    for id in [5, 6] {
        println!("  get_user({id}) -> {:?}", get_user(id)?);
    }
    assert_eq!(get_user::breaker().state(), State::Closed);

    println!("4. the async product service answers through its own breaker, from tasks");
    get_products(&[7, 8]).await?;
    println!("  the product service goes down: two failures open its breaker");
    PRODUCT_SERVICE_UP.store(false, Ordering::SeqCst);
    get_products(&[7, 8]).await?;
    println!("  later calls are answered by the fallback without waiting on the service");
    get_products(&[9, 10, 11]).await?;
    println!("  state: {:?}", registry().state("product-service"));
    PRODUCT_SERVICE_UP.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(900)).await;
    get_products(&[12, 13, 14]).await?;
    println!("  state: {:?}", registry().state("product-service"));
    get_product::breaker().force_open();
    println!("  forced open by an operator:");
    get_products(&[15]).await?;
    get_product::breaker().reset();

    println!("5. health report");
    for s in registry().snapshots() {
        println!(
            "  {:<16} {:<10} successes={} failures={} rejected={} fallbacks={}",
            s.name, s.state, s.successes, s.failures, s.rejected, s.fallbacks
        );
    }
    Ok(())
}
