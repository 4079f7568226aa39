//! Helpers shared by the test binaries: breakers on a manual clock, recorded transitions
//! ([`mod.rs`](self)), and driving futures by hand with deliberate panics kept quiet
//! ([`drive`]). Each binary uses some of them.
#![allow(dead_code)]

mod drive;
#[allow(unused_imports)]
pub use drive::*;
pub mod fleet; // fleet instances as separate processes, and the dependency they call
pub mod postgres; // a real PostgreSQL server in a temp dir, for the database tests
pub mod redis_server; // a real Redis server in a temp dir, for the fleet's tests

use circuit_core::clock::ManualClock;
use circuit_core::{CircuitBreaker, CircuitError, Config, Transition};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A breaker with the seed's defaults, driven by a manual clock the test holds.
pub fn breaker_with(builder: circuit_core::ConfigBuilder) -> (CircuitBreaker, ManualClock) {
    let clock = ManualClock::new();
    let config = builder.clock(clock.clone()).build().expect("valid config");
    (CircuitBreaker::new("test", config), clock)
}

pub fn breaker() -> (CircuitBreaker, ManualClock) {
    breaker_with(Config::builder())
}

pub fn succeed(b: &CircuitBreaker) -> Result<u32, CircuitError<&'static str>> {
    b.call(|| Ok(1))
}

pub fn fail(b: &CircuitBreaker) -> Result<u32, CircuitError<&'static str>> {
    b.call(|| Err("boom"))
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The breaker of the tower and HTTP tests (tower, hyper, axum, reqwest): open after
/// `failures` failures in a row, closed again by one successful trial, 30 s of recovery on
/// `clock`.
pub fn strikes(failures: u32, clock: &ManualClock) -> Config {
    Config::builder()
        .failure_threshold(failures)
        .success_threshold(1)
        .half_open_max_calls(1)
        .recovery_timeout(secs(30))
        .clock(clock.clone())
        .build()
        .unwrap()
}

/// Records every transition a breaker announces.
pub fn record_transitions(b: &CircuitBreaker) -> Arc<Mutex<Vec<Transition>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    b.on_state_change(move |t| s.lock().unwrap().push(t.clone()));
    seen
}

/// `(from, to)` of each transition recorded.
pub fn moves(seen: &Mutex<Vec<Transition>>) -> Vec<(circuit_core::State, circuit_core::State)> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|t| (t.from, t.to))
        .collect()
}

/// The error type of the annotated functions in the attribute's tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppError {
    /// The breaker rejected the call, in this state.
    Rejected(circuit_core::State),
    /// The service failed: counts against it.
    Down,
    /// The service answered "not found": excluded where the test says so.
    NotFound,
}

impl From<circuit_core::CircuitOpen> for AppError {
    fn from(open: circuit_core::CircuitOpen) -> Self {
        AppError::Rejected(open.state())
    }
}

/// Whether an error means the service answered (for `exclude`).
pub fn is_not_found(e: &AppError) -> bool {
    *e == AppError::NotFound
}

/// Gives a breaker a manual clock, keeping the rest of its configuration (the attribute's
/// literals).
pub fn manual_clock(breaker: &CircuitBreaker) -> ManualClock {
    let clock = ManualClock::new();
    let config = breaker
        .config()
        .to_builder()
        .clock(clock.clone())
        .build()
        .expect("the breaker's own configuration is valid");
    breaker.reconfigure(config);
    clock
}

/// A real-time bound for tests on real sockets (a client timeout): as given in a normal run,
/// ten times longer under valgrind, where every request runs many times slower
/// (`scripts/leak-check.sh` sets `CIRCUIT_UNDER_VALGRIND`).
pub fn scaled_for_valgrind(base: Duration) -> Duration {
    if std::env::var_os("CIRCUIT_UNDER_VALGRIND").is_some() {
        base * 10
    } else {
        base
    }
}
