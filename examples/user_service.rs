//! The seed design's user and product services behind circuit breakers with fallbacks.
//!
//! A simulated outage of the user service trips its breaker; while it is open, callers get
//! the last good result from a cache, or a placeholder user, without touching the service.
//! When the service comes back, trial calls close the breaker again. Every transition is
//! printed as it happens. Run it with `cargo run --example user_service`.

use circuit_core::{registry, CircuitError, Config, FallbackCache, State};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::sleep;
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
enum ServiceError {
    Unavailable(&'static str),
}

/// A stand-in for the remote user service, which an operator can take down.
struct UserService {
    up: AtomicBool,
}

impl UserService {
    fn fetch(&self, id: u64) -> Result<User, ServiceError> {
        if !self.up.load(Ordering::SeqCst) {
            return Err(ServiceError::Unavailable("connection refused"));
        }
        Ok(User {
            id,
            name: format!("user-{id}"),
            cached: false,
        })
    }
}

/// The fallback of the seed: last good result if fresh, else a placeholder.
fn get_user_fallback(cache: &FallbackCache<u64, User>, id: u64) -> User {
    match cache.get(&id) {
        Some(user) => User {
            cached: true,
            ..user
        },
        None => User {
            id,
            name: "Unknown User".into(),
            cached: true,
        },
    }
}

fn get_product_fallback(id: u64) -> Product {
    Product {
        id,
        name: "Product Unavailable".into(),
        price: 0.0,
        available: false,
    }
}

fn main() -> Result<(), circuit_core::ConfigError> {
    // The seed's two breakers; recovery shortened from 30 s / 60 s so the demo takes seconds.
    let users = registry().get_or_create(
        "user-service",
        Config::builder()
            .failure_threshold(3)
            .success_threshold(2)
            .recovery_timeout(Duration::from_millis(800))
            .build()?,
    );
    let products = registry().get_or_create(
        "product-service",
        Config::builder()
            .recovery_timeout(Duration::from_millis(800))
            .build()?,
    );
    for breaker in [&users, &products] {
        breaker.on_state_change(|t| println!("    [transition] {t}"));
    }

    let service = Arc::new(UserService {
        up: AtomicBool::new(true),
    });
    let cache: FallbackCache<u64, User> = FallbackCache::new();

    let get_user = |id: u64| -> User {
        match users.call(|| service.fetch(id)) {
            Ok(user) => {
                cache.put(id, user.clone());
                user
            }
            Err(CircuitError::Open(open)) => {
                users.record_fallback();
                println!("    rejected: {open}");
                get_user_fallback(&cache, id)
            }
            Err(CircuitError::Inner(ServiceError::Unavailable(why))) => {
                users.record_fallback();
                println!("    call failed: {why}");
                get_user_fallback(&cache, id)
            }
        }
    };

    println!("1. the user service is up");
    for id in [1, 2] {
        println!("  get_user({id}) -> {:?}", get_user(id));
    }

    println!("2. the user service goes down");
    service.up.store(false, Ordering::SeqCst);
    for id in [1, 2, 3, 1, 4] {
        println!("  get_user({id}) -> {:?}", get_user(id));
    }
    println!("  state: {:?}", registry().state("user-service"));

    println!("3. the service recovers; the breaker waits out its recovery timeout");
    service.up.store(true, Ordering::SeqCst);
    sleep(Duration::from_millis(900));
    println!("  state: {:?}", registry().state("user-service"));
    for id in [5, 6] {
        println!("  get_user({id}) -> {:?}", get_user(id));
    }
    assert_eq!(users.state(), State::Closed);

    println!("4. the product service answers through its own breaker");
    let product = products
        .call(|| {
            Ok::<_, ServiceError>(Product {
                id: 9,
                name: "Lamp".into(),
                price: 19.5,
                available: true,
            })
        })
        .unwrap_or_else(|_| get_product_fallback(9));
    println!("  get_product(9) -> {product:?}");
    products.force_open();
    let product = products
        .call(|| {
            Ok::<_, ServiceError>(Product {
                id: 9,
                name: "Lamp".into(),
                price: 19.5,
                available: true,
            })
        })
        .unwrap_or_else(|_| get_product_fallback(9));
    println!("  get_product(9) while forced open -> {product:?}");
    products.reset();

    println!("5. health report");
    for s in registry().snapshots() {
        println!(
            "  {:<16} {:<10} successes={} failures={} rejected={} fallbacks={}",
            s.name, s.state, s.successes, s.failures, s.rejected, s.fallbacks
        );
    }
    Ok(())
}
